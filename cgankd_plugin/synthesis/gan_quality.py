# Copyright (c) cgankd_plugin contributors.
"""A quality figure of a trained cGAN, from the teacher's point of view.

Not the Inception FID: the Frechet distance between Gaussians fitted to the
*teacher's* penultimate features of real and generated images, their
precision and recall (realism and coverage), plus how often the teacher
agrees with the class (or label) an image was generated for. They need
nothing beyond the teacher, so runs of one set-up can be compared by
them; numbers from different teachers cannot.
"""
from typing import Dict, Tuple

import numpy as np
import torch

from ..structures import RealImages
from ..utils.atomic_io import atomic_write_json, read_json
from .teacher_adapter import TeacherAdapter

# bumped when the figures computed change; a cached record of another
# version is computed again
QUALITY_VERSION = 2


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """The square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets.

    ``tr sqrtm(A B)`` is taken as the sum of the square roots of the
    eigenvalues of ``A^1/2 B A^1/2`` (similar to ``A B``, but symmetric),
    which stays real and finite on singular covariances (few samples,
    wide features).

    Raises:
        ValueError: If the features are not finite.
    """
    feats_a = np.asarray(feats_a, np.float64)
    feats_b = np.asarray(feats_b, np.float64)
    if not (np.isfinite(feats_a).all() and np.isfinite(feats_b).all()):
        raise ValueError('frechet_distance: the features are not finite')
    mu_a, mu_b = feats_a.mean(0), feats_b.mean(0)
    cov_a = np.atleast_2d(np.cov(feats_a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(feats_b, rowvar=False))
    root_a = _sqrt_psd(cov_a)
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_covmean = float(np.sqrt(np.clip(middle, 0, None)).sum())
    diff = mu_a - mu_b
    return float(
        diff.dot(diff) + np.trace(cov_a) + np.trace(cov_b) -
        2 * trace_covmean)


def precision_recall(real_feats: np.ndarray,
                     fake_feats: np.ndarray,
                     k: int = 3) -> Tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al., 2019).

    Each set's manifold is the union of balls around its points, of radius
    the distance to the ``k``-th nearest neighbour in the set. Precision:
    the share of fakes inside the real manifold (are they realistic?);
    recall: the share of real points inside the fake manifold (do the
    fakes cover the real data?). A filter raises precision; only a more
    diverse generator raises recall.

    Args:
        real_feats (np.ndarray): ``(N, D)`` features of real images.
        fake_feats (np.ndarray): ``(M, D)`` features of generated ones.
        k (int): The neighbour that sets a ball's radius.

    Returns:
        tuple[float, float]: precision and recall, in [0, 1].
    """
    real = torch.as_tensor(np.asarray(real_feats), dtype=torch.float64)
    fake = torch.as_tensor(np.asarray(fake_feats), dtype=torch.float64)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f'precision_recall: each set needs more than k={k} '
                         f'points, got {len(real)} real and {len(fake)} '
                         'fake')

    def radii(points: torch.Tensor) -> torch.Tensor:
        dist = torch.cdist(points, points)
        dist.fill_diagonal_(float('inf'))
        return dist.topk(k, largest=False).values[:, -1]

    cross = torch.cdist(fake, real)  # (fakes, reals)
    precision = (cross <= radii(real)[None]).any(1).double().mean()
    recall = (cross.T <= radii(fake)[None]).any(1).double().mean()
    return float(precision), float(recall)


def teacher_features(teacher: TeacherAdapter, images: torch.Tensor,
                     batch_size: int):
    """The teacher's penultimate features (float64, NumPy) and outputs
    (CPU) of uint8 ``images``, ``batch_size`` at a time."""
    feats, outs = [], []
    for i in range(0, len(images), batch_size):
        f, o = teacher(images[i:i + batch_size])
        feats.append(f.cpu())
        outs.append(o.cpu())
    return torch.cat(feats).double().numpy(), torch.cat(outs)


@torch.no_grad()
def teacher_gan_quality(gan,
                        teacher: TeacherAdapter,
                        real: RealImages,
                        num_samples: int = 2000,
                        batch_size: int = 256,
                        seed: int = 0,
                        label_range=(0.0, 1.0)) -> Dict[str, float]:
    """Teacher-feature Frechet distance and label agreement of a cGAN.

    Fakes are generated for the labels of a random draw of real images, so
    both sets have the same label distribution; only the drawn real images
    are read.

    Args:
        gan (BaseConditionalGAN): The trained cGAN.
        teacher (TeacherAdapter): The teacher (or filtering network).
        real (RealImages): The real images and their cGAN labels.
        num_samples (int): Images per side (at most N).
        batch_size (int): Batch size.
        seed (int): Seed of the draw.
        label_range (tuple): Regression: the (low, high) that normalised
            labels map to, to report the error in original units.

    Returns:
        dict: ``teacher_fd`` (lower is better), ``teacher_precision`` and
        ``teacher_recall`` (:func:`precision_recall`, of the teacher's
        features) and ``teacher_accuracy`` on the fakes (classification)
        or ``teacher_mae`` (regression).
    """
    from .builder.rng import seeded, to_uint8
    rng = seeded(seed, 9)
    n = min(num_samples, len(real))
    pick = torch.randperm(len(real), generator=rng)[:n]
    labels = real.labels[pick]
    fakes = torch.cat([
        to_uint8(
            gan.sample(labels[i:i + batch_size].to(gan.device),
                       rng=rng)).cpu() for i in range(0, n, batch_size)
    ])
    real_feats, _ = teacher_features(teacher, real.read(pick), batch_size)
    fake_feats, fake_out = teacher_features(teacher, fakes, batch_size)
    precision, recall = precision_recall(real_feats, fake_feats)
    result = dict(
        version=QUALITY_VERSION,
        teacher_fd=frechet_distance(real_feats, fake_feats),
        teacher_precision=precision,
        teacher_recall=recall)
    if gan.is_continuous:
        # the adapter reports values in original units; labels are [0, 1]
        low, high = label_range
        target = low + labels.float() * (high - low)
        result['teacher_mae'] = float((fake_out.float() - target).abs().mean())
    else:
        result['teacher_accuracy'] = float(
            (fake_out.argmax(1) == labels).float().mean())
    return result


def cached_gan_quality(path: str, generator_hash: str, gan,
                       teacher: TeacherAdapter, real: RealImages,
                       **kwargs) -> Dict:
    """:func:`teacher_gan_quality`, computed once per generator.

    The figures are kept in ``path`` with the generator's weights hash
    and :data:`QUALITY_VERSION`; a later call for the same weights (a
    resumed run, another student loading the cGAN) reads them back.

    Args:
        path (str): The JSON file of the figures.
        generator_hash (str): The hash of the cGAN's weights.
        gan (BaseConditionalGAN): The trained cGAN.
        teacher (TeacherAdapter): The teacher (or filtering network).
        real (RealImages): The real images and their cGAN labels.
        **kwargs: The other arguments of :func:`teacher_gan_quality`.

    Returns:
        dict: The figures, with ``generator`` and ``version``.
    """
    quality = read_json(path)
    if (not quality or quality.get('generator') != generator_hash
            or quality.get('version') != QUALITY_VERSION):
        quality = teacher_gan_quality(gan, teacher, real, **kwargs)
        quality['generator'] = generator_hash
        atomic_write_json(path, quality)
    return quality
