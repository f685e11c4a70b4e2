# Copyright (c) cgankd_plugin contributors.
"""WeightedCRDLoss applies the loss weight that mmrazor's CRDLoss drops."""
import torch
from mmpretrain.structures import DataSample

from cgankd_plugin.models.losses.weighted_crd_loss import WeightedCRDLoss
from cgankd_plugin.registry import MODELS

DIM, NEG, N, BATCH = 8, 4, 16, 3


def _samples(dtype=torch.long) -> list:
    gen = torch.Generator().manual_seed(1)
    samples = []
    for idx in (2, 9, 15):
        sample = DataSample()
        sample.set_field(torch.tensor(idx), 'sample_idx')
        negatives = torch.randint(0, N, (NEG, ), generator=gen)
        sample.set_field(
            torch.cat([torch.tensor([idx]), negatives]).to(dtype),
            'contrast_sample_idxs')
        samples.append(sample)
    return samples


def _loss(type_: str, loss_weight: float,
          dtype=torch.long) -> torch.Tensor:
    torch.manual_seed(0)  # the memory bank starts random
    loss = MODELS.build(
        dict(
            type=type_,
            loss_weight=loss_weight,
            dim_out=DIM,
            neg_num=NEG,
            sample_n=N))
    gen = torch.Generator().manual_seed(2)
    s_feats = torch.nn.functional.normalize(
        torch.randn(BATCH, DIM, generator=gen), dim=1)
    t_feats = torch.nn.functional.normalize(
        torch.randn(BATCH, DIM, generator=gen), dim=1)
    return loss(s_feats, t_feats, _samples(dtype))


def test_loss_weight_scales_the_loss():
    assert MODELS.get('WeightedCRDLoss') is WeightedCRDLoss
    full = _loss('WeightedCRDLoss', 1.0)
    weighted = _loss('WeightedCRDLoss', 0.8)
    assert torch.isfinite(full).all() and full.abs().sum() > 0
    torch.testing.assert_close(weighted, 0.8 * full)
    torch.testing.assert_close(_loss('CRDLoss', 1.0), full)


def test_mmrazor_crd_loss_still_ignores_its_weight():
    """Why the subclass exists; if this fails, mmrazor fixed it upstream."""
    torch.testing.assert_close(_loss('CRDLoss', 0.8), _loss('CRDLoss', 1.0))


def test_int32_contrast_indices_give_the_same_loss():
    # CRDContrastDataset sends int32 indices (half the bytes)
    assert torch.equal(
        _loss('WeightedCRDLoss', 0.8, torch.int32),
        _loss('WeightedCRDLoss', 0.8, torch.long))
