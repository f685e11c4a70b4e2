# Copyright (c) cgankd_plugin contributors.
"""TeacherAdapter: uint8 bank images -> the network's features and outputs."""
import torch

from cgankd_plugin.registry import MODELS
from cgankd_plugin.synthesis import TeacherAdapter


def _preprocessor():
    return dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=10,
        mean=[120.0, 110.0, 100.0],
        std=[60.0, 50.0, 40.0],
        to_rgb=False)


def _classifier(head=None):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(type='mmrazor.ResNetCIFAR', arch='resnet8'),
            neck=dict(type='mmpretrain.GlobalAveragePooling'),
            head=head or dict(
                type='mmpretrain.LinearClsHead', num_classes=10,
                in_channels=64),
            data_preprocessor=_preprocessor()))


def _images(n=3, c=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, c, 16, 16), dtype=torch.uint8,
                         generator=gen)


def test_classification_features_and_logits_match_the_model():
    model = _classifier()
    model.train()
    adapter = TeacherAdapter(model)
    images = _images()
    feats, logits = adapter(images)
    assert feats.shape == (3, 64) and logits.shape == (3, 10)
    assert feats.dtype == logits.dtype == torch.float32
    # the model's own eval-mode path on the normalised images
    model.eval()
    mean = torch.tensor([120.0, 110.0, 100.0]).view(1, 3, 1, 1)
    std = torch.tensor([60.0, 50.0, 40.0]).view(1, 3, 1, 1)
    with torch.no_grad():
        x = (images.float() - mean) / std
        expected_logits = model(x, mode='tensor')
        expected_feats = model.extract_feat(x)[-1]
    torch.testing.assert_close(logits, expected_logits)
    torch.testing.assert_close(feats, expected_feats)
    # the adapter put the model back into the mode it found
    model.train()
    adapter(images)
    assert model.training
    assert all(m.training for m in model.modules())


def test_explicit_preprocessor_is_used():
    model = _classifier()
    other = MODELS.build(
        dict(
            type='mmpretrain.ClsDataPreprocessor',
            num_classes=10,
            mean=[0.0] * 3,
            std=[255.0] * 3))
    images = _images()
    _, default = TeacherAdapter(model)(images)
    _, custom = TeacherAdapter(model, other)(images)
    assert not torch.allclose(default, custom)
    model.eval()
    with torch.no_grad():
        expected = model(images.float() / 255.0, mode='tensor')
    torch.testing.assert_close(custom, expected)


def test_grey_images_are_repeated_to_three_channels():
    model = _classifier()
    adapter = TeacherAdapter(model)
    grey = _images(c=1)
    _, out_grey = adapter(grey)
    _, out_rgb = adapter(grey.expand(-1, 3, -1, -1).contiguous())
    torch.testing.assert_close(out_grey, out_rgb)


def test_regression_head_gives_values_in_original_units():
    model = _classifier(
        head=dict(
            type='mmrazor.RegressionHead',
            in_channels=64,
            label_range=(1.0, 61.0)))
    adapter = TeacherAdapter(model)
    assert adapter.is_regression
    images = _images(n=4)
    feats, values = adapter(images)
    assert feats.shape == (4, 64) and values.shape == (4, )
    model.eval()
    with torch.no_grad():
        x = model.data_preprocessor(dict(inputs=images), False)['inputs']
        normalised = model.head(model.extract_feat(x))
    torch.testing.assert_close(values, normalised * 60.0 + 1.0)
