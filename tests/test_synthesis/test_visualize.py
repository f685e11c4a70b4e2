# Copyright (c) cgankd_plugin contributors.
"""Pictures of a bank: the sample grid and the filter histogram."""
import os

import numpy as np
from PIL import Image

from cgankd_plugin.synthesis.visualize import (filter_histogram,
                                               label_histogram,
                                               labelled_grid,
                                               save_bank_pictures,
                                               sample_grid, save_png)


def _images(n, c=3, h=6, w=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 256, (n, c, h, w), dtype=np.uint8)


def test_grid_shape_and_tiles():
    images = _images(12)
    conditions = np.array([2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1])
    grid = sample_grid(images, conditions, per_row=3)
    h, w = 6, 5
    assert grid.shape == (3 * (h + 2), 3 * (w + 2), 3)
    assert grid.dtype == np.uint8
    for row, cond in enumerate([0, 1, 2]):
        picks = np.flatnonzero(conditions == cond)[:3]
        for col, j in enumerate(picks):
            y, x = row * (h + 2) + 1, col * (w + 2) + 1
            np.testing.assert_array_equal(grid[y:y + h, x:x + w],
                                          images[j].transpose(1, 2, 0))
    # a one-pixel border around the tiles stays black
    assert not grid[0].any() and not grid[:, 0].any()


def test_grey_tiles_are_shown_as_rgb():
    images = _images(2, c=1)
    grid = sample_grid(images, np.array([0, 0]), per_row=2)
    tile = grid[1:7, 1:6]
    for ch in range(3):
        np.testing.assert_array_equal(tile[..., ch], images[0, 0])


def test_rows_are_capped_and_spread():
    images = _images(20, h=2, w=2)
    conditions = np.arange(20)
    grid = sample_grid(images, conditions, per_row=1, max_rows=5)
    assert grid.shape == (5 * 4, 4, 3)
    shown = np.linspace(0, 19, 5).astype(int)  # 0, 4, 9, 14, 19
    for row, j in enumerate(shown):
        np.testing.assert_array_equal(grid[row * 4 + 1:row * 4 + 3, 1:3],
                                      images[j].transpose(1, 2, 0))


def _summary(num_classes=3, per_class=60, seed=0):
    """A builder's ``filter_summary()`` of an exponential statistic."""
    rng = np.random.default_rng(seed)
    conditions = np.repeat(np.arange(num_classes), per_class)
    stat = rng.exponential(1.0 + conditions, len(conditions))
    cutoffs = np.array([np.quantile(stat[conditions == c], 0.9)
                        for c in range(num_classes)])
    return dict(statistic=stat, conditions=conditions, cutoffs=cutoffs,
                kept_fraction=0.9, per_condition=True, quantile=0.9,
                threshold=None)


def test_labelled_grid_is_wide_and_names_its_rows():
    """32-pixel tiles, 10 a row (340 pixels) are enlarged 3 times, a row
    name column on their left; the tiles stay exact (nearest neighbour)."""
    images = _images(30, h=32, w=32)
    conditions = np.repeat([0, 1, 2], 10)
    names = ['airplane', 'automobile', 'bird']
    grid = labelled_grid(images, conditions, names)
    tiles = np.repeat(np.repeat(sample_grid(images, conditions), 3, 0), 3, 1)
    assert grid.shape[0] == tiles.shape[0] == 3 * 34 * 3
    assert tiles.shape[1] == 1020 and grid.shape[1] > 1020
    margin = grid.shape[1] - tiles.shape[1]
    np.testing.assert_array_equal(grid[:, margin:], tiles)
    # each row's band of the name column carries text, different per row
    bands = [grid[r * 102:(r + 1) * 102, :margin] for r in range(3)]
    assert all(band.any() for band in bands)
    assert not np.array_equal(bands[0], bands[1])
    # without names the rows carry their index: a narrower column
    plain = labelled_grid(images, conditions)
    assert plain.shape[1] - 1020 < margin


def test_large_tiles_are_not_enlarged():
    images = _images(4, h=100, w=100)
    grid = labelled_grid(images, np.array([0, 0, 1, 1]), per_row=2,
                         min_width=200)
    assert grid.shape[0] == 2 * 102


def test_bank_pictures_name_the_classes(tmp_path):
    images = _images(30, h=28, w=28, c=1)
    conditions = np.repeat([0, 1, 2], 10)
    grid, _ = save_bank_pictures(images, conditions, _summary(),
                                 str(tmp_path), regression=False,
                                 class_names=['a', 'b', 'c'])
    with Image.open(tmp_path / 'bank_samples.png') as png:
        assert png.size == (grid.shape[1], grid.shape[0])
        assert png.size[0] >= 800
    assert os.path.getsize(tmp_path / 'filter_histogram.png') > 1000


def test_histogram_png_is_written(tmp_path):
    path = str(tmp_path / 'sub' / 'hist.png')
    summary = _summary()
    summary['statistic'][0] = np.inf  # not drawn
    image = filter_histogram(summary, path)
    assert os.path.getsize(path) > 1000
    with Image.open(path) as png:
        assert png.format == 'PNG'
        assert png.size == (image.shape[1], image.shape[0])
        np.testing.assert_array_equal(np.asarray(png.convert('RGB')), image)
    assert image.ndim == 3 and image.shape[2] == 3
    assert image.std() > 0  # not a blank canvas
    assert os.listdir(tmp_path / 'sub') == ['hist.png']  # no temp file left


def test_label_histogram_png(tmp_path):
    path = str(tmp_path / 'labels.png')
    image = label_histogram(np.repeat(np.arange(5), 4),
                            np.arange(20) % 5, path)
    assert os.path.getsize(path) > 1000 and image.shape[2] == 3


def test_save_png_roundtrip(tmp_path):
    image = _images(1, h=7, w=9)[0].transpose(1, 2, 0).copy()
    path = save_png(image, str(tmp_path / 'x.png'))
    with Image.open(path) as png:
        np.testing.assert_array_equal(np.asarray(png), image)


def test_grid_with_short_rows():
    # fewer images than per_row: the rest of the row stays black
    images = _images(2, h=4, w=4)
    grid = sample_grid(images, np.zeros(2), per_row=3)
    assert grid.shape == (6, 18, 3)
    assert not grid[:, 13:].any()
