# Copyright (c) cgankd_plugin contributors.
"""Pictures of a bank: a labelled sample grid and the filter histogram."""
import math
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np

from ..utils.atomic_io import atomic_write
from .conditions import condition_name
from .histograms import figure_image, filter_figure, label_figure

#: The least width of a labelled grid, in pixels (small tiles are enlarged).
MIN_GRID_WIDTH = 800


def grid_rows(conditions: np.ndarray, max_rows: int) -> np.ndarray:
    """The conditions a grid shows: sorted, at most ``max_rows`` of them
    spread over the range."""
    unique = np.unique(conditions)
    if len(unique) > max_rows:
        unique = unique[np.linspace(0, len(unique) - 1, max_rows).astype(int)]
    return unique


def sample_grid(images: np.ndarray,
                conditions: np.ndarray,
                per_row: int = 10,
                max_rows: int = 10) -> np.ndarray:
    """A grid with one row per condition (the first ``per_row`` samples).

    Args:
        images (np.ndarray): uint8 (N, C, H, W), e.g. a bank's images.
        conditions (np.ndarray): (N,) condition of each image; rows follow
            :func:`grid_rows`.
        per_row (int): Images per row.
        max_rows (int): Rows at most.

    Returns:
        np.ndarray: uint8 HWC image (grey images are shown as RGB), each
        tile in a one-pixel black border.
    """
    rows = grid_rows(conditions, max_rows)
    _, c, h, w = images.shape
    grid = np.zeros((len(rows) * (h + 2), per_row * (w + 2), 3), np.uint8)
    for row, cond in enumerate(rows):
        picks = np.flatnonzero(conditions == cond)[:per_row]
        for col, j in enumerate(picks):
            tile = np.asarray(images[j]).transpose(1, 2, 0)
            if c == 1:
                tile = np.repeat(tile, 3, axis=2)
            y, x = row * (h + 2) + 1, col * (w + 2) + 1
            grid[y:y + h, x:x + w] = tile[..., :3]
    return grid


def _label_column(names: Sequence[str], row_height: int) -> np.ndarray:
    """White names on black, one per ``row_height`` band (HWC uint8)."""
    from PIL import Image, ImageDraw, ImageFont
    size = min(28, max(12, row_height // 3))
    font = ImageFont.load_default(size=size)
    width = int(max(font.getlength(name) for name in names)) + size
    canvas = Image.new('RGB', (width, row_height * len(names)))
    draw = ImageDraw.Draw(canvas)
    for row, name in enumerate(names):
        top = row * row_height + (row_height - size) // 2
        draw.text((size // 2, top), name, fill='white', font=font)
    return np.asarray(canvas)


def labelled_grid(images: np.ndarray,
                  conditions: np.ndarray,
                  class_names: Optional[Sequence[str]] = None,
                  per_row: int = 10,
                  max_rows: int = 10,
                  min_width: int = MIN_GRID_WIDTH) -> np.ndarray:
    """:func:`sample_grid`, enlarged and with each row's name on its left.

    The tiles are enlarged by a whole factor (nearest neighbour: pixels
    stay sharp) until the tiles alone are at least ``min_width`` wide.

    Args:
        images (np.ndarray): uint8 (N, C, H, W).
        conditions (np.ndarray): (N,) condition of each image.
        class_names (Sequence[str], optional): Names by class index (a
            dataset's ``metainfo['classes']``); rows of a class show
            ``'<index> <name>'``, else the index or the label value.
        per_row (int): Images per row.
        max_rows (int): Rows at most.
        min_width (int): The least width of the tiles, in pixels.

    Returns:
        np.ndarray: uint8 HWC image.
    """
    grid = sample_grid(images, conditions, per_row, max_rows)
    scale = max(1, math.ceil(min_width / grid.shape[1]))
    grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    rows = grid_rows(conditions, max_rows)
    names = [condition_name(cond, class_names) for cond in rows]
    column = _label_column(names, grid.shape[0] // len(rows))
    return np.concatenate([column, grid], axis=1)


def save_png(image: np.ndarray, path: str) -> str:
    """Write an HWC uint8 image as PNG (atomically) and return the path."""
    from PIL import Image
    atomic_write(path, lambda f: Image.fromarray(image).save(f, 'PNG'))
    return path


def filter_histogram(summary: dict,
                     path: str,
                     xlabel: str = 'teacher cross-entropy',
                     class_names: Optional[Sequence[str]] = None
                     ) -> np.ndarray:
    """:func:`~.histograms.filter_figure` as a PNG at ``path``.

    Returns:
        np.ndarray: The figure as an HWC uint8 image.
    """
    image = figure_image(filter_figure(summary, xlabel, class_names))
    save_png(image, path)
    return image


def label_histogram(cond_labels: np.ndarray, teacher_labels: np.ndarray,
                    path: str) -> np.ndarray:
    """:func:`~.histograms.label_figure` as a PNG at ``path``.

    Returns:
        np.ndarray: The figure as an HWC uint8 image.
    """
    image = figure_image(label_figure(cond_labels, teacher_labels))
    save_png(image, path)
    return image


def save_bank_pictures(images: np.ndarray,
                       cond_labels: np.ndarray,
                       filter_summary: dict,
                       out_dir: str,
                       regression: bool,
                       class_names: Optional[Sequence[str]] = None,
                       max_rows: int = 20) -> Tuple[np.ndarray, np.ndarray]:
    """``bank_samples.png`` and ``filter_histogram.png`` of a bank.

    Args:
        images (np.ndarray): The bank's images (N, C, H, W), uint8.
        cond_labels (np.ndarray): Their generating conditions.
        filter_summary (dict): The builder's ``filter_summary()``.
        out_dir (str): Where the two PNGs go.
        regression (bool): Whether the filter statistic is a regression
            error (else a cross-entropy).
        class_names (Sequence[str], optional): Names by class index.
        max_rows (int): Conditions in the sample grid at most.

    Returns:
        tuple[np.ndarray, np.ndarray]: The sample grid and the histogram,
        as images (for the runner's visualizer).
    """
    os.makedirs(out_dir, exist_ok=True)
    grid = labelled_grid(images, cond_labels, class_names, max_rows=max_rows)
    save_png(grid, osp.join(out_dir, 'bank_samples.png'))
    hist = filter_histogram(
        filter_summary, osp.join(out_dir, 'filter_histogram.png'),
        xlabel='|teacher - label|' if regression else 'teacher cross-entropy',
        class_names=class_names)
    return grid, hist
