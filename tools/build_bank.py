# Copyright (c) cgankd_plugin contributors.
"""Build a config's synthetic bank without training the student.

The same code path as training: the runner is built from the config (the
teacher loaded strictly), and the config's ``CGANHook`` trains or loads the
cGAN and builds the bank exactly as it would before training.

    python tools/build_bank.py CONFIG [--work-dir DIR]
        [--cfg-options key=value ...]

Split over N processes (each draws a share of the bank; rank 0 writes it,
see ``CGANHook``)::

    torchrun --nproc_per_node=N tools/build_bank.py CONFIG --launcher pytorch
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import cgankd_plugin  # noqa: E402,F401
from cgankd_plugin.engine.hooks import CGANHook  # noqa: E402
from cgankd_plugin.engine.cpu_distributed import \
    setup_cpu_distributed  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train/load the cGAN and build the synthetic bank')
    parser.add_argument('config', help='a cGAN-KD config')
    parser.add_argument('--work-dir', help='where the bank and logs go')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (split the build over the launched processes)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.launcher == 'pytorch':
        setup_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    hooks = [h for h in runner.hooks if isinstance(h, CGANHook)]
    if not hooks:
        raise SystemExit(f'{args.config} has no CGANHook in custom_hooks')
    # building the train loop builds the dataloader and its dataset
    runner.train_loop  # noqa: B018
    hooks[0].before_train(runner)
    bank = hooks[0].bank
    if runner.rank == 0:
        print(f'bank: {bank.path} ({len(bank)} samples, key '
              f'{bank.key[:12]})')


if __name__ == '__main__':
    main()
