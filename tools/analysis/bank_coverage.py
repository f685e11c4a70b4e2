# Copyright (c) cgankd_plugin contributors.
"""How much of the real data a synthetic bank covers, in the teacher's eyes.

    python tools/analysis/bank_coverage.py TEACHER_CONFIG TEACHER_CKPT \
        --real BANK_DIR_OF_REAL_IMAGES --banks NAME=BANK_DIR ... \
        [--real-idx IDX_FILE --real-count N] --out OUT.png

Features: the teacher's pooled penultimate features of each image, seen as
the student's test pipeline shows it (grey repeated to 3 channels, then
the teacher's data preprocessor). For each bank, per class and overall,
the improved precision (share of fakes inside the real manifold) and
recall (share of real images inside the fakes' manifold) of
:func:`cgankd_plugin.synthesis.gan_quality.precision_recall` against the
images of ``--real`` (a bank of real images the student never saw, e.g.
the experiment's ``real_bank``). ``--real-idx`` adds a real-against-real
reference row (the first ``--real-count`` images of an IDX file).
Writes ``OUT.png`` (recall per class) and ``OUT.json`` (every figure).
"""
import argparse
import json
import os.path as osp
import sys

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
import cgankd_plugin  # noqa: E402,F401
from cgankd_plugin.synthesis.gan_quality import precision_recall  # noqa
from cgankd_plugin.synthesis.teacher_adapter import TeacherAdapter  # noqa
from cgankd_plugin.utils.atomic_io import atomic_write_json  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('teacher_config')
    parser.add_argument('teacher_ckpt')
    parser.add_argument('--real', required=True,
                        help='a bank folder of real images (the reference)')
    parser.add_argument('--banks', nargs='+', required=True,
                        metavar='NAME=DIR', help='banks to measure')
    parser.add_argument('--real-idx', help='an IDX image file for a '
                        'real-against-real reference row')
    parser.add_argument('--real-count', type=int, default=4000)
    parser.add_argument('--k', type=int, default=3)
    parser.add_argument('--out', required=True, help='OUT.png (+ OUT.json)')
    return parser.parse_args()


def build_teacher(config: str, ckpt: str):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import load_checkpoint

    from cgankd_plugin.registry import MODELS
    cfg = Config.fromfile(config)
    if cfg.get('data_preprocessor'):  # as the Runner does
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    load_checkpoint(model, ckpt, map_location='cpu', logger='silent')
    # grey images are repeated to 3 channels, as GrayToRGB shows them
    return TeacherAdapter(model.eval())


def features(teacher: TeacherAdapter, images: np.ndarray,
             batch: int = 500) -> np.ndarray:
    """The teacher's penultimate features of uint8 (N, C, H, W) images."""
    return torch.cat([
        teacher(torch.from_numpy(np.ascontiguousarray(
            images[i:i + batch])))[0].cpu()
        for i in range(0, len(images), batch)
    ]).numpy()


def load_bank(path: str):
    return (np.load(osp.join(path, 'images.npy')),
            np.load(osp.join(path, 'cond_labels.npy')))


def read_idx_images(path: str, count: int) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.uint8, offset=16)
    return raw.reshape(-1, 1, 28, 28)[:count].copy()


def measure(real, real_labels, fake, fake_labels, k):
    overall = precision_recall(real, fake, k)
    per_class = {}
    for c in np.unique(real_labels):
        r, f = real[real_labels == c], fake[fake_labels == c]
        if min(len(r), len(f)) > k:
            per_class[int(c)] = precision_recall(r, f, k)
    return dict(
        precision=overall[0],
        recall=overall[1],
        per_class={c: dict(precision=p, recall=q)
                   for c, (p, q) in per_class.items()})


def main():
    args = parse_args()
    torch.set_num_threads(1)
    teacher = build_teacher(args.teacher_config, args.teacher_ckpt)
    real_images, real_labels = load_bank(args.real)
    real = features(teacher, real_images)
    results = {}
    if args.real_idx:
        labels_file = args.real_idx.replace('images-idx3', 'labels-idx1')
        labels = np.fromfile(labels_file, np.uint8, offset=8)
        other = read_idx_images(args.real_idx, args.real_count)
        results['real images'] = measure(
            real, real_labels, features(teacher, other),
            labels[:args.real_count].astype(np.int64), args.k)
    for spec in args.banks:
        name, _, path = spec.partition('=')
        images, labels = load_bank(path)
        results[name] = measure(real, real_labels, features(teacher, images),
                                labels, args.k)
    for name, r in results.items():
        print(f'{name}: precision {r["precision"]:.3f}, '
              f'recall {r["recall"]:.3f}')
    stem = osp.splitext(args.out)[0]
    atomic_write_json(stem + '.json', dict(k=args.k, results=results))
    plot(results, args.out)


def plot(results, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    classes = sorted({c for r in results.values() for c in r['per_class']})
    width = 0.8 / len(results)
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    for i, (name, r) in enumerate(results.items()):
        values = [r['per_class'].get(c, {}).get('recall', np.nan)
                  for c in classes]
        ax.bar(np.arange(len(classes)) + i * width, values, width,
               label=f'{name} (all: {r["recall"]:.2f})')
    ax.set_xticks(np.arange(len(classes)) + width * (len(results) - 1) / 2)
    ax.set_xticklabels([str(c) for c in classes])
    ax.set_xlabel('class')
    ax.set_ylabel('recall (coverage)')
    ax.set_ylim(0, 1.22)
    ax.set_title('How much of the real data each bank covers '
                 '(teacher features, k = 3)')
    ax.legend(fontsize=8, loc='upper center', ncol=len(results))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == '__main__':
    main()
