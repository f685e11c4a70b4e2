# Copyright (c) cgankd_plugin contributors.
"""Look at a synthetic bank: a sample grid, a label histogram, a summary.

    python tools/browse_bank.py BANK_DIR [--out DIR] [--per-row 10]
        [--verify]
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from cgankd_plugin.synthesis.bank import SyntheticBank  # noqa: E402
from cgankd_plugin.synthesis.builder.statistics import (  # noqa: E402
    meta_figures)
from cgankd_plugin.synthesis.visualize import (label_histogram,  # noqa: E402
                                               labelled_grid, save_png)


def summarize(bank: SyntheticBank) -> dict:
    """Counts, the build's figures and label statistics of a bank."""
    cond = np.asarray(bank.cond_labels)
    teacher = np.asarray(bank.teacher_labels)
    summary = dict(
        path=bank.path,
        samples=len(bank),
        image_shape=list(bank.images.shape[1:]),
        conditions=int(len(np.unique(cond))),
        **{k: v for k, v in meta_figures(bank.meta).items()
           if k != 'num_samples'},
        relabel=bank.meta.get('relabel'),
        label_collapse=bank.meta.get('label_collapse'))
    if np.issubdtype(teacher.dtype, np.integer):
        summary['teacher_agrees_with_condition'] = float(
            np.mean(teacher == cond))
    else:
        summary['mean_abs_teacher_minus_condition'] = float(
            np.mean(np.abs(teacher - cond)))
    return summary


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Browse a synthetic bank')
    parser.add_argument('bank', help='the bank directory')
    parser.add_argument('--out', help='where the PNGs go (default: BANK_vis)')
    parser.add_argument('--per-row', type=int, default=10)
    parser.add_argument(
        '--verify', action='store_true', help='check the checksums too')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    bank = SyntheticBank.open(args.bank, verify=args.verify)
    if args.verify:  # a mismatch raised BankCorruptError, naming the file
        print(f'checksums: all {len(bank.meta["files"])} files of the bank '
              'match meta.json')
    out = args.out or osp.normpath(args.bank) + '_vis'
    os.makedirs(out, exist_ok=True)
    grid = labelled_grid(bank.images, np.asarray(bank.cond_labels),
                         per_row=args.per_row)
    save_png(grid, osp.join(out, 'samples.png'))
    label_histogram(
        np.asarray(bank.cond_labels), np.asarray(bank.teacher_labels),
        osp.join(out, 'labels.png'))
    summary = summarize(bank)
    print(json.dumps(summary, indent=2))
    print(f'pictures: {out}/samples.png, {out}/labels.png')


if __name__ == '__main__':
    main()
