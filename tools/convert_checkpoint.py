# Copyright (c) cgankd_plugin contributors.
"""Convert a checkpoint written without the plugin so it loads safely.

MMEngine checkpoints written without ``cgankd_plugin`` imported (by plain
MMEngine / mmrazor / mmpretrain, or by an older version of the plugin)
pickle the message hub's ``HistoryBuffer`` statistics methods through
``getattr``. torch >= 2.6 loads with ``weights_only=True`` and rightly
refuses that, so ``--resume`` (or ``load_from``) stops with an
``UnpicklingError`` about ``getattr``. Never allow-list ``getattr``: it
opens the unpickler to arbitrary code. Instead convert such a file once::

    python tools/convert_checkpoint.py IN.pth OUT.pth --trust

This loads ``IN`` with ``weights_only=False``, which runs any code pickled
in it: do it only for files you trust (written by you or your team). The
result is written with the plugin imported, checked to load with
``weights_only=True``, and can then be resumed from::

    python tools/train.py CONFIG --resume OUT.pth
"""
import argparse
import os
import os.path as osp
import sys

TRUST_NOTICE = (
    'Converting loads {src!r} with torch.load(weights_only=False), which '
    'runs any code pickled in the file. Only convert checkpoints you trust '
    '(written by you or your team), never downloaded ones of unknown '
    'origin.')


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Re-save a trusted MMEngine checkpoint so that it loads '
        'with torch.load(weights_only=True) (e.g. for --resume).')
    parser.add_argument('src', metavar='IN', help='the checkpoint to convert')
    parser.add_argument('dst', metavar='OUT', help='where to write the result')
    parser.add_argument(
        '--trust',
        action='store_true',
        help='confirm that IN is trusted: it is loaded with '
        'weights_only=False, which can run code stored in it')
    return parser.parse_args(argv)


def convert(src: str, dst: str) -> None:
    """Load ``src`` unsafely, save it as ``dst``, check ``dst`` loads safely.

    Args:
        src (str): A trusted checkpoint.
        dst (str): The converted file; removed again if it still does not
            load with ``weights_only=True``.
    """
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    import pickle

    import torch

    import cgankd_plugin  # noqa: F401  (writes HistoryBuffer safely)

    checkpoint = torch.load(src, map_location='cpu', weights_only=False)
    torch.save(checkpoint, dst)
    try:
        torch.load(dst, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        os.remove(dst)
        raise SystemExit(
            f'{src!r} holds objects besides the MMEngine state that the '
            'plugin allow-lists, so even the converted file would be '
            f'refused by weights_only=True; nothing was written. Detail: '
            f'{err}') from None


def main(argv=None) -> None:
    """Entry point."""
    args = parse_args(argv)
    print(TRUST_NOTICE.format(src=args.src))
    if not args.trust:
        raise SystemExit('Refusing to load it: pass --trust if you trust '
                         f'{args.src!r}.')
    if not osp.isfile(args.src):
        raise SystemExit(f'{args.src!r} does not exist.')
    if osp.exists(args.dst) and osp.samefile(args.src, args.dst):
        raise SystemExit('OUT must differ from IN (the original is kept).')
    convert(args.src, args.dst)
    print(f'Wrote {args.dst!r}; it loads with weights_only=True. Resume '
          f'with: python tools/train.py CONFIG --resume {args.dst}')


if __name__ == '__main__':
    main()
