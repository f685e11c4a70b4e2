# Copyright (c) cgankd_plugin contributors.
import torch

from cgankd_plugin.synthesis.bank import hash_settings, hash_state_dict


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
