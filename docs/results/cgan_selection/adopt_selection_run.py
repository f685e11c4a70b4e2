# Copyright (c) cgankd_plugin contributors.
"""Make a finished cGAN selection run the experiment's ``cgan`` stage.

The selection run trained the recipe now in
``configs/cgan/dcgan_1xb64_fashion_mnist.py`` with ``--cfg-options``
(the same networks, length and seed; it kept every checkpoint, the recipe
keeps two). Training it again inside the experiment would give the same
weights at twice the cost, so its folder is copied to ``<root>/cgan`` with
the record ``python -m demo.fashion_mnist`` keeps of a stage it ran
(``demo_stage.json``: the options and the config's hash the demo computes
now, the run's wall and CPU times), marked ``adopted_from``. The demo
then reuses it as a stage it ran itself.

    .venv/bin/python docs/results/cgan_selection/adopt_selection_run.py \
        work_dirs/cgan_select/cbn32 work_dirs/experiment WALL_S CPU_S
"""
import argparse
import hashlib
import json
import os.path as osp
import shutil
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
sys.path.insert(0, REPO)
from cgankd_plugin.utils.atomic_io import atomic_write_json  # noqa: E402
from demo.fashion_mnist.stages import (BY_NAME, final_checkpoint,  # noqa
                                       load_config, stage_dir,
                                       stage_options)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('selection_dir')
    parser.add_argument('root')
    parser.add_argument('wall_time_s', type=float)
    parser.add_argument('cpu_time_s', type=float)
    args = parser.parse_args()
    stage = BY_NAME['cgan']
    target = stage_dir(osp.abspath(args.root), stage, 0)
    options = stage_options(stage, args.root, argparse.Namespace(
        quick=False, smoke=False, seeds=[0], real_size=2000), 0)
    cfg = load_config(stage.config, options)
    digest = hashlib.sha256(json.dumps(
        cfg.to_dict(), sort_keys=True, default=str).encode()).hexdigest()
    shutil.copytree(args.selection_dir, target)
    final = osp.join(target, f'iter_{cfg.train_cfg.max_iters}.pth')
    with open(osp.join(target, 'last_checkpoint'), 'w') as f:
        f.write(final)
    assert final_checkpoint(target) == final, 'no final checkpoint'
    atomic_write_json(osp.join(target, 'demo_stage.json'), dict(
        options=options, config_sha256=digest,
        wall_time_s=args.wall_time_s, cpu_time_s=args.cpu_time_s,
        adopted_from=osp.abspath(args.selection_dir)))
    print(f'{target}: {final}')


if __name__ == '__main__':
    main()
