# Copyright (c) cgankd_plugin contributors.
import os.path as osp

import numpy as np
import pytest
from bank_utils import SHAPE, expected_arrays, write_bank

from cgankd_plugin.synthesis.bank import BankError, BankWriter


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
