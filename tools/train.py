# Copyright (c) cgankd_plugin contributors.
"""Train a model (teacher, student, distillation or cGAN-KD) from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options key=value ...] [--launcher pytorch]
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import cgankd_plugin  # noqa: E402,F401
from cgankd_plugin.engine.cpu_distributed import (  # noqa: E402
    finish_distributed, setup_cpu_distributed)
from cgankd_plugin.utils.tool_config import (  # noqa: E402
    add_config_arguments, build_runner, enable_amp, load_config,
    parse_config_arguments)


def parse_args() -> argparse.Namespace:
    parser = add_config_arguments(
        argparse.ArgumentParser(description='Train with cgankd_plugin'))
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the actual batch size')
    return parse_config_arguments(parser)


def build_config(args: argparse.Namespace) -> Config:
    """The config file merged with the command line."""
    cfg = load_config(args)
    if args.amp:
        enable_amp(cfg)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or \
                'base_batch_size' not in cfg.auto_scale_lr:
            raise RuntimeError('--auto-scale-lr needs `auto_scale_lr.'
                               'base_batch_size` in the config.')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main() -> None:
    args = parse_args()
    cfg = build_config(args)
    if args.launcher == 'pytorch':
        setup_cpu_distributed(cfg)
    runner = build_runner(cfg)
    runner.train()
    finish_distributed()


if __name__ == '__main__':
    main()
