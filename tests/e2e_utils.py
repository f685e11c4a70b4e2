# Copyright (c) cgankd_plugin contributors.
"""Run the real tools on real configs, shrunk by ``--cfg-options``."""
import json
import os
import signal
import socket
import subprocess
import sys
from typing import Dict, List, Sequence

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION_MNIST = os.path.join(REPO_ROOT, 'data', 'fashion_mnist')
# `make test` depends on `make data`, so only a bare checkout skips
NEEDS_FASHION_MNIST = pytest.mark.skipif(
    not os.path.isfile(os.path.join(FASHION_MNIST,
                                    'train-images-idx3-ubyte')),
    reason='Fashion-MNIST not unpacked in data/fashion_mnist (make data)')


def cifar_shrink_options(data_root: str,
                         batch_size: int = 8,
                         max_epochs: int = 1,
                         crd: bool = False,
                         train_dataset: str = None) -> List[str]:
    """``--cfg-options`` that point a CIFAR-100 config at tiny files.

    The tiny files are user-made, so the md5 check is switched off; the
    loaders are single-process; one short epoch; checkpoints every epoch.

    Args:
        crd: The training set is wrapped once (CRD).
        train_dataset: The config path of the real training set, for deeper
            wrapping (e.g. ``train_dataloader.dataset.dataset.dataset``).
    """
    train_ds = train_dataset or ('train_dataloader.dataset.dataset'
                                 if crd else 'train_dataloader.dataset')
    opts = [
        f'{train_ds}.data_root={data_root}',
        f'{train_ds}.check_md5=False',
        f'val_dataloader.dataset.data_root={data_root}',
        'val_dataloader.dataset.check_md5=False',
        f'test_dataloader.dataset.data_root={data_root}',
        'test_dataloader.dataset.check_md5=False',
        f'train_dataloader.batch_size={batch_size}',
        'val_dataloader.batch_size=50',
        f'train_cfg.max_epochs={max_epochs}',
        'train_cfg.val_interval=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1',
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
    return opts


def fashion_mnist_bank_options(
        num_fake: int = 200,
        cgan_real_set: str = 'train_dataloader.dataset'
) -> Dict[str, object]:
    """A Fashion-MNIST cGAN-KD config shrunk to a quick bank build.

    For ``Config.merge_from_dict``: a cGAN of 4 iterations learning from
    300 images, a bank of ``num_fake`` samples beside 200 real images, no
    cDR-RS (a density-ratio net fitted on a 4-iteration cGAN learns
    nothing and may reject every sample), no quality figure, and loaders
    in the main process.
    """
    return {
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.num_fake': num_fake,
        'train_dataloader.dataset.dataset.indices': 200,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'val_dataloader.dataset.indices': 10,
        **cgan_options(
            {f'{cgan_real_set}.indices': 300},
            max_iters=4, checkpoint_interval=4),
        'custom_hooks.0.filter.burn_in': 20,
        'custom_hooks.0.bank_batch_size': 64,
        'custom_hooks.0.quality_samples': 0,
        'custom_hooks.0.subsample': None,
    }


def cgan_options(options: Dict[str, object] = None,
                 max_iters: int = 4,
                 checkpoint_interval: int = 4,
                 prefix: str = 'custom_hooks.0.cgan_cfg_options'
                 ) -> Dict[str, object]:
    """A cGAN-KD config's cGAN recipe shrunk through ``cgan_cfg_options``.

    ``max_iters`` iterations, a checkpoint every ``checkpoint_interval``,
    a loader in the main process, plus ``options`` (recipe keys).
    """
    shrunk = {
        'train_cfg.max_iters': max_iters,
        'default_hooks.checkpoint.interval': checkpoint_interval,
        'default_hooks.logger.interval': 1,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        **(options or {}),
    }
    return {f'{prefix}.{key}': value for key, value in shrunk.items()}


def as_cli(options: Dict[str, object]) -> List[str]:
    """``--cfg-options`` items of an options dict."""
    return [f'{key}={value}' for key, value in options.items()]


def cifar_cgan_options(data_root: str, max_iters: int,
                       checkpoint_interval: int) -> List[str]:
    """The CIFAR-100 BigGAN recipe of a cGAN-KD config, width 4, on the
    tiny files, batch 8, its EMA from the first generator update."""
    return as_cli(cgan_options({
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.check_md5': False,
        'train_dataloader.batch_size': 8,
        'model.generator.base_channels': 4,
        'model.discriminator.base_channels': 4,
        'model.ema_config.start_iter': 1,
    }, max_iters=max_iters, checkpoint_interval=checkpoint_interval))


def run_tool(tool: str,
             config: str,
             args: Sequence[str] = (),
             cfg_options: Sequence[str] = (),
             timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``tools/<tool>.py`` in a fresh interpreter, as a user would."""
    cmd = [sys.executable, os.path.join(REPO_ROOT, 'tools', tool + '.py'),
           os.path.join(REPO_ROOT, config), *args]
    if cfg_options:
        cmd += ['--cfg-options', *cfg_options]
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=env,
        cwd=REPO_ROOT)
    if proc.returncode != 0:
        raise AssertionError(
            f'{tool} {config} failed ({proc.returncode}):\n'
            f'{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}')
    return proc


def free_port() -> int:
    """A TCP port nobody listens on now (a distributed run's rendezvous)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_dist_tool(script: str,
                  args: Sequence[str],
                  cfg_options: Sequence[str] = (),
                  timeout: int = 900) -> subprocess.CompletedProcess:
    """``tools/<script>.sh`` (2 gloo ranks on CPU), as a user would run it.

    A free port, one OpenMP thread a rank, the interpreter's ``torchrun``
    first on ``PATH``; the run must succeed.

    Args:
        script (str): ``'dist_train'`` or ``'dist_test'``.
        args (Sequence[str]): Its arguments (config paths relative to the
            repository root are made absolute by the caller).
        cfg_options (Sequence[str]): ``--cfg-options`` items.
        timeout (int): Seconds the run may take.
    """
    env = dict(
        os.environ,
        PORT=str(free_port()),
        OMP_NUM_THREADS='1',
        PYTHONUNBUFFERED='1',
        PATH=os.path.dirname(sys.executable) + os.pathsep +
        os.environ.get('PATH', ''))
    cmd = ['bash', os.path.join(REPO_ROOT, 'tools', script + '.sh'), *args]
    if cfg_options:
        cmd += ['--cfg-options', *cfg_options]
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-6000:]
    return proc


def scalars(work_dir: str) -> List[Dict]:
    """The records of the run's ``scalars.json`` (MMEngine's log).

    A nested cGAN run (``<work_dir>/cgan``) is another run: not included.
    """
    found = []
    for root, dirs, files in os.walk(work_dir):
        dirs[:] = [d for d in dirs if d != 'cgan']
        if 'scalars.json' in files:
            found.append(os.path.join(root, 'scalars.json'))
    assert found, f'no scalars.json under {work_dir}'
    records = []
    for path in sorted(found):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def cgankd_kd_tiny_options(data_root: str, num_fake: int = 100) -> List[str]:
    """Shrink the cGAN-KD + KD CIFAR-100 config.

    The config: ``configs/cgankd/`` +
    ``cgankd_kd_logits_resnet32x4_resnet8x4_1xb128_cifar100.py``.
    Tiny teacher and student (resnet8), a width-4 cGAN trained a few
    iterations (its recipe through ``cgan_cfg_options``), a bank of
    ``num_fake`` samples built in rounds of 4.
    """
    return cifar_shrink_options(
        data_root, batch_size=16,
        train_dataset='train_dataloader.dataset.dataset') + [
            'model.teacher_ckpt=None',
            'load_from=None',
            'model.teacher.backbone.arch=resnet8',
            'model.teacher.head.in_channels=64',
            'model.architecture.backbone.arch=resnet8',
            'model.architecture.head.in_channels=64',
            f'train_dataloader.dataset.num_fake={num_fake}',
            *cifar_cgan_options(data_root, max_iters=12,
                                checkpoint_interval=4),
            'custom_hooks.0.subsample=None',
            'custom_hooks.0.filter.burn_in=4',
            'custom_hooks.0.bank_batch_size=4',
            'custom_hooks.0.quality_samples=16',
        ]


def run_until_killed(tool: str,
                     config: str,
                     fault: str,
                     args: Sequence[str] = (),
                     cfg_options: Sequence[str] = (),
                     timeout: int = 600) -> str:
    """Run ``tools/<tool>.py`` with ``CGANKD_FAULT=fault``; its output.

    The run must die by SIGKILL at that fault-injection point
    (:mod:`cgankd_plugin.utils.fault_injection`): finishing, or failing in
    another way, fails the test.
    """
    cmd = [sys.executable, os.path.join(REPO_ROOT, 'tools', tool + '.py'),
           os.path.join(REPO_ROOT, config), *args]
    if cfg_options:
        cmd += ['--cfg-options', *cfg_options]
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1',
               CGANKD_FAULT=fault)
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=env,
        cwd=REPO_ROOT)
    output = proc.stdout + proc.stderr
    if proc.returncode != -signal.SIGKILL:
        raise AssertionError(
            f'{tool} {config} was to be killed at {fault!r} but ended with '
            f'rc={proc.returncode}:\n{output[-6000:]}')
    return output


def start_tool(tool: str, config: str, log_path: str,
               args: Sequence[str] = (),
               cfg_options: Sequence[str] = ()) -> subprocess.Popen:
    """Start ``tools/<tool>.py`` in the background, its output to a file."""
    cmd = [sys.executable, os.path.join(REPO_ROOT, 'tools', tool + '.py'),
           os.path.join(REPO_ROOT, config), *args]
    if cfg_options:
        cmd += ['--cfg-options', *cfg_options]
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    log = open(log_path, 'w')
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                            env=env, cwd=REPO_ROOT)
