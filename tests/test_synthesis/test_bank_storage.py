# Copyright (c) cgankd_plugin contributors.
import json
import os
import os.path as osp
import pickle
import tracemalloc

import numpy as np
import pytest
import torch

from cgankd_plugin.synthesis.bank_storage import (BankArray, BankCorruptError,
                                                  BankError, BankNotFoundError,
                                                  BankStaleError, BankWriter,
                                                  SyntheticBank, hash_settings,
                                                  hash_state_dict)

SHAPE = (3, 4, 4)
K = 5


def make_chunk(seed, n, soft=True, float_labels=False):
    """Deterministic random chunk of ``n`` samples."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, ) + SHAPE, dtype=np.uint8)
    if float_labels:
        cond = rng.random(n).astype(np.float32)
        teacher = rng.random(n).astype(np.float32)
    else:
        cond = rng.integers(0, K, n)
        teacher = rng.integers(0, K, n)
    probs = rng.random((n, K)).astype(np.float32) if soft else None
    return images, cond, teacher, probs


def write_bank(bank_dir,
               key='k',
               sizes=(4, 0, 4, 5),
               num_samples=10,
               **kwargs):
    writer = BankWriter(bank_dir,
                        key,
                        num_samples,
                        SHAPE,
                        num_soft_classes=K,
                        **kwargs)
    for seed, n in enumerate(sizes):
        writer.append_chunk(*make_chunk(seed, n))
    return writer


def expected_arrays(sizes, num_samples):
    chunks = [make_chunk(seed, n) for seed, n in enumerate(sizes)]
    return [np.concatenate(parts)[:num_samples] for parts in zip(*chunks)]


def chunk_files(directory):
    return sorted(f for f in os.listdir(directory) if f.startswith('chunk_'))


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


def test_flipped_byte_is_corrupt(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    write_bank(bank_dir).finalize()
    path = osp.join(bank_dir, 'images.npy')
    with open(path, 'r+b') as f:
        f.seek(-1, os.SEEK_END)
        byte = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0xFF]))
    expected = json.load(open(osp.join(bank_dir,
                                       'meta.json')))['files']['images']
    with pytest.raises(BankCorruptError) as info:
        SyntheticBank.open(bank_dir)
    message = str(info.value)
    assert path in message and expected['sha256'] in message
    assert 'delete' in message.lower()
    # the actual checksum is named too
    assert len([w for w in message.split() if len(w.strip('.,')) == 64]) == 2
    SyntheticBank.open(bank_dir, verify=False)  # no hashing, no error


def test_truncated_file_is_corrupt_without_verify(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    write_bank(bank_dir).finalize()
    np.save(osp.join(bank_dir, 'cond_labels.npy'), np.zeros(3, np.int64))
    with pytest.raises(BankCorruptError, match='cond_labels.npy'):
        SyntheticBank.open(bank_dir, verify=False)


def test_stale_key(tmp_path):
    bank_dir = str(tmp_path / 'bank')
    write_bank(bank_dir, settings={'tau': 0.5, 'seed': 1}).finalize()
    with pytest.raises(BankStaleError) as info:
        SyntheticBank.open(bank_dir,
                           expected_key='wanted',
                           expected_settings={
                               'tau': 0.9,
                               'seed': 1
                           })
    message = str(info.value)
    assert "'k'" in message and "'wanted'" in message
    assert 'tau' in message and 'seed' not in message


def test_missing_bank(tmp_path):
    bank_dir = str(tmp_path / 'nowhere')
    with pytest.raises(BankNotFoundError) as info:
        SyntheticBank.open(bank_dir)
    assert bank_dir in str(info.value)
    assert 'build_bank' in str(info.value)
    assert not SyntheticBank.is_complete(bank_dir)


def test_content_hash(tmp_path):
    a = write_bank(str(tmp_path / 'a'), key='x').finalize()
    b = write_bank(str(tmp_path / 'b'), key='y').finalize()
    assert a.content_hash() == b.content_hash()
    writer = BankWriter(str(tmp_path / 'c'),
                        'x',
                        10,
                        SHAPE,
                        num_soft_classes=K)
    for seed, n in enumerate((4, 0, 4, 5)):
        images, cond, teacher, probs = make_chunk(seed, n)
        if seed == 3:
            images[0, 0, 0, 0] ^= 1
        writer.append_chunk(images, cond, teacher, probs)
    assert writer.finalize().content_hash() != a.content_hash()


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


def test_pickle_sends_no_data(tmp_path):
    bank = write_bank(str(tmp_path / 'bank')).finalize()
    bank.images[0]  # opens a file descriptor, which is not pickled
    payload = pickle.dumps(bank)
    assert np.asarray(bank.images).tobytes() not in payload  # not copied
    clone = pickle.loads(payload)
    assert isinstance(clone.images, BankArray)
    np.testing.assert_array_equal(clone.images, bank.images)
    assert clone.content_hash() == bank.content_hash()


def test_hash_state_dict():
    a = {'w': torch.arange(6.).view(2, 3), 'b': torch.ones(3)}
    b = {'b': torch.ones(3), 'w': torch.arange(6.).view(2, 3).t().t()}
    assert hash_state_dict(a) == hash_state_dict(b)
    changed = dict(a, b=torch.tensor([1., 1., 1.0001]))
    assert hash_state_dict(changed) != hash_state_dict(a)
    assert hash_state_dict(dict(a, b=torch.ones(3, dtype=torch.float64))) \
        != hash_state_dict(a)
    # non-contiguous tensors hash like their contiguous copy
    t = torch.arange(6.).view(2, 3).t()
    assert hash_state_dict({'t': t}) == hash_state_dict({'t': t.contiguous()})
    assert hash_state_dict({'h': torch.ones(2, dtype=torch.bfloat16)})


def test_hash_settings():
    a = hash_settings({'a': 1, 'b': [1, 2], 'c': {'x': 1, 'y': 2}})
    b = hash_settings({'c': {'y': 2, 'x': 1}, 'b': [1, 2], 'a': 1})
    assert a == b
    assert hash_settings({'a': 2, 'b': [1, 2], 'c': {'x': 1, 'y': 2}}) != a


def test_files_are_plain_npy(tmp_path):
    # what finalize streams is byte for byte what np.save writes
    bank_dir = str(tmp_path / 'bank')
    write_bank(bank_dir).finalize()
    for name, array in zip(
        ('images', 'cond_labels', 'teacher_labels', 'teacher_probs'),
            expected_arrays((4, 0, 4, 5), 10)):
        reference = str(tmp_path / f'{name}.npy')
        np.save(reference, array)
        with open(reference,
                  'rb') as f, open(osp.join(bank_dir, name + '.npy'),
                                   'rb') as g:
            assert f.read() == g.read(), name


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


def test_a_full_disk_keeps_the_chunks_and_the_build_resumes(
        tmp_path, monkeypatch):
    """No space left while writing round 3: a clear error naming the file
    and what to do; the rounds before stay, and the next run resumes to
    the bank an uninterrupted build writes."""
    import errno

    from cgankd_plugin.synthesis import bank_storage
    sizes = (3, 0, 4, 6)
    straight = write_bank(str(tmp_path / 'a'), sizes=sizes).finalize()

    real_savez, calls = np.savez, []

    def savez_on_a_full_disk(f, **arrays):
        calls.append(1)
        if len(calls) == 3:
            f.write(b'partial')
            raise OSError(errno.ENOSPC, 'No space left on device')
        return real_savez(f, **arrays)

    monkeypatch.setattr(bank_storage.np, 'savez', savez_on_a_full_disk)
    bank_dir = str(tmp_path / 'b')
    with pytest.raises(BankError) as err:
        write_bank(bank_dir, sizes=sizes)
    msg = str(err.value)
    assert 'No space left' in msg and 'chunk_000002' in msg
    assert 'run again to resume' in msg
    partial = bank_dir + '.partial'
    assert chunk_files(partial) == ['chunk_000000.npz', 'chunk_000001.npz']
    assert not [f for f in os.listdir(partial) if f.endswith('.tmp')]

    monkeypatch.setattr(bank_storage.np, 'savez', real_savez)
    resumed = BankWriter(bank_dir, 'k', 10, SHAPE, num_soft_classes=K)
    assert resumed.num_chunks == 2
    for seed in range(2, len(sizes)):
        resumed.append_chunk(*make_chunk(seed, sizes[seed]))
    assert resumed.finalize().content_hash() == straight.content_hash()


@pytest.mark.parametrize('what', ['file', 'folder of other files'])
def test_a_bank_dir_holding_user_data_is_refused(tmp_path, what):
    bank_dir = tmp_path / 'mine'
    if what == 'file':
        bank_dir.write_text('my notes')
    else:
        bank_dir.mkdir()
        (bank_dir / 'photo.png').write_bytes(b'png')
    with pytest.raises(BankError, match='bank_dir=.*mine'):
        BankWriter(str(bank_dir), 'k', 10, SHAPE)
    # untouched
    assert (bank_dir.read_text() == 'my notes' if what == 'file' else
            (bank_dir / 'photo.png').read_bytes() == b'png')
