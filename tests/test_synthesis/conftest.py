# Copyright (c) cgankd_plugin contributors.
"""The tiny cGANs and teachers of the bank tests (``tiny_gans``).

Module-scoped: built once per test file, from fixed seeds.
"""
import pytest
from tiny_gans import tiny_ccgan, tiny_gan, tiny_regressor, tiny_teacher


@pytest.fixture(scope='module')
def gan():
    return tiny_gan()


@pytest.fixture(scope='module')
def teacher():
    return tiny_teacher()


@pytest.fixture(scope='module')
def ccgan():
    return tiny_ccgan()


@pytest.fixture(scope='module')
def regressor():
    return tiny_regressor()
