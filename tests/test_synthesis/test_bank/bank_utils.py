# Copyright (c) cgankd_plugin contributors.
"""Helpers of the bank tests: deterministic chunks and small banks."""
import numpy as np

from cgankd_plugin.synthesis.bank import BankWriter

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
