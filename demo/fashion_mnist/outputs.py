# Copyright (c) cgankd_plugin contributors.
"""What a finished stage leaves, read through its producers' public names.

The checkpoints through MMEngine's ``last_checkpoint`` record, the cGAN,
its quality figures and the bank through :class:`CGANHook` and
:class:`SyntheticBank`, the metrics from MMEngine's ``scalars.json``.
"""
import json
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.runner.checkpoint import find_latest_checkpoint

from cgankd_plugin.engine.hooks.cgan_hook import CGANHook
from cgankd_plugin.synthesis import BankError, SyntheticBank
from cgankd_plugin.utils.atomic_io import read_json


def final_checkpoint(work_dir: str) -> Optional[str]:
    """The last checkpoint a run in ``work_dir`` saved, if any.

    What MMEngine's ``last_checkpoint`` record names (``--resume`` reads
    it too), when that file is there.
    """
    if not osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        return None  # (find_latest_checkpoint would print a warning)
    path = find_latest_checkpoint(work_dir)
    return path if path and osp.isfile(path) else None


def cgan_weights(work_dir: str) -> str:
    """Where the cGAN stage leaves its trained cGAN."""
    return CGANHook.trained_weights(work_dir)


def cgan_quality(work_dir: str) -> Optional[dict]:
    """The cGAN's quality figures a run in ``work_dir`` logged, if any."""
    return read_json(CGANHook.quality_file(work_dir))


def bank_meta(cfg: Config, work_dir: str) -> Optional[dict]:
    """The meta of the stage's bank (its ``bank_dir``, else the work
    dir's), or None when it has none."""
    bank_dir = cfg.train_dataloader.dataset.get(
        'bank_dir') or CGANHook.default_bank_dir(work_dir)
    try:
        return dict(SyntheticBank.open(bank_dir, verify=False).meta)
    except BankError:
        return None


def read_metric(work_dir: str, key: str) -> Optional[float]:
    """The last value of ``key`` in the newest run in ``work_dir``.

    MMEngine writes one ``<timestamp>/vis_data/scalars.json`` per run.
    """
    if not osp.isdir(work_dir):
        return None
    for run in sorted(os.listdir(work_dir), reverse=True):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        value = None
        with open(path) as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    value = record.get(key, value)
        if value is not None:
            return float(value)
    return None
