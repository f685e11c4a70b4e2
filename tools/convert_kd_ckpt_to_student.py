# Copyright (c) cgankd_plugin contributors.
"""Take the student out of a distillation checkpoint.

A checkpoint of an mmrazor distillation run (KD, cGAN-KD, ...) holds the
student under ``architecture.`` beside the teacher and the distiller, so
plain mmpretrain (``init_model``, the inferencers) loads none of it into
the student's model and evaluates random weights, with only a warning.
This tool writes the student alone::

    python tools/convert_kd_ckpt_to_student.py CHECKPOINT [--out-path OUT]

as ``dict(state_dict=..., meta=...)``: the ``architecture.`` keys without
the prefix, and the checkpoint's ``meta`` (plus ``student_of``, the
name of the file converted). ``OUT`` is a file, or an
existing directory that receives ``<name>_student.pth`` (mmrazor's tool of
the same name and flags); without it the result lands beside CHECKPOINT,
and ``--inplace`` replaces CHECKPOINT. The file is read with
``torch.load(weights_only=True)`` (the plugin allow-lists what MMEngine
checkpoints hold) and written atomically. Then, e.g.::

    python tools/test.py \\
        configs/fashion_mnist/resnet8_1xb128_fashion_mnist.py OUT

(The plugin's ``tools/test.py`` and ``load_from`` take a distillation
checkpoint as it is.) ``tools/convert_checkpoint.py`` is another
conversion: it re-saves a trusted checkpoint written without the plugin,
which ``weights_only`` refuses; run it first on such a file.
"""
import argparse
import os.path as osp
import sys
from typing import Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from cgankd_plugin.utils.atomic_io import atomic_torch_save  # noqa: E402
from cgankd_plugin.utils.checkpoint import (  # noqa: E402
    STUDENT_PREFIX, CheckpointError, extract_student, key_prefixes,
    load_checkpoint_file)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Convert a KD checkpoint to a student-only checkpoint')
    parser.add_argument('checkpoint', help='the distillation checkpoint')
    parser.add_argument(
        '--out-path',
        help='the student checkpoint to write, or an existing directory for '
        '<name>_student.pth (default: beside the checkpoint)')
    parser.add_argument(
        '--inplace',
        action='store_true',
        help='replace the checkpoint with its student')
    return parser.parse_args(argv)


def output_path(args: argparse.Namespace) -> str:
    """Where the student goes (see the module docstring).

    Args:
        args (argparse.Namespace): From :func:`parse_args`.

    Returns:
        str: The file to write.
    """
    if args.inplace:
        if args.out_path:
            raise SystemExit('Give --out-path or --inplace, not both.')
        return args.checkpoint
    name = osp.splitext(osp.basename(args.checkpoint))[0] + '_student.pth'
    if args.out_path is None:
        return osp.join(osp.dirname(args.checkpoint), name)
    if osp.isdir(args.out_path):
        return osp.join(args.out_path, name)
    if osp.exists(args.out_path) and osp.samefile(args.out_path,
                                                  args.checkpoint):
        raise SystemExit('--out-path is the checkpoint itself; pass '
                         '--inplace to replace it.')
    return args.out_path


def convert(src: str, dst: str) -> Tuple[dict, str]:
    """Write the student of the distillation checkpoint ``src`` to ``dst``.

    Args:
        src (str): An MMEngine checkpoint of an mmrazor algorithm.
        dst (str): The student checkpoint, written atomically.

    Returns:
        tuple[dict, str]: What was written (``state_dict`` and ``meta``),
        and the prefixes of the keys left out (the teacher's, ...).

    Raises:
        CheckpointError: ``src`` is missing, unsafe, or not a distillation
            checkpoint (the message names the key prefixes it has).
    """
    ckpt = load_checkpoint_file(src, 'CHECKPOINT')
    if not isinstance(ckpt, dict):
        raise CheckpointError(f'{src!r} holds a {type(ckpt).__name__}, not '
                              'a checkpoint.')
    state = ckpt.get('state_dict', ckpt)
    student = extract_student(state, repr(src))
    meta = dict(ckpt.get('meta') or {})
    meta['student_of'] = osp.basename(src)
    converted = dict(state_dict=student, meta=meta)
    left_out = [k for k in state if not k.startswith(STUDENT_PREFIX)]
    atomic_torch_save(converted, dst)
    return converted, key_prefixes(left_out)


def main(argv=None) -> None:
    """Entry point."""
    args = parse_args(argv)
    dst = output_path(args)
    try:
        converted, left_out = convert(args.checkpoint, dst)
    except CheckpointError as err:
        raise SystemExit(str(err)) from None
    print(f'Wrote the student of {args.checkpoint!r} to {dst!r}: '
          f'{len(converted["state_dict"])} keys from under '
          f'{STUDENT_PREFIX!r}; left out: {left_out}.')


if __name__ == '__main__':
    main()
