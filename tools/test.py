# Copyright (c) cgankd_plugin contributors.
"""Evaluate a checkpoint on the config's test set.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--cfg-options key=value ...] [--launcher pytorch]

With a student's plain config, a distillation checkpoint is evaluated
through its student (``architecture.``) weights; a checkpoint that does
not fit the model stops the run (see
:class:`~cgankd_plugin.engine.hooks.CheckpointFitHook`).
"""
import argparse
import os.path as osp
import sys


sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import cgankd_plugin  # noqa: E402,F401
from cgankd_plugin.engine.cpu_distributed import (  # noqa: E402
    finish_distributed, setup_cpu_distributed)
from cgankd_plugin.utils.tool_config import (  # noqa: E402
    add_config_arguments, build_runner, load_config,
    parse_config_arguments)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test with cgankd_plugin')
    add_config_arguments(parser, work_dir_help='the dir to save logs')
    parser.add_argument('checkpoint', help='checkpoint file')
    return parse_config_arguments(parser)


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.launcher == 'pytorch':
        setup_cpu_distributed(cfg)
    runner = build_runner(cfg)
    metrics = runner.test()
    print(metrics)
    finish_distributed()


if __name__ == '__main__':
    main()
