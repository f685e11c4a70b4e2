# Copyright (c) cgankd_plugin contributors.
"""tools/browse_bank.py on a small bank: pictures, summary, --verify."""
import importlib.util
import json
import os.path as osp
import sys

import numpy as np
import pytest

from cgankd_plugin.synthesis.bank import BankCorruptError, BankWriter

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    path = osp.join(REPO_ROOT, 'tools', 'browse_bank.py')
    spec = importlib.util.spec_from_file_location('browse_bank', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bank(bank_dir):
    rng = np.random.default_rng(0)
    writer = BankWriter(bank_dir, 'k', 6, (3, 8, 8))
    writer.append_chunk(
        rng.integers(0, 256, (6, 3, 8, 8), dtype=np.uint8),
        np.repeat([0, 1, 2], 2), np.array([0, 1, 1, 1, 2, 2]))
    return writer.finalize(dict(candidates=12, over_generation=2.0,
                                filter_pass_rate=0.5, relabel='hard'))


def _browse(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, 'argv', ['browse_bank.py', *args])
    _tool().main()
    return capsys.readouterr().out


def test_verify_says_the_checksums_passed(tmp_path, monkeypatch, capsys):
    bank = _bank(str(tmp_path / 'bank'))
    out = _browse(monkeypatch, capsys, bank.path, '--out',
                  str(tmp_path / 'vis'), '--verify')
    first, rest = out.split('\n', 1)
    assert first == 'checksums: all 3 files of the bank match meta.json'
    summary = json.loads(rest.split('\npictures:')[0])
    assert summary['samples'] == 6 and summary['conditions'] == 3
    assert summary['over_generation'] == 2.0
    assert summary['filter_pass_rate'] == 0.5
    assert summary['teacher_agrees_with_condition'] == pytest.approx(5 / 6)
    assert osp.getsize(tmp_path / 'vis' / 'samples.png') > 0
    # without --verify nothing is said about checksums
    out = _browse(monkeypatch, capsys, bank.path, '--out',
                  str(tmp_path / 'vis'))
    assert not out.startswith('checksums')


def test_verify_names_a_corrupt_file(tmp_path, monkeypatch, capsys):
    bank = _bank(str(tmp_path / 'bank'))
    with open(osp.join(bank.path, 'images.npy'), 'r+b') as f:
        f.seek(-1, 2)
        f.write(b'\x00' if f.read(1) != b'\x00' else b'\x01')
    with pytest.raises(BankCorruptError, match='images.npy'):
        _browse(monkeypatch, capsys, bank.path, '--verify')
