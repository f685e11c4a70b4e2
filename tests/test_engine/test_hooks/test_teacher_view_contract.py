# Copyright (c) cgankd_plugin contributors.
"""The teacher-view contract on a bank built from the real demo config.

``configs/fashion_mnist/cgankd_vgg8_resnet8_1xb128_fashion_mnist.py``,
shrunk (a cGAN of a few iterations, a bank of 200 samples), builds its
bank through ``CGANKDRunner`` and ``CGANHook``. The bank's
teacher labels must be the teacher's predictions on the bank images passed
through the config's test pipeline: with the config's own setting (cGAN
at the pipeline's 28 px) and with a pipeline that resizes to 32 px while
the cGAN stays at 28 px (where the teacher used to see the raw 28 px
images).
"""
import os

import numpy as np
import pytest
import torch
from e2e_utils import fashion_mnist_bank_options
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import DefaultScope

import cgankd_plugin  # noqa: F401
from cgankd_plugin.registry import DATASETS, MODELS, TRANSFORMS
from cgankd_plugin.utils.tool_config import build_runner

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
CONFIG = os.path.join(REPO_ROOT, 'configs', 'fashion_mnist',
                      'cgankd_vgg8_resnet8_1xb128_fashion_mnist.py')
REAL_BANK = os.path.join(REPO_ROOT, 'configs', 'fashion_mnist',
                         'cgankd_realbank_vgg8_resnet8_1xb128_'
                         'fashion_mnist.py')
DATA_ROOT = os.path.join(REPO_ROOT, 'data', 'fashion_mnist')
NUM_FAKE = 200
RESIZE = dict(type='mmpretrain.Resize', scale=(32, 32))

pytestmark = pytest.mark.skipif(
    not os.path.isfile(os.path.join(DATA_ROOT, 't10k-images-idx3-ubyte')),
    reason='Fashion-MNIST not unpacked in data/fashion_mnist (make data)')


@pytest.fixture(autouse=True)
def own_default_scope():
    """The runners built here set MMEngine's default scope (mmrazor); the
    tests after this file must find the one they had."""
    with DefaultScope.overwrite_default_scope('mmrazor'):
        yield


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory) -> str:
    """The config's vgg8 teacher after a few Adam steps on 500 real images
    at 28 px: a teacher whose labels mean something (a random one calls
    every image the same class)."""
    torch.manual_seed(0)
    cfg = Config.fromfile(CONFIG)
    teacher = MODELS.build(cfg.model.teacher)
    preprocessor = MODELS.build(cfg.data_preprocessor)
    real = DATASETS.build(
        dict(cfg.train_dataloader.dataset.dataset, indices=500,
             pipeline=cfg.val_dataloader.dataset.pipeline))
    samples = [real[i] for i in range(len(real))]
    inputs = torch.stack([s['inputs'] for s in samples])
    labels = torch.cat([s['data_samples'].gt_label for s in samples])
    optimizer = torch.optim.Adam(teacher.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(40):
        idx = torch.randint(len(inputs), (64, ), generator=gen)
        x = preprocessor(dict(inputs=inputs[idx]), True)['inputs']
        loss = torch.nn.functional.cross_entropy(_logits(teacher, x),
                                                 labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def _logits(teacher, x):
    return teacher.head.fc(teacher.neck(teacher.backbone(x))[-1])


def _shrunk_config(work_dir: str, teacher_ckpt: str, resize: bool,
                   config: str = CONFIG) -> Config:
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.model.teacher_ckpt = teacher_ckpt
    cfg.merge_from_dict(fashion_mnist_bank_options(NUM_FAKE))
    cgan = cfg.custom_hooks[0].cgan
    if isinstance(cgan, dict):  # RealImagePool: real images, no training
        cgan.model.dataset.indices = 1000
        cgan.model.exclude_first = 200
    cfg.test_dataloader = cfg.val_dataloader
    if resize:
        # the old demo's setting: the student sees 32 px, the cGAN makes 28
        for pipeline in (cfg.train_dataloader.dataset.dataset.pipeline,
                         cfg.val_dataloader.dataset.pipeline):
            pipeline.insert(1, dict(RESIZE))
            for transform in pipeline:
                if transform['type'].endswith('RandomCrop'):
                    transform['crop_size'] = 32
    return cfg


def _build_bank(cfg: Config):
    runner = build_runner(cfg)
    # CGANKDRunner builds the bank before it builds the training loader
    runner.train_loop  # noqa: B018
    hook = runner.cgan_hook()
    return runner, hook.bank


@torch.no_grad()
def _teacher_labels(runner, images: np.ndarray, pipeline) -> np.ndarray:
    """The teacher's argmax on ``images`` shown through ``pipeline``."""
    test = Compose([TRANSFORMS.build(t) for t in pipeline])
    inputs = torch.stack(
        [test(dict(img=image[0]))['inputs'] for image in images])
    model = runner.model
    model.eval()
    data = model.data_preprocessor(dict(inputs=inputs), False)
    teacher = model.teacher
    return _logits(teacher, data['inputs']).argmax(1).numpy()


def _agreement(runner, bank, pipeline) -> float:
    images = np.asarray(bank.images[:len(bank)])
    assert images.shape == (NUM_FAKE, 1, 28, 28)  # the bank's resolution
    stored = np.asarray(bank.teacher_labels[:len(bank)])
    return float((_teacher_labels(runner, images, pipeline) == stored).mean())


@pytest.mark.parametrize('resize', [False, True], ids=['demo', 'resized'])
def test_bank_labels_are_the_teachers_at_the_students_view(
        tmp_path, teacher_ckpt, resize):
    cfg = _shrunk_config(str(tmp_path), teacher_ckpt, resize)
    runner, bank = _build_bank(cfg)
    assert _agreement(runner, bank,
                      cfg.val_dataloader.dataset.pipeline) >= 0.999


def test_the_raw_cgan_view_would_give_other_labels(tmp_path, teacher_ckpt):
    """What the test above tells apart: with the pipeline at 32 px, the
    teacher's labels of the raw 28 px images (the old view) differ from
    those of the student's view; shown on a bank of real images (the
    upper-bound config), whose labels mean something after a few
    cGAN iterations' worth of training."""
    cfg = _shrunk_config(str(tmp_path), teacher_ckpt, True, REAL_BANK)
    runner, bank = _build_bank(cfg)
    view = cfg.val_dataloader.dataset.pipeline
    raw = [t for t in view if t['type'] != RESIZE['type']]
    assert _agreement(runner, bank, view) >= 0.999
    assert _agreement(runner, bank, raw) < 0.97


def test_a_cgan_size_the_pipeline_does_not_reach_is_refused(
        tmp_path, teacher_ckpt):
    cfg = _shrunk_config(str(tmp_path), teacher_ckpt, resize=False)
    cfg.merge_from_dict(
        {'custom_hooks.0.cgan_cfg_options.model.img_size': 32})
    with pytest.raises(ValueError,
                       match=r'CGANHook\.cgan model\.img_size'):
        _build_bank(cfg)
    # refused before any cGAN training
    assert not os.path.exists(os.path.join(str(tmp_path), 'cgan'))
