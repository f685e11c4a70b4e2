# Copyright (c) cgankd_plugin contributors.
"""Every paper config carries the official cGAN-KD student protocol.

The figures are read from the official scripts (UBCDingXin/cGAN-KD):
``{CIFAR-100,ImageNet-100}/RepDistiller/scripts/{distill/run_distill_fake,
vanilla/run_vanilla_fake}.sh`` with ``train_student.py`` /
``train_teacher.py``, and ``{UTKFace,SteeringAngle}/scripts/
run_cnn_fake.sh``: the student starts from its converged no-KD checkpoint
(``--finetune``), the fine-tune's lr, batch, epochs and decay points, the
bank of each row (filter quantile, relabelling) and the loss weights.
"""
import os.path as osp
import re

import pytest
from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CIFAR = dict(
    student='resnet8x4_cifar100', epoch=240, lr=0.01, batch=128,
    epochs=240, milestones=[150, 180, 210], num_fake=100000)
KD = dict(loss_kd=('KLDivergence', 0.9))
# CE + KD (T 4, weight 1) + the method's loss: -a 1 -b <weight>
KD1 = dict(loss_kd=('KLDivergence', 1.0))
STACKED = dict(quantile=0.8, relabel='none')
UTKFACE = dict(
    student='resnet20_utkface', epoch=350, lr=0.01, batch=128, epochs=240,
    milestones=[150, 180, 210], num_fake=60000, quantile=0.7,
    relabel='hard')
STEERING = dict(
    student='resnet20_steering_angle', epoch=350, lr=0.01, batch=128,
    epochs=350, milestones=[150, 250], num_fake=50000, quantile=0.9,
    relabel='none')
L1 = dict(loss_l1=('L1Loss', 1.0))  # the project's own regression KD term

PAPER_CONFIGS = {
    'cgankd_resnet32x4_resnet8x4_1xb128_cifar100': dict(
        CIFAR, quantile=0.9, relabel='hard', ce=1.0, losses={}),
    'cgankd_kd_logits_resnet32x4_resnet8x4_1xb128_cifar100': dict(
        CIFAR, **STACKED, ce=0.1, losses=KD),
    'cgankd_fitnet_backbone_resnet32x4_resnet8x4_1xb128_cifar100': dict(
        CIFAR, **STACKED, ce=1.0,
        losses=dict(KD1, loss_fitnet=('L2Loss', 100))),
    'cgankd_crd_neck_resnet32x4_resnet8x4_1xb128_cifar100': dict(
        CIFAR, **STACKED, ce=1.0,
        losses=dict(KD1, loss_crd=('WeightedCRDLoss', 0.8))),
    'crd_resnet_cifar100': dict(
        CIFAR, **STACKED, ce=1.0,
        losses=dict(KD1, loss_crd=('WeightedCRDLoss', 0.8))),
    # no official DKD run: DKD's own weights, the stacked protocol
    'cgankd_dkd_logits_resnet32x4_resnet8x4_1xb128_cifar100': dict(
        CIFAR, **STACKED, ce=1.0, losses=dict(loss_dkd=('DKDLoss', 1.0))),
    'cgankd_kd_logits_vgg19_vgg8_1xb256_imagenet100': dict(
        CIFAR, student='vgg8_imagenet100', batch=256, quantile=0.9,
        relabel='none', ce=0.1, losses=KD),
    'cgankd_vgg11_resnet20_1xb128_utkface': dict(
        UTKFACE, ce=None, losses={}),
    'cgankd_kd_head_vgg11_resnet20_1xb128_utkface': dict(
        UTKFACE, ce=None, losses=L1),
    'cgankd_vgg19_resnet20_1xb128_steering_angle': dict(
        STEERING, ce=None, losses={}),
    'cgankd_kd_head_vgg19_resnet20_1xb128_steering_angle': dict(
        STEERING, ce=None, losses=L1),
}


def _cgan_hook(cfg):
    (hook, ) = [h for h in cfg.custom_hooks if h['type'] == 'CGANHook']
    return hook


def _mix(cfg):
    dataset = cfg.train_dataloader.dataset
    while dataset.get('type') != 'SyntheticMixDataset':
        dataset = dataset['dataset']
    return dataset


@pytest.mark.parametrize('name', sorted(PAPER_CONFIGS))
def test_the_paper_config_carries_the_official_protocol(name):
    want = PAPER_CONFIGS[name]
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'cgankd',
                                   name + '.py'))
    # the converged no-KD student, where its own config writes it
    assert cfg.load_from == (f"work_dirs/{want['student']}/"
                             f"epoch_{want['epoch']}.pth")
    maker = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'teachers', want['student'] + '.py'))
    assert maker.train_cfg.max_epochs == want['epoch']
    assert want['epoch'] % maker.default_hooks.checkpoint.interval == 0
    assert maker.model.backbone == cfg.model.architecture.backbone
    # the fine-tune: epochs over real + fake, lr, batch, decay points
    assert cfg.optim_wrapper.optimizer.lr == want['lr']
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4
    assert cfg.train_dataloader.batch_size == want['batch']
    assert cfg.auto_scale_lr.base_batch_size == want['batch']
    assert cfg.train_cfg.max_epochs == want['epochs']
    assert cfg.param_scheduler.milestones == want['milestones']
    assert _mix(cfg).num_fake == want['num_fake']
    # the official bank of this row
    hook = _cgan_hook(cfg)
    assert hook['filter']['quantile'] == want['quantile']
    assert hook['relabel'] == want['relabel']
    # the official loss weights
    losses = cfg.model.distiller.get('distill_losses', {})
    assert {k: (v['type'], v['loss_weight'])
            for k, v in losses.items()} == want['losses']
    for loss in losses.values():
        if loss['type'] in ('KLDivergence', 'DKDLoss'):
            assert loss['tau'] == 4
    if want['ce'] is not None:
        assert cfg.model.architecture.head.loss.loss_weight == want['ce']


@pytest.mark.parametrize('name', sorted(PAPER_CONFIGS))
def test_the_name_says_the_batch(name):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'cgankd',
                                   name + '.py'))
    found = re.search(r'_(\d+)xb(\d+)_', name)
    if found is None:  # the README's short entry point
        return
    assert int(found.group(2)) == cfg.train_dataloader.batch_size


def test_every_cgankd_config_is_in_the_table():
    import glob
    names = {
        osp.splitext(osp.basename(p))[0]
        for p in glob.glob(osp.join(REPO_ROOT, 'configs', 'cgankd', '*.py'))
    }
    assert names == set(PAPER_CONFIGS)
