# Copyright (c) cgankd_plugin contributors.
"""The validation runs of the Fashion-MNIST experiment (seed 0).

Each is a row of demo/fashion_mnist with the options the demo gives it
(its teacher, student and cGAN from the experiment's folder) plus the
setting compared, scored on the validation split (the last 5,000
training images): ``val_dataloader.dataset.split=val``. Writes
``validation.json`` beside this file (each run's top-1 and options).
``--split test`` scores the same runs on the test split instead, into
``<root>/ablation_test`` and ``ablation_test.json``: for levers reported
beside the experiment's rows, never to choose a setting.

    .venv/bin/python docs/results/validation/run_validation.py \
        --root work_dirs/experiment [--split test] [NAME ...]
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(osp.dirname(HERE)))
sys.path.insert(0, REPO)
from cgankd_plugin.utils.atomic_io import atomic_write_json  # noqa: E402
from demo.fashion_mnist.stages import BY_NAME, stage_options  # noqa: E402

SPLITS = dict(val=['val_dataloader.dataset.split=val'], test=[])
# name: (row, extra options); banks of a setting in a folder of their own
RUNS = {
    'finetune_real': ('finetune_real', []),
    'cgankd_share_2of3': ('cgankd', [
        'train_dataloader.sampler.fake_fraction=0.6666666666666666',
        'train_dataloader.dataset.num_fake=64000']),
    'cgankd_share_1of2': ('cgankd', [
        'train_dataloader.sampler.fake_fraction=0.5',
        'train_dataloader.dataset.num_fake=48000']),
    'cgankd_share_1of3': ('cgankd', [
        'train_dataloader.sampler.fake_fraction=0.3333333333333333',
        'train_dataloader.dataset.num_fake=32000']),
    # the KD rows with the former KD weights (CE 1.0, not the official 0.1)
    'finetune_kd_ce1': ('finetune_kd', [
        'model.architecture.head.loss.loss_weight=1.0']),
    'kd_cgankd_ce1': ('kd_cgankd', [
        'model.architecture.head.loss.loss_weight=1.0']),
    # the former bank: 4,000 fakes, each seen 16 times
    'cgankd_4000_fakes': ('cgankd', [
        'train_dataloader.sampler.fake_fraction=0.6666666666666666',
        'train_dataloader.dataset.num_fake=4000']),
}


def run(name: str, root: str, out: str, split: str) -> dict:
    row, extra = RUNS[name]
    args = argparse.Namespace(quick=False, smoke=False, seeds=[0],
                              real_size=2000)
    options = stage_options(BY_NAME[row], root, args, 0)
    # a bank of its own, not the experiment's shared one
    options = [o for o in options if 'bank_dir=' not in o
               ] + extra + SPLITS[split]
    work = osp.join(out, name)
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')
    # a finished run is read back (a built bank is reused by its key)
    if osp.isfile(osp.join(work, 'last_checkpoint')):
        return dict(row=row, options=options, top1=read_top1(work))
    with open(osp.join(work, 'train.log'), 'w') as log:
        subprocess.run([sys.executable, 'tools/train.py', BY_NAME[row].config,
                        '--work-dir', work, '--cfg-options', *options],
                       cwd=REPO, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=True)
    return dict(row=row, options=options, top1=read_top1(work))


def read_top1(work: str):
    """The last ``accuracy/top1`` of a run's scalars."""
    value = None
    for path in sorted(glob.glob(f'{work}/*/vis_data/scalars.json')):
        with open(path) as f:
            for line in f:
                value = json.loads(line).get('accuracy/top1', value)
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--root', default='work_dirs/experiment')
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--split', choices=sorted(SPLITS), default='val')
    parser.add_argument('names', nargs='*', default=list(RUNS))
    args = parser.parse_args()
    root = osp.abspath(osp.join(REPO, args.root))
    test = args.split == 'test'
    out = osp.join(root, 'ablation_test' if test else 'validation')
    path = osp.join(HERE, 'ablation_test.json' if test else
                    'validation.json')
    results = json.load(open(path)) if osp.isfile(path) else {}
    with ThreadPoolExecutor(args.jobs) as pool:
        done = dict(zip(args.names, pool.map(
            lambda n: run(n, root, out, args.split), args.names)))
    results.update(done)
    atomic_write_json(path, results)
    for name, r in results.items():
        print(f'{name}: {r["top1"]}')


if __name__ == '__main__':
    main()
