# Copyright (c) cgankd_plugin contributors.
"""Shared fixtures: one torch thread per module, a tiny CIFAR-100."""
import os
import sys

import pytest

import cgankd_plugin  # noqa: F401

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, 'tests'))
from cifar_files import write_cifar100  # noqa: E402


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """One torch thread per test module: on a busy 2-core machine extra
    intra-op threads only contend, and bit-exact comparisons of builds
    depend on the number of threads (module scope: it also covers the
    module-scoped builds)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def tiny_cifar100(tmp_path_factory) -> str:
    """A 100-image (one per class) CIFAR-100 in the official layout."""
    return write_cifar100(
        str(tmp_path_factory.mktemp('cifar100')), num_train=100,
        num_test=100)
