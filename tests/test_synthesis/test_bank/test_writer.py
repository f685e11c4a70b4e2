# Copyright (c) cgankd_plugin contributors.
import errno
import os
import tracemalloc

import numpy as np
import pytest
from bank_utils import K, SHAPE, expected_arrays, make_chunk, write_bank

from cgankd_plugin.synthesis.bank import (BankArray, BankError, BankWriter,
                                          SyntheticBank)
from cgankd_plugin.synthesis.bank import format as bank_format


def test_roundtrip(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    writer = write_bank(bank_dir, settings={'tau': 0.5})
    assert writer.num_committed == 10 and writer.is_full
    bank = writer.finalize(meta={'acceptance_rate': 0.25})
    images, cond, teacher, probs = expected_arrays((4, 0, 4, 5), 10)
    reopened = SyntheticBank.open(bank_dir, expected_key='k')
    for b in (bank, reopened):
        assert len(b) == 10 and b.key == 'k' and b.path == bank_dir
        np.testing.assert_array_equal(b.images, images)
        np.testing.assert_array_equal(b.cond_labels, cond)
        np.testing.assert_array_equal(b.teacher_labels, teacher)
        np.testing.assert_array_equal(b.teacher_probs, probs)
        for arr in (b.images, b.cond_labels, b.teacher_labels,
                    b.teacher_probs):
            assert isinstance(arr, BankArray)
            assert not np.asarray(arr).flags.writeable
        assert b.teacher_labels.dtype == np.int64
        assert b.teacher_probs.dtype == np.float32
    meta = reopened.meta
    assert meta['settings'] == {'tau': 0.5}
    assert meta['acceptance_rate'] == 0.25
    assert meta['image_shape'] == list(SHAPE)
    assert set(meta['files']) == {
        'images', 'cond_labels', 'teacher_labels', 'teacher_probs'
    }
    # only the bank files remain; no partial/old directory next to it
    assert sorted(os.listdir(bank_dir)) == [
        'cond_labels.npy', 'images.npy', 'meta.json', 'teacher_labels.npy',
        'teacher_probs.npy'
    ]
    assert sorted(os.listdir(tmp_path)) == ['bank']
    assert SyntheticBank.is_complete(bank_dir)
    assert SyntheticBank.is_complete(bank_dir, key='k')
    assert not SyntheticBank.is_complete(bank_dir, key='other')


def test_float_labels_without_probs(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    writer = BankWriter(bank_dir, 'k', 6, SHAPE, label_dtype='float32')
    parts = make_chunk(7, 6, soft=False, float_labels=True)
    writer.append_chunk(*parts)
    bank = writer.finalize()
    assert bank.teacher_probs is None
    assert bank.teacher_labels.dtype == np.float32
    np.testing.assert_array_equal(bank.teacher_labels, parts[2])


def test_a_new_writer_wipes_what_a_killed_one_left(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    write_bank(bank_dir, key='old', sizes=(4, 3))  # never finalized
    partial = bank_dir + '.partial'
    assert os.path.isdir(partial)
    writer = write_bank(bank_dir, sizes=(4, 0, 4, 5))
    bank = writer.finalize()
    assert bank.key == 'k' and not os.path.exists(partial)
    np.testing.assert_array_equal(bank.images,
                                  expected_arrays((4, 0, 4, 5), 10)[0])


def test_truncates_to_num_samples(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    writer = write_bank(bank_dir, sizes=(3, 4), num_samples=5)
    assert writer.num_committed == 5 and writer.is_full
    # samples after the bank is full are dropped
    writer.append_chunk(*make_chunk(2, 2))
    assert writer.num_committed == 5
    bank = writer.finalize()
    images, cond, _, probs = expected_arrays((3, 4), 5)
    assert len(bank) == 5 and bank.images.shape == (5, ) + SHAPE
    np.testing.assert_array_equal(bank.images, images)
    np.testing.assert_array_equal(bank.teacher_probs, probs)


def test_finalize_before_full_raises(tmp_path):
    writer = write_bank(str(tmp_path / 'bank'), sizes=(4, ))
    with pytest.raises(BankError, match='4/10'):
        writer.finalize()


def test_finalize_replaces_stale_bank_atomically(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    write_bank(bank_dir, key='old').finalize()
    old_images = np.array(SyntheticBank.open(bank_dir).images)

    writer = BankWriter(bank_dir, 'new', 4, SHAPE, num_soft_classes=K)
    new_parts = make_chunk(99, 4)
    writer.append_chunk(*new_parts)
    # until finalize, the old bank is untouched and readable
    before = SyntheticBank.open(bank_dir, expected_key='old')
    np.testing.assert_array_equal(before.images, old_images)
    writer.finalize()
    after = SyntheticBank.open(bank_dir, expected_key='new')
    np.testing.assert_array_equal(after.images, new_parts[0])
    assert sorted(os.listdir(tmp_path)) == ['bank']
    with pytest.raises(BankError):
        writer.append_chunk(*make_chunk(1, 1))


def test_unwritable_location(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a directory')
    bank_dir = str(blocker / 'bank')
    with pytest.raises(BankError) as info:
        BankWriter(bank_dir, 'k', 4, SHAPE)
    assert bank_dir + '.partial' in str(info.value)


@pytest.mark.parametrize('field,args,match', [
    ('images', dict(images=np.zeros((2, ) + SHAPE, np.float32)), 'images'),
    ('images', dict(images=np.zeros((2, 1, 4, 4), np.uint8)), 'images'),
    ('cond', dict(cond_labels=np.zeros(3, np.int64)), 'cond_labels'),
    ('teacher', dict(teacher_labels=np.zeros(2, np.float32)),
     'teacher_labels'),
    ('probs', dict(teacher_probs=None), 'teacher_probs'),
    ('probs', dict(teacher_probs=np.zeros((2, 3), np.float32)),
     'teacher_probs'),
])
def test_append_validation(tmp_path, field, args, match):
    writer = BankWriter(str(tmp_path / 'bank'),
                        'k',
                        4,
                        SHAPE,
                        num_soft_classes=K)
    images, cond, teacher, probs = make_chunk(0, 2)
    kwargs = dict(images=images,
                  cond_labels=cond,
                  teacher_labels=teacher,
                  teacher_probs=probs)
    kwargs.update(args)
    with pytest.raises(ValueError, match=match):
        writer.append_chunk(**kwargs)
    assert writer.num_committed == 0


def test_memory_does_not_grow_with_bank(tmp_path):
    # 40 blocks of 50 images: the bank is ~6 MiB, a block ~150 KiB
    shape = (3, 32, 32)
    rng = np.random.default_rng(0)
    tracemalloc.start()
    try:
        writer = BankWriter(str(tmp_path / 'bank'), 'k', 2000, shape)
        for _ in range(40):
            writer.append_chunk(
                rng.integers(0, 256, (50, ) + shape, dtype=np.uint8),
                np.zeros(50, np.int64), np.zeros(50, np.int64))
        bank = writer.finalize()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert bank.images.nbytes > 6e6
    assert peak < 2.5e6, peak
    # opening and verifying does not load the images either
    tracemalloc.start()
    try:
        SyntheticBank.open(bank.path, verify=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2.5e6, peak


def test_npz_files_are_written_atomically(tmp_path):
    path = str(tmp_path / 'shard.npz')
    bank_format.save_npz(path, dict(a=np.arange(3), b=np.ones((2, 2))))
    assert sorted(os.listdir(tmp_path)) == ['shard.npz']
    np.testing.assert_array_equal(bank_format.load_npz(path)['a'],
                                  np.arange(3))
    assert list(bank_format.load_npz(path, ('b', 'c'))) == ['b']


def test_a_full_disk_names_the_file_and_leaves_no_torn_one(
        tmp_path, monkeypatch):
    """No space left while writing a build file: a clear error naming the
    file and what to do; the file is absent, not half-written, and the
    files written before it stay."""
    path = str(tmp_path / 'shard_00002.npz')
    bank_format.save_npz(str(tmp_path / 'shard_00001.npz'), dict(a=[1]))

    def savez_on_a_full_disk(f, **arrays):
        f.write(b'partial')
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(bank_format.np, 'savez', savez_on_a_full_disk)
    with pytest.raises(BankError) as err:
        bank_format.save_npz(path, dict(a=np.arange(3)))
    msg = str(err.value)
    assert 'No space left' in msg and 'shard_00002' in msg
    assert 'run again to resume' in msg
    assert os.listdir(tmp_path) == ['shard_00001.npz']
