# Copyright (c) cgankd_plugin contributors.
"""Build a config's synthetic bank without training the student.

The same code path as training: the runner is built from the config (the
teacher loaded strictly), and the config's ``CGANHook`` trains its cGAN
recipe (or loads ``generator_ckpt``) and builds the bank exactly as it
would before training.

    python tools/build_bank.py CONFIG [--work-dir DIR]
        [--cfg-options key=value ...]

Split over N processes (every rank trains the cGAN under DDP and draws the
bank conditions it owns)::

    torchrun --nproc_per_node=N tools/build_bank.py CONFIG --launcher pytorch
"""
import argparse
import os.path as osp
import sys


sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import cgankd_plugin  # noqa: E402,F401
from cgankd_plugin.engine.runner import CGANKDRunner  # noqa: E402
from cgankd_plugin.engine.cpu_distributed import (  # noqa: E402
    finish_distributed, setup_cpu_distributed)
from cgankd_plugin.utils.tool_config import (  # noqa: E402
    add_config_arguments, build_runner, load_config,
    parse_config_arguments)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train/load the cGAN and build the synthetic bank')
    add_config_arguments(parser, work_dir_help='where the bank and logs go')
    return parse_config_arguments(parser)


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    if args.launcher == 'pytorch':
        setup_cpu_distributed(cfg)
    # no student is trained here: its starting checkpoint is not needed
    cfg.load_from = None
    runner = build_runner(cfg)
    hook = runner.cgan_hook() if isinstance(runner, CGANKDRunner) else None
    if hook is None:
        raise SystemExit(f'{args.config} has no CGANHook in custom_hooks '
                         "(with runner_type='CGANKDRunner')")
    # what CGANKDRunner does before it builds the training dataloader
    hook.prepare_train_dataloader(runner, runner.cfg.train_dataloader)
    bank = hook.bank
    if bank is None:
        print('num_fake is 0: no bank to build')
    elif runner.rank == 0:
        print(f'bank: {bank.path} ({len(bank)} samples, key '
              f'{bank.key[:12]})')
    finish_distributed()


if __name__ == '__main__':
    main()
