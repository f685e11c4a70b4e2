# Copyright (c) cgankd_plugin contributors.
import mmcv
import numpy as np
import pytest
import torch

from cgankd_plugin.structures import DatasetImages, TensorImages


class CountingSet:
    """A raw dataset that counts the images it hands out."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels
        self.image_reads = 0

    def __len__(self):
        return len(self.labels)

    def get_data_info(self, idx):
        set_ = self

        class Info(dict):

            def get(self, key, default=None):
                if key == 'img':
                    set_.image_reads += 1
                return super().get(key, default)

        return Info(img=self.images[idx], gt_label=int(self.labels[idx]))


def grey_set(num=10, side=12):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (num, side, side), dtype=np.uint8)
    return CountingSet(images, np.arange(num) % 3)


def test_only_the_images_read_are_decoded():
    raw = grey_set()
    real = DatasetImages(raw, 12, lambda info: info['gt_label'])
    assert raw.image_reads == 1  # the first image, for its channels
    assert (len(real), real.channels, real.img_size) == (10, 1, 12)
    assert torch.equal(real.labels, torch.arange(10) % 3)
    batch = real.read(torch.tensor([7, 2]))
    assert raw.image_reads == 3
    assert batch.dtype == torch.uint8 and batch.shape == (2, 1, 12, 12)
    assert torch.equal(batch[0, 0], torch.from_numpy(raw.images[7]))
    sizes = [len(b) for b in real.batches(4)]
    assert sizes == [4, 4, 2]


def test_images_are_resized_to_the_gan_size():
    raw = grey_set(side=20)
    real = DatasetImages(raw, 8, lambda info: info['gt_label'])
    expected = mmcv.imresize(raw.images[3], (8, 8))
    assert torch.equal(real.read([3])[0, 0], torch.from_numpy(expected))


def test_the_digest_is_the_contents_not_the_holder():
    raw = grey_set()
    streamed = DatasetImages(raw, 12, lambda info: info['gt_label'])
    in_memory = TensorImages(
        torch.from_numpy(raw.images[:, None].copy()),
        torch.arange(10) % 3)
    assert streamed.digest(3) == in_memory.digest(7)
    other = TensorImages(in_memory.images.flip(0), in_memory.labels)
    assert other.digest() != in_memory.digest()


def test_images_from_files(tmp_path):
    rng = np.random.default_rng(1)
    infos = []
    for i in range(3):
        image = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        path = str(tmp_path / f'{i}.png')
        mmcv.imwrite(image, path)
        infos.append(dict(img_path=path, gt_label=i, image=image))

    class Files:

        def __len__(self):
            return len(infos)

        def get_data_info(self, idx):
            return dict(img_path=infos[idx]['img_path'], gt_label=idx)

    real = DatasetImages(Files(), 6, lambda info: info['gt_label'])
    assert real.channels == 3
    # as mmcv reads a file (BGR), channel first
    np.testing.assert_array_equal(
        real.read([2])[0].numpy(), infos[2]['image'].transpose(2, 0, 1))
    infos[1]['img_path'] = str(tmp_path / 'gone.png')
    with pytest.raises(FileNotFoundError, match='gone.png'):
        real.read([1])


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match='empty'):
        DatasetImages(CountingSet(np.zeros((0, 4, 4), np.uint8),
                                  np.zeros(0)), 4, lambda info: 0)
    with pytest.raises(TypeError, match='uint8'):
        TensorImages(torch.zeros(2, 1, 4, 4), torch.zeros(2))
    with pytest.raises(ValueError, match='square'):
        TensorImages(torch.zeros(2, 1, 4, 5, dtype=torch.uint8),
                     torch.zeros(2))
    with pytest.raises(ValueError, match='2 labels'):
        TensorImages(torch.zeros(2, 1, 4, 4, dtype=torch.uint8),
                     torch.zeros(3))
    mixed = grey_set()
    mixed.images = list(mixed.images)
    mixed.images[4] = np.zeros((12, 12, 3), np.uint8)
    real = DatasetImages(mixed, 12, lambda info: info['gt_label'])
    with pytest.raises(ValueError, match='real image 4 has 3 channels'):
        real.read([4])
