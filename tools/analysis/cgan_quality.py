# Copyright (c) cgankd_plugin contributors.
"""How a cGAN's samples look to the teacher, checkpoint by checkpoint.

    python tools/analysis/cgan_quality.py CGAN_CONFIG TEACHER_CONFIG \
        TEACHER_CKPT --checkpoints WORK_DIR/iter_*.pth --out OUT.json \
        [--cfg-options KEY=VALUE ...] [--num-samples 2000]

For each checkpoint of a ``configs/cgan/`` recipe (its EMA generator, as a
bank would draw from it): the teacher-feature Frechet distance, precision
and recall, and the teacher's agreement with the generating class, of
``--num-samples`` fakes against as many real images of the cGAN's own
training set (:func:`cgankd_plugin.synthesis.gan_quality.
teacher_gan_quality`, the figures ``quality.json`` holds), plus the recall
of each class. The real images are never the test split, so choosing a
cGAN (or its length) by these figures leaves the test split untouched.
Writes ``OUT.json`` (every figure) and ``OUT.png`` (the figures against
the iteration).
"""
import argparse
import glob
import os.path as osp
import re
import sys

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import cgankd_plugin  # noqa: E402,F401
from bank_coverage import build_teacher  # noqa: E402
from cgankd_plugin.engine.cgan_stage_checks import real_set  # noqa: E402
from cgankd_plugin.engine.cgan_training import (build_cgan,  # noqa: E402
                                                load_cgan_recipe)
from cgankd_plugin.structures import DatasetImages  # noqa: E402
from cgankd_plugin.synthesis.gan_quality import (  # noqa: E402
    precision_recall, teacher_features, teacher_gan_quality)
from cgankd_plugin.utils.atomic_io import atomic_write_json  # noqa: E402
from cgankd_plugin.utils.checkpoint import \
    load_weights_strictly  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('cgan_config', help='the configs/cgan/ recipe')
    parser.add_argument('teacher_config')
    parser.add_argument('teacher_ckpt')
    parser.add_argument('--checkpoints', nargs='+', required=True,
                        help='checkpoints (or globs) of the recipe')
    parser.add_argument('--out', required=True, help='OUT.json (+ OUT.png)')
    parser.add_argument('--num-samples', type=int, default=2000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--real-reference', action='store_true',
                        help='also the figures of real images against '
                        'other real images (what a perfect cGAN scores)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='overrides of the recipe')
    return parser.parse_args(argv)


def iteration(path: str) -> int:
    """The iteration in a checkpoint's name (``iter_4000.pth``), else -1."""
    found = re.search(r'iter_(\d+)', osp.basename(path))
    return int(found.group(1)) if found else -1


def per_class_recall(gan, teacher, real: DatasetImages, num_samples: int,
                     seed: int, k: int = 3) -> dict:
    """Each class's recall: its real images against fakes of its class
    (classes with at most ``k`` real images left out)."""
    from cgankd_plugin.synthesis.builder.rng import seeded, to_uint8
    rng, result = seeded(seed, 11), {}
    per_class = max(k + 1, num_samples // int(real.labels.max() + 1))
    for c in torch.unique(real.labels).tolist():
        pool = torch.nonzero(real.labels == c).flatten()
        pick = pool[torch.randperm(len(pool), generator=rng)[:per_class]]
        if len(pick) <= k:  # too few real images of the class to say
            continue
        labels = torch.full((len(pick), ), c, dtype=torch.long)
        fakes = to_uint8(gan.sample(labels, rng=rng)).cpu()
        real_feats, _ = teacher_features(teacher, real.read(pick), 500)
        fake_feats, _ = teacher_features(teacher, fakes, 500)
        result[int(c)] = precision_recall(real_feats, fake_feats, k)[1]
    return result


def real_reference(teacher, real: DatasetImages, num_samples: int,
                   seed: int) -> dict:
    """Precision and recall of ``num_samples`` real images against as many
    others of the same set: the ceiling a cGAN's figures compare with."""
    from cgankd_plugin.synthesis.builder.rng import seeded
    pick = torch.randperm(len(real), generator=seeded(seed, 12))
    n = min(num_samples, len(real) // 2)
    first, _ = teacher_features(teacher, real.read(pick[:n]), 500)
    second, _ = teacher_features(teacher, real.read(pick[n:2 * n]), 500)
    precision, recall = precision_recall(first, second)
    return dict(teacher_precision=precision, teacher_recall=recall)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)
    paths = sorted({p for pattern in args.checkpoints
                    for p in glob.glob(pattern)}, key=iteration)
    if not paths:
        raise SystemExit(f'--checkpoints: nothing matches {args.checkpoints}')
    recipe = load_cgan_recipe(args.cgan_config, args.cfg_options)
    teacher = build_teacher(args.teacher_config, args.teacher_ckpt)
    gan = build_cgan(recipe)
    real = DatasetImages(real_set(recipe), gan.img_size,
                         lambda info: info['gt_label'], torch.long)
    rows, reference = [], None
    if args.real_reference:
        reference = real_reference(teacher, real, args.num_samples,
                                   args.seed)
        print(f'real images: recall {reference["teacher_recall"]:.3f}, '
              f'precision {reference["teacher_precision"]:.3f}', flush=True)
    for path in paths:
        load_weights_strictly(gan, path, '--checkpoints')
        gan.eval()
        row = dict(checkpoint=path, iteration=iteration(path),
                   **teacher_gan_quality(gan, teacher, real,
                                         args.num_samples, seed=args.seed))
        row['recall_per_class'] = per_class_recall(
            gan, teacher, real, args.num_samples, args.seed)
        rows.append(row)
        print(f'{osp.basename(path)}: recall {row["teacher_recall"]:.3f}, '
              f'precision {row["teacher_precision"]:.3f}, fd '
              f'{row["teacher_fd"]:.3f}, accuracy '
              f'{row["teacher_accuracy"]:.3f}, worst class recall '
              f'{min(row["recall_per_class"].values()):.3f}', flush=True)
    out = osp.splitext(args.out)[0]
    atomic_write_json(out + '.json', dict(
        cgan_config=args.cgan_config, cfg_options=args.cfg_options,
        teacher_ckpt=args.teacher_ckpt, num_samples=args.num_samples,
        real_reference=reference, rows=rows))
    plot(rows, out + '.png')


def plot(rows, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    steps = [r['iteration'] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for key in ('teacher_recall', 'teacher_precision', 'teacher_accuracy'):
        ax.plot(steps, [r[key] for r in rows], marker='o',
                label=key.replace('teacher_', ''))
    ax.plot(steps, [min(r['recall_per_class'].values()) for r in rows],
            marker='x', linestyle='--', label='worst class recall')
    ax.set(xlabel='cGAN iteration', ylim=(0, 1),
           title='cGAN samples in the teacher\'s features')
    ax.legend()
    fig.savefig(path, bbox_inches='tight')
    plt.close(fig)


if __name__ == '__main__':
    main()
