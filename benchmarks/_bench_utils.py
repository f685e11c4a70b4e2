# Copyright (c) cgankd_plugin contributors.
"""Helpers shared by the benchmark scripts (models, timing, host facts).

The machines these run on are often shared: every benchmark measures its
two sides interleaved (A, B, A, B, ...) over several repeats and reports
medians, and prints the load average seen before and after.
"""
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
from typing import Dict, List, Sequence

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
# progress lines show up as they happen, also when piped to a file
sys.stdout.reconfigure(line_buffering=True)

NUM_CLASSES = 10
CIFAR_MEAN = [129.304, 124.070, 112.434]
CIFAR_STD = [68.170, 65.392, 70.418]


def host_summary() -> str:
    """CPU model, visible cores and the current load average."""
    model = platform.processor() or 'unknown'
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True,
                             check=False).stdout
        for line in out.splitlines():
            if line.lower().startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    import torch
    return (f'cpu: {model}, {os.cpu_count()} cores visible, torch threads '
            f'{torch.get_num_threads()}, load average {load_average()}')


def load_average() -> str:
    return ' '.join(f'{x:.2f}' for x in os.getloadavg())


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> str:
    """'median [min..max] (n=...)' of a list of timings."""
    return (f'{median(values):.4f} [{min(values):.4f}..{max(values):.4f}] '
            f'(n={len(values)})')


def verdict(ratio: float, target: float) -> str:
    return (f'target <= {target:.2f}: '
            f'{"MET" if ratio <= target else "NOT MET"}')


def build_classifier(arch: str, num_classes: int = NUM_CLASSES):
    """An untrained mmpretrain ImageClassifier on mmrazor's ResNetCIFAR."""
    from cgankd_plugin.registry import MODELS
    width = {'resnet8': 64, 'resnet14': 64, 'resnet20': 64,
             'resnet8x4': 256, 'resnet32x4': 256}[arch]
    return MODELS.build(
        dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(type='mmrazor.ResNetCIFAR', arch=arch),
            neck=dict(type='mmpretrain.GlobalAveragePooling'),
            head=dict(
                type='mmpretrain.LinearClsHead',
                num_classes=num_classes,
                in_channels=width),
            data_preprocessor=dict(
                type='mmpretrain.ClsDataPreprocessor',
                num_classes=num_classes,
                mean=CIFAR_MEAN,
                std=CIFAR_STD,
                to_rgb=False)))


def gan_config(base_channels: int = 32,
               num_classes: int = NUM_CLASSES) -> dict:
    """The config of a class-conditional BigGAN at 32x32."""
    return dict(
        type='ClassConditionalGAN',
        num_classes=num_classes,
        img_size=32,
        noise_dim=128,
        generator=dict(type='BigGANGenerator', base_channels=base_channels),
        discriminator=dict(type='ProjectionDiscriminator',
                           base_channels=base_channels))


def build_gan(base_channels: int = 32, num_classes: int = NUM_CLASSES):
    """An untrained class-conditional BigGAN at 32x32."""
    from cgankd_plugin.registry import MODELS
    return MODELS.build(gan_config(base_channels, num_classes))


def print_table(rows: List[Dict[str, str]]) -> None:
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in keys}
    print('  '.join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        print('  '.join(r[k].ljust(widths[k]) for k in keys))
