# Copyright (c) cgankd_plugin contributors.
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from bank_utils import K, SHAPE, make_chunk

from cgankd_plugin.synthesis.bank import BankWriter


def write_big_bank(bank_dir, n=300):
    """A finished bank of ``n`` samples in chunks of 50; its arrays."""
    writer = BankWriter(bank_dir, 'k', n, SHAPE, num_soft_classes=K)
    for seed, lo in enumerate(range(0, n, 50)):
        writer.append_chunk(*make_chunk(seed, min(50, n - lo)))
    chunks = [make_chunk(seed, min(50, n - lo))
              for seed, lo in enumerate(range(0, n, 50))]
    arrays = dict(zip(('images', 'cond_labels', 'teacher_labels',
                       'teacher_probs'),
                      (np.concatenate(parts) for parts in zip(*chunks))))
    return writer.finalize(), arrays


def test_bank_array_reads_what_was_written(tmp_path):
    bank, expected = write_big_bank(str(tmp_path / 'bank'))
    rng = np.random.default_rng(1)
    for name, want in expected.items():
        array = getattr(bank, name)
        assert array.shape == want.shape and array.dtype == want.dtype
        assert len(array) == len(want) and array.ndim == want.ndim
        assert array.nbytes == want.nbytes
        for j in rng.integers(0, len(want), 50):
            row = array[j]
            if want.ndim == 1:
                assert isinstance(row, np.generic) and row == want[j]
            else:
                np.testing.assert_array_equal(row, want[j])
                assert not row.flags.writeable
        np.testing.assert_array_equal(array[-1], want[-1])
        np.testing.assert_array_equal(array[int(np.int64(7))], want[7])
        mask = rng.random(len(want)) < 0.3
        for key in (slice(10, 20), slice(None, None, 7), slice(-5, None),
                    slice(290, 400), slice(40, 30), [5, 2, 2, 299],
                    np.array([-1, 0]), mask):
            np.testing.assert_array_equal(array[key], want[key], str(key))
        with pytest.raises(IndexError):
            array[len(want)]
        with pytest.raises(IndexError):
            array[[0, len(want)]]
    images = expected['images']
    np.testing.assert_array_equal(bank.images[3, 1], images[3, 1])
    np.testing.assert_array_equal(bank.images[3:9, :, 2], images[3:9, :, 2])
    np.testing.assert_array_equal(bank.images[..., 0], images[..., 0])
    np.testing.assert_array_equal(
        np.asarray(bank.teacher_probs, np.float64),
        expected['teacher_probs'].astype(np.float64))
    np.testing.assert_array_equal(list(bank.cond_labels),
                                  expected['cond_labels'])


def _mapped_files():
    with open('/proc/self/maps') as f:
        return {line.split(None, 5)[-1].strip() for line in f}


def _open_files():
    fd_dir = '/proc/self/fd'
    targets = set()
    for name in os.listdir(fd_dir):
        try:
            targets.add(os.readlink(osp.join(fd_dir, name)))
        except OSError:
            pass  # the descriptor listdir itself used
    return targets


@pytest.mark.skipif(not osp.exists('/proc/self/maps'),
                    reason='needs /proc (Linux)')
def test_sample_reads_do_not_map_the_bank(tmp_path):
    bank, expected = write_big_bank(str(tmp_path / 'bank'))
    files = {osp.realpath(a.filename) for a in
             (bank.images, bank.cond_labels, bank.teacher_labels,
              bank.teacher_probs)}
    assert not files & _open_files()  # opening reads the headers only
    for _ in range(3):
        for j in range(len(bank)):
            bank.images[j], bank.cond_labels[j], bank.teacher_probs[j]
    assert not files & _mapped_files()
    # one descriptor per array read, however many reads
    assert {osp.realpath(bank.images.filename),
            osp.realpath(bank.cond_labels.filename)} <= _open_files()
    assert osp.realpath(bank.teacher_labels.filename) not in _open_files()
    # bulk access maps the file only while the array is alive
    whole = np.asarray(bank.images)
    np.testing.assert_array_equal(whole, expected['images'])
    assert osp.realpath(bank.images.filename) in _mapped_files()
    del whole
    assert not files & _mapped_files()
    bank.close()
    assert not files & _open_files()
    np.testing.assert_array_equal(bank.images[5], expected['images'][5])


class _BankSamples(torch.utils.data.Dataset):
    """Samples of a bank, with the reader's pid and its descriptor's pid."""

    def __init__(self, bank):
        self.bank = bank

    def __len__(self):
        return len(self.bank)

    def __getitem__(self, j):
        bank = self.bank
        return dict(index=j,
                    image=torch.from_numpy(np.array(bank.images[j])),
                    cond=int(bank.cond_labels[j]),
                    teacher=int(bank.teacher_labels[j]),
                    probs=torch.from_numpy(np.array(bank.teacher_probs[j])),
                    pid=os.getpid(),
                    fd_pid=bank.images._fd_pid)


@pytest.mark.parametrize('pickled', [False, True])
def test_reads_in_forked_dataloader_workers(tmp_path, pickled):
    import multiprocessing
    if 'fork' not in multiprocessing.get_all_start_methods():
        pytest.skip('needs fork')
    bank, expected = write_big_bank(str(tmp_path / 'bank'), n=120)
    bank.images[0]  # the parent's descriptor is open before the fork
    if pickled:  # what a spawned worker would receive
        bank = pickle.loads(pickle.dumps(bank))
    loader = torch.utils.data.DataLoader(
        _BankSamples(bank),
        batch_size=8,
        shuffle=True,
        num_workers=2,
        multiprocessing_context='fork',
        generator=torch.Generator().manual_seed(0))
    seen = []
    pids = set()
    for batch in loader:
        for k in range(len(batch['pid'])):
            j = int(batch['index'][k])
            seen.append(j)
            np.testing.assert_array_equal(batch['image'][k],
                                          expected['images'][j])
            assert batch['cond'][k] == expected['cond_labels'][j]
            assert batch['teacher'][k] == expected['teacher_labels'][j]
            np.testing.assert_array_equal(batch['probs'][k],
                                          expected['teacher_probs'][j])
            # each worker read through a descriptor it opened itself
            assert batch['fd_pid'][k] == batch['pid'][k]
            pids.add(int(batch['pid'][k]))
    assert sorted(seen) == list(range(120))
    assert os.getpid() not in pids and len(pids) == 2
    # the parent's descriptor still works
    np.testing.assert_array_equal(bank.images[119], expected['images'][119])
