# Copyright (c) cgankd_plugin contributors.
"""Named points where tests kill the process, deterministically.

The kill tests must not race a kill against a file appearing (a test whose
outcome depends on timing is flaky by construction). Instead the code
under test calls :func:`fault_point` at the places that matter, and a test
sets the environment variable ``CGANKD_FAULT=<name>[:<n>]``: the process
kills itself with SIGKILL the ``n``-th time (default 1st) it reaches the
point called ``name``. Without the variable a point costs one dictionary
lookup.

Points: ``checkpoint.temp_written`` (a checkpoint's bytes are on disk in
its temporary file, before the rename), ``checkpoint.renamed`` (after the
rename, before ``last_checkpoint`` points at it), ``cgan.checkpoint`` (the
cGAN's latest checkpoint was just written), ``bank.shard`` (a
condition's shard of a bank build was just written).
"""
import os
import signal
from collections import Counter

FAULT_ENV = 'CGANKD_FAULT'
_hits: Counter = Counter()


def fault_point(name: str) -> None:
    """SIGKILL this process here if ``CGANKD_FAULT`` asks for ``name``.

    Args:
        name (str): The point's name (see the module docstring).
    """
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    target, _, count = spec.partition(':')
    if target != name:
        return
    _hits[name] += 1
    if _hits[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
