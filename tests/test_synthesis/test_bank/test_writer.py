# Copyright (c) cgankd_plugin contributors.
import os
import tracemalloc

import numpy as np
import pytest
from bank_utils import (K, SHAPE, chunk_files, expected_arrays, make_chunk,
                        write_bank)

from cgankd_plugin.synthesis.bank import (BankArray, BankError, BankWriter,
                                          SyntheticBank)


def test_roundtrip(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    writer = write_bank(bank_dir, settings={'tau': 0.5})
    assert writer.num_chunks == 4 and writer.num_committed == 10
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
    assert meta['num_chunks'] == 4
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


def test_resume_after_crash_matches_uninterrupted(tmp_path):
    sizes = (3, 0, 4, 6)
    straight = write_bank(str(tmp_path / 'a'), sizes=sizes).finalize()

    bank_dir = str(tmp_path / 'b')
    writer = write_bank(bank_dir, sizes=sizes[:2])
    del writer  # killed after two rounds
    resumed = BankWriter(bank_dir, 'k', 10, SHAPE, num_soft_classes=K)
    assert resumed.resumed
    assert resumed.num_chunks == 2 and resumed.num_committed == 3
    for seed in range(resumed.num_chunks, len(sizes)):
        resumed.append_chunk(*make_chunk(seed, sizes[seed]))
    bank = resumed.finalize()
    for name in ('images', 'cond_labels', 'teacher_labels', 'teacher_probs'):
        np.testing.assert_array_equal(getattr(bank, name),
                                      getattr(straight, name))
    assert bank.content_hash() == straight.content_hash()


def test_resume_after_crash_inside_finalize(tmp_path):
    # State left by a kill between writing meta.json and the final rename.
    bank_dir = str(tmp_path / 'bank')
    original = write_bank(bank_dir).finalize()
    digest = original.content_hash()
    del original
    os.rename(bank_dir, bank_dir + '.partial')
    writer = BankWriter(bank_dir, 'k', 10, SHAPE, num_soft_classes=K)
    assert writer.is_full
    assert writer.finalize().content_hash() == digest
    assert SyntheticBank.open(bank_dir, 'k').content_hash() == digest


def test_different_key_wipes_partial(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    write_bank(bank_dir, key='old', sizes=(4, 3))
    partial = bank_dir + '.partial'
    assert len(chunk_files(partial)) == 2
    writer = BankWriter(bank_dir, 'new', 10, SHAPE, num_soft_classes=K)
    assert not writer.resumed
    assert writer.num_chunks == 0 and writer.num_committed == 0
    assert chunk_files(partial) == []


def test_changed_layout_wipes_partial(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    write_bank(bank_dir, sizes=(4, ))
    writer = BankWriter(bank_dir, 'k', 12, SHAPE, num_soft_classes=K)
    assert writer.num_committed == 0


def test_truncates_to_num_samples(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    writer = write_bank(bank_dir, sizes=(3, 4), num_samples=5)
    assert writer.num_committed == 5 and writer.is_full
    # a round after the bank is full still counts but stores nothing
    writer.append_chunk(*make_chunk(2, 2))
    assert writer.num_chunks == 3 and writer.num_committed == 5
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
    assert writer.num_chunks == 0


def test_finalize_memory_does_not_grow_with_bank(tmp_path):
    # 40 chunks of 50 images: the bank is ~6 MiB, a chunk ~150 KiB
    shape = (3, 32, 32)
    writer = BankWriter(str(tmp_path / 'bank'), 'k', 2000, shape)
    rng = np.random.default_rng(0)
    for _ in range(40):
        writer.append_chunk(
            rng.integers(0, 256, (50, ) + shape, dtype=np.uint8),
            np.zeros(50, np.int64), np.zeros(50, np.int64))
    tracemalloc.start()
    try:
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


def test_a_full_disk_keeps_the_chunks_and_the_build_resumes(
        tmp_path, monkeypatch):
    """No space left while writing round 3: a clear error naming the file
    and what to do; the rounds before stay, and the next run resumes to
    the bank an uninterrupted build writes."""
    import errno

    from cgankd_plugin.synthesis.bank import writer as bank_writer
    sizes = (3, 0, 4, 6)
    straight = write_bank(str(tmp_path / 'a'), sizes=sizes).finalize()

    real_savez, calls = np.savez, []

    def savez_on_a_full_disk(f, **arrays):
        calls.append(1)
        if len(calls) == 3:
            f.write(b'partial')
            raise OSError(errno.ENOSPC, 'No space left on device')
        return real_savez(f, **arrays)

    monkeypatch.setattr(bank_writer.np, 'savez', savez_on_a_full_disk)
    bank_dir = str(tmp_path / 'b')
    with pytest.raises(BankError) as err:
        write_bank(bank_dir, sizes=sizes)
    msg = str(err.value)
    assert 'No space left' in msg and 'chunk_000002' in msg
    assert 'run again to resume' in msg
    partial = bank_dir + '.partial'
    assert chunk_files(partial) == ['chunk_000000.npz', 'chunk_000001.npz']
    assert not [f for f in os.listdir(partial) if f.endswith('.tmp')]

    monkeypatch.setattr(bank_writer.np, 'savez', real_savez)
    resumed = BankWriter(bank_dir, 'k', 10, SHAPE, num_soft_classes=K)
    assert resumed.num_chunks == 2
    for seed in range(2, len(sizes)):
        resumed.append_chunk(*make_chunk(seed, sizes[seed]))
    assert resumed.finalize().content_hash() == straight.content_hash()
