# Copyright (c) cgankd_plugin contributors.
"""Pictures of a bank: a sample grid and the filter histogram."""
import os
import os.path as osp
from typing import Sequence, Tuple

import numpy as np

from ..utils.atomic_io import atomic_write


def sample_grid(images: np.ndarray,
                conditions: np.ndarray,
                per_row: int = 10,
                max_rows: int = 10) -> np.ndarray:
    """A grid with one row per condition (the first ``per_row`` samples).

    Args:
        images (np.ndarray): uint8 (N, C, H, W), e.g. a bank's images.
        conditions (np.ndarray): (N,) condition of each image; rows follow
            the sorted unique conditions, at most ``max_rows`` of them
            spread over the range.
        per_row (int): Images per row.
        max_rows (int): Rows at most.

    Returns:
        np.ndarray: uint8 HWC image (grey images are shown as RGB).
    """
    unique = np.unique(conditions)
    if len(unique) > max_rows:
        unique = unique[np.linspace(0, len(unique) - 1, max_rows).astype(int)]
    _, c, h, w = images.shape
    grid = np.zeros((len(unique) * (h + 2), per_row * (w + 2), 3), np.uint8)
    for row, cond in enumerate(unique):
        picks = np.flatnonzero(conditions == cond)[:per_row]
        for col, j in enumerate(picks):
            tile = np.asarray(images[j]).transpose(1, 2, 0)
            if c == 1:
                tile = np.repeat(tile, 3, axis=2)
            y, x = row * (h + 2) + 1, col * (w + 2) + 1
            grid[y:y + h, x:x + w] = tile[..., :3]
    return grid


def save_png(image: np.ndarray, path: str) -> str:
    """Write an HWC uint8 image as PNG (atomically) and return the path."""
    from PIL import Image
    atomic_write(path, lambda f: Image.fromarray(image).save(f, 'PNG'))
    return path


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')  # no display needed
    import matplotlib.pyplot as plt
    return plt


def _save_figure(fig, path: str) -> np.ndarray:
    """Save a matplotlib figure as PNG and return it as an HWC image."""
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    _pyplot().close(fig)
    save_png(image, path)
    return image


def filter_histogram(statistic: Sequence[float],
                     cutoffs: Sequence[float],
                     kept_fraction: float,
                     path: str,
                     xlabel: str = 'teacher cross-entropy') -> np.ndarray:
    """Histogram of the burn-in filter statistic with the cut-off(s).

    Args:
        statistic (np.ndarray): The filter statistic of the burn-in samples.
        cutoffs (np.ndarray): The cut-off of each condition (their median is
            drawn).
        kept_fraction (float): Share of burn-in samples under their cut-off.
        path (str): Where the PNG goes.
        xlabel (str): What the statistic is.

    Returns:
        np.ndarray: The figure as an HWC uint8 image (also saved as PNG).
    """
    plt = _pyplot()
    stat = np.asarray(statistic, dtype=np.float64)
    cut = np.asarray(cutoffs, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.hist(stat[np.isfinite(stat)], bins=50, color='#4c72b0')
    finite = cut[np.isfinite(cut)]
    if len(finite):
        ax.axvline(float(np.median(finite)), color='#c44e52', ls='--',
                   label=f'cut-off (median of {len(finite)}): '
                   f'{np.median(finite):.3g}')
        ax.legend()
    ax.set_xlabel(xlabel)
    ax.set_ylabel('burn-in samples')
    ax.set_title(f'teacher filter: {kept_fraction:.0%} of burn-in samples '
                 'kept')
    return _save_figure(fig, path)


def label_histogram(cond_labels: np.ndarray, teacher_labels: np.ndarray,
                    path: str) -> np.ndarray:
    """Histogram of a bank's generating labels beside the teacher's labels.

    Returns:
        np.ndarray: The figure as an HWC uint8 image (also saved as PNG).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    both = np.concatenate([cond_labels, teacher_labels]).astype(np.float64)
    bins = np.histogram_bin_edges(both, bins=min(50, len(np.unique(both))))
    ax.hist(cond_labels, bins=bins, alpha=0.6, label='generated for')
    ax.hist(teacher_labels, bins=bins, alpha=0.6, label='teacher label')
    ax.set_xlabel('label')
    ax.set_ylabel('samples')
    ax.legend()
    return _save_figure(fig, path)


def save_bank_pictures(images: np.ndarray, cond_labels: np.ndarray,
                       filter_summary: dict, out_dir: str,
                       regression: bool) -> Tuple[np.ndarray, np.ndarray]:
    """``bank_samples.png`` and ``filter_histogram.png`` of a bank.

    Args:
        images (np.ndarray): The bank's images (N, C, H, W), uint8.
        cond_labels (np.ndarray): Their generating conditions.
        filter_summary (dict): The builder's ``filter_summary()``.
        out_dir (str): Where the two PNGs go.
        regression (bool): Whether the filter statistic is a regression
            error (else a cross-entropy).

    Returns:
        tuple[np.ndarray, np.ndarray]: The sample grid and the histogram,
        as images (for the runner's visualizer).
    """
    os.makedirs(out_dir, exist_ok=True)
    grid = sample_grid(images, cond_labels)
    save_png(grid, osp.join(out_dir, 'bank_samples.png'))
    hist = filter_histogram(
        filter_summary['statistic'], filter_summary['cutoffs'],
        filter_summary['kept_fraction'],
        osp.join(out_dir, 'filter_histogram.png'),
        xlabel='|teacher - label|' if regression else 'teacher cross-entropy')
    return grid, hist
