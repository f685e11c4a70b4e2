# Copyright (c) cgankd_plugin contributors.
import json
import os
import os.path as osp
import pickle

import numpy as np
import pytest
from bank_utils import K, SHAPE, make_chunk, write_bank

from cgankd_plugin.synthesis.bank import (BankArray, BankCorruptError,
                                          BankNotFoundError, BankStaleError,
                                          BankWriter, SyntheticBank)


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


def test_pickle_sends_no_data(tmp_path):
    bank = write_bank(str(tmp_path / 'bank')).finalize()
    bank.images[0]  # opens a file descriptor, which is not pickled
    payload = pickle.dumps(bank)
    assert np.asarray(bank.images).tobytes() not in payload  # not copied
    clone = pickle.loads(payload)
    assert isinstance(clone.images, BankArray)
    np.testing.assert_array_equal(clone.images, bank.images)
    assert clone.content_hash() == bank.content_hash()
