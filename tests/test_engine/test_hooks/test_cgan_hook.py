# Copyright (c) cgankd_plugin contributors.
"""CGANHook: its settings, and build_bank on a stub runner.

The stub runner carries what the hook reads (model with ``teacher`` and
``data_preprocessor``, train dataloader, work_dir, logger, timestamp); the
cGAN is a width-4 BigGAN trained 2 iterations, the teacher a ResNet-8.
"""
import copy
import os
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmpretrain.datasets import BaseDataset
from tiny_models import CLS_PREPROCESSOR, NUM_CLASSES, RESNET8_CLASSIFIER
from torch import nn

from cgankd_plugin.datasets.synthetic_mix_dataset import (SyntheticMixDataset,
                                                         find_mix_dataset)
from cgankd_plugin.engine.hooks.cgan_hook import CGANHook
from cgankd_plugin.registry import DATASETS, HOOKS, MODELS
from cgankd_plugin.structures import TensorImages
from cgankd_plugin.synthesis import SyntheticBank, TeacherAdapter
from cgankd_plugin.synthesis.bank import BankError, BankStaleError
from cgankd_plugin.synthesis.layout import condition_of_positions

NUM_REAL = 20
NUM_FAKE = 20
GAN = dict(
    type='ClassConditionalGAN',
    num_classes=NUM_CLASSES,
    img_size=32,
    noise_dim=8,
    generator=dict(type='BigGANGenerator', base_channels=4, shared_dim=8),
    discriminator=dict(type='ProjectionDiscriminator', base_channels=4),
    discriminator_steps=1,
    ema_config=dict(momentum=0.5, start_iter=1))


def hook_cfg(**kwargs):
    cfg = dict(
        type='CGANHook',
        gan=GAN,
        gan_iters=2,
        gan_batch_size=4,
        gan_checkpoint_interval=1,
        subsample=None,
        filter=dict(quantile=0.9, burn_in=4),
        relabel='hard',
        bank_batch_size=4,
        max_rounds_per_condition=20,
        quality_samples=8)
    cfg.update(kwargs)
    return cfg


# ------------------------------------------------------------- settings
@pytest.mark.parametrize('filter_cfg,field', [
    (dict(quantiles=0.9), 'quantiles'),
    (dict(quantile=0.9, burnin=10), 'burnin'),
])
def test_unknown_filter_keys_are_named(filter_cfg, field):
    with pytest.raises(ValueError, match=rf'CGANHook\.filter.*{field}'):
        HOOKS.build(hook_cfg(filter=filter_cfg))


@pytest.mark.parametrize('filter_cfg,field', [
    (dict(quantile=0.0), r'filter\.quantile'),
    (dict(quantile=1.2), r'filter\.quantile'),
    (dict(threshold=-1.0), r'filter\.threshold'),
    (dict(quantile=0.9, threshold=1.0), 'not both'),
    (dict(filter_model=dict(model=dict(type='x'))), r'filter\.filter_model'),
    (dict(filter_model='densenet'), r'filter\.filter_model'),
])
def test_bad_filter_values_are_named(filter_cfg, field):
    with pytest.raises(ValueError, match=field):
        HOOKS.build(hook_cfg(filter=filter_cfg))


def test_threshold_alone_replaces_the_default_quantile():
    hook = HOOKS.build(hook_cfg(filter=dict(threshold=2.0)))
    assert isinstance(hook, CGANHook)
    assert hook.filter_threshold == 2.0 and hook.filter_quantile is None
    hook = HOOKS.build(hook_cfg(filter=None))
    assert hook.filter_quantile == 0.9 and hook.burn_in == 200


@pytest.mark.parametrize('relabel', ['argmax', 'Hard', None])
def test_bad_relabel_is_named(relabel):
    with pytest.raises(ValueError, match=r'CGANHook\.relabel'):
        HOOKS.build(hook_cfg(relabel=relabel))


# ------------------------------------------------------------ the stage
class _RealSet(BaseDataset):

    def __init__(self, **kwargs) -> None:
        super().__init__(
            ann_file='',
            metainfo=dict(classes=[f'c{i}' for i in range(NUM_CLASSES)]),
            **kwargs)

    def load_data_list(self):
        rng = np.random.default_rng(0)
        return [
            dict(img=rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
                 gt_label=i % NUM_CLASSES) for i in range(NUM_REAL)
        ]


class _Logger:

    def __init__(self):
        self.lines = []

    def info(self, msg):
        self.lines.append(msg)

    warning = info

    def has(self, text):
        return any(text in line for line in self.lines)


@pytest.fixture(scope='module')
def teacher_model():
    torch.manual_seed(0)
    model = nn.Module()
    model.teacher = MODELS.build(copy.deepcopy(RESNET8_CLASSIFIER))
    model.data_preprocessor = MODELS.build(copy.deepcopy(CLS_PREPROCESSOR))
    return model


def make_runner(model, work_dir, num_fake=NUM_FAKE, crd=True, stamp='t1'):
    mix = dict(type='SyntheticMixDataset', dataset=_RealSet(),
               num_fake=num_fake)
    if crd:
        from cgankd_plugin.datasets.crd_contrast_dataset import \
            CRDContrastDataset
        dataset = CRDContrastDataset(dataset=mix, neg_num=4, percent=1.0)
    else:
        dataset = SyntheticMixDataset(_RealSet(), num_fake)
    return SimpleNamespace(
        model=model,
        train_dataloader=SimpleNamespace(dataset=dataset),
        work_dir=str(work_dir),
        logger=_Logger(),
        timestamp=stamp,
        visualizer=None)


def run_stage(hook, runner):
    """What ``CGANKDRunner`` has the hook do, on the stub's dataset."""
    return hook.build_bank(runner, runner.train_dataloader.dataset)


def _mtimes(path):
    return {
        name: os.stat(osp.join(path, name)).st_mtime_ns
        for name in sorted(os.listdir(path))
    }


def test_build_bank_builds_then_reuses_then_rebuilds(
        teacher_model, tmp_path, monkeypatch):
    runner = make_runner(teacher_model, tmp_path)
    hook = HOOKS.build(hook_cfg())
    run_stage(hook, runner)
    mix = find_mix_dataset(runner.train_dataloader.dataset)
    bank_dir = osp.join(tmp_path, 'synthetic_bank')
    assert mix.bank_dir == bank_dir
    assert hook.regenerated
    assert osp.isfile(osp.join(tmp_path, 'cgan', 'cgan_final.pth'))
    assert runner.logger.has('cGAN: iter 2/2')
    assert runner.logger.has('cGAN quality')
    bank = SyntheticBank.open(bank_dir, verify=True)
    assert len(bank) == NUM_FAKE == len(hook.bank)
    np.testing.assert_array_equal(
        bank.cond_labels, condition_of_positions(NUM_FAKE, NUM_CLASSES))
    # hard relabelling by the runner's teacher, through its preprocessor
    _, logits = TeacherAdapter(teacher_model.teacher,
                               teacher_model.data_preprocessor)(
                                   torch.from_numpy(np.array(bank.images)))
    np.testing.assert_array_equal(bank.teacher_labels,
                                  logits.argmax(1).numpy())
    for name in ('bank_samples.png', 'filter_histogram.png'):
        assert osp.getsize(osp.join(tmp_path, 'cgankd_vis', name)) > 0
    # the training set reads the bank now
    sample = runner.train_dataloader.dataset[NUM_REAL + 3]
    assert sample['is_fake'] and sample['sample_idx'] == NUM_REAL + 3
    assert len(sample['contrast_sample_idxs']) == 5
    before = _mtimes(bank_dir)

    # a second run (e.g. --resume): the cGAN loads, the bank is reused
    from cgankd_plugin.synthesis.gan_training import GANTrainer
    real_run = GANTrainer.run

    def no_training(*args, **kwargs):
        raise AssertionError('the cGAN was trained again')

    def run_without_training(self, images, labels):
        monkeypatch.setattr(type(self.gan), 'train_on_tensors', no_training)
        return real_run(self, images, labels)

    monkeypatch.setattr(GANTrainer, 'run', run_without_training)
    again = make_runner(teacher_model, tmp_path, stamp='t2')
    hook2 = HOOKS.build(hook_cfg())
    run_stage(hook2, again)
    assert again.logger.has('complete and matches; reusing it')
    assert again.logger.has('trained weights loaded from')
    assert not hook2.regenerated
    assert _mtimes(bank_dir) == before
    assert hook2.bank.content_hash() == bank.content_hash()
    monkeypatch.undo()

    # another setting: the bank is stale and rebuilt
    third = make_runner(teacher_model, tmp_path, stamp='t3')
    hook3 = HOOKS.build(hook_cfg(relabel='none'))
    run_stage(hook3, third)
    assert third.logger.has('rebuilding the bank')
    assert hook3.regenerated
    rebuilt = SyntheticBank.open(bank_dir)
    np.testing.assert_array_equal(rebuilt.teacher_labels, rebuilt.cond_labels)
    assert rebuilt.key != bank.key


def test_build_bank_needs_a_mix_dataset(teacher_model, tmp_path):
    runner = SimpleNamespace(
        model=teacher_model,
        train_dataloader=SimpleNamespace(dataset=_RealSet()),
        work_dir=str(tmp_path), logger=_Logger(), timestamp='t')
    with pytest.raises(ValueError, match='SyntheticMixDataset'):
        run_stage(HOOKS.build(hook_cfg()), runner)


def test_no_fake_samples_is_a_no_op(teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path, num_fake=0, crd=False)
    hook = HOOKS.build(hook_cfg())
    run_stage(hook, runner)
    assert runner.logger.has('num_fake=0')
    assert not osp.exists(osp.join(tmp_path, 'cgan'))
    assert hook.bank is None


def test_gan_of_the_wrong_number_of_classes(teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path, crd=False)
    hook = HOOKS.build(hook_cfg(gan=dict(GAN, num_classes=7)))
    with pytest.raises(ValueError, match='num_classes'):
        run_stage(hook, runner)


# ----------------------------------------------------- distributed split
def _fake_dist(monkeypatch):
    """Each thread is a rank: get_dist_info reads a thread-local value."""
    import threading

    from cgankd_plugin.engine.hooks import cgan_hook
    local = threading.local()
    monkeypatch.setattr(cgan_hook, 'get_dist_info',
                        lambda: (local.rank, local.world))
    monkeypatch.setattr(cgan_hook, 'barrier', lambda: None)
    # threads share one file system; the check has tests of its own
    monkeypatch.setattr(cgan_hook, 'check_shared_storage',
                        lambda *args: None)
    return local


def _run_ranks(local, hooks, runners):
    """Run ``build_bank`` of each rank, rank 0 in this thread."""
    import threading
    errors = {}

    def go(rank):
        local.rank, local.world = rank, len(hooks)
        try:
            run_stage(hooks[rank], runners[rank])
        except BaseException as err:  # noqa: B902
            errors[rank] = err

    threads = [
        threading.Thread(target=go, args=(r, ), daemon=True)
        for r in range(1, len(hooks))
    ]
    for t in threads:
        t.start()
    go(0)
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive()
    assert not errors, errors


def _rank_hooks(world, **kwargs):
    hooks = [HOOKS.build(hook_cfg(**kwargs)) for _ in range(world)]
    for hook in hooks:
        hook.poll_seconds = 0.02
    return hooks


def test_two_ranks_split_the_build_into_the_one_rank_bank(
        teacher_model, tmp_path, monkeypatch):
    single = make_runner(teacher_model, tmp_path / 'single', crd=False)
    run_stage(HOOKS.build(hook_cfg()), single)
    reference = SyntheticBank.open(osp.join(tmp_path, 'single',
                                            'synthetic_bank'))

    local = _fake_dist(monkeypatch)
    work = tmp_path / 'multi'
    runners = [
        make_runner(copy.deepcopy(teacher_model), work, crd=False)
        for _ in range(2)
    ]
    hooks = _rank_hooks(2)
    _run_ranks(local, hooks, runners)
    bank = SyntheticBank.open(osp.join(work, 'synthetic_bank'))
    assert bank.content_hash() == reference.content_hash()
    assert bank.key == reference.key
    assert hooks[0].regenerated and not hooks[1].regenerated
    assert hooks[1].bank.content_hash() == bank.content_hash()
    # rank 1 loaded rank 0's cGAN and drew its classes (1, 3, 5, 7, 9)
    assert runners[1].logger.has('rank 1/2 joins the bank build')
    assert not runners[1].logger.has('cGAN: iter')
    shares = {s['rank']: s for s in bank.meta['by_rank_this_session']}
    assert shares[1]['accepted'] == NUM_FAKE // 2 == shares[0]['accepted']
    assert runners[0].logger.has('bank: built by 2 ranks')
    assert not osp.exists(osp.join(work, 'synthetic_bank.staging'))

    # a second run: rank 0 finds the bank complete, rank 1 only waits
    again = [
        make_runner(copy.deepcopy(teacher_model), work, crd=False,
                    stamp='t2') for _ in range(2)
    ]
    _run_ranks(local, _rank_hooks(2), again)
    assert again[0].logger.has('complete and matches; reusing it')
    assert not again[1].logger.has('joins the bank build')


def test_a_rank_with_another_teacher_refuses_to_build(teacher_model, tmp_path,
                                                      monkeypatch):
    local = _fake_dist(monkeypatch)
    other = copy.deepcopy(teacher_model)
    with torch.no_grad():
        next(other.teacher.parameters()).add_(1.0)
    runners = [make_runner(copy.deepcopy(teacher_model), tmp_path,
                           crd=False),
               make_runner(other, tmp_path, crd=False)]
    hooks = _rank_hooks(2)
    with pytest.raises(AssertionError) as info:
        _run_ranks(local, hooks, runners)
    assert 'filtering network differs' in str(info.value)


def test_a_student_loading_the_cgan_reuses_the_bank_of_its_trainer(
        teacher_model, tmp_path):
    """Same weights, filter and settings: the same key, whether the cGAN
    was trained in the run or loaded (``generator_ckpt``), so one bank
    serves several students."""
    runner = make_runner(teacher_model, tmp_path)
    run_stage(HOOKS.build(hook_cfg()), runner)
    bank_dir = osp.join(tmp_path, 'synthetic_bank')
    key = SyntheticBank.open(bank_dir).key
    other = tmp_path / 'other'
    other.mkdir()
    again = make_runner(teacher_model, str(other), stamp='t2')
    mix = find_mix_dataset(again.train_dataloader.dataset)
    mix.bank_dir = bank_dir
    hook = HOOKS.build(
        hook_cfg(
            gan_iters=7,  # what it would train for, had it no weights
            generator_ckpt=osp.join(tmp_path, 'cgan', 'cgan_final.pth')))
    run_stage(hook, again)
    assert again.logger.has('complete and matches; reusing it')
    assert not hook.regenerated
    assert SyntheticBank.open(bank_dir).key == key


def test_a_shared_bank_is_not_replaced_under_the_runs_using_it(
        teacher_model, tmp_path):
    """Two students share a bank outside their work dirs; a third run with
    other filter settings stops with an error instead of replacing it,
    unless it says ``overwrite_bank=True``."""
    shared = str(tmp_path / 'shared_bank')
    weights = osp.join(tmp_path / 'first', 'cgan', 'cgan_final.pth')

    def student(name, **kwargs):
        runner = make_runner(teacher_model, tmp_path / name, stamp=name)
        find_mix_dataset(runner.train_dataloader.dataset).bank_dir = shared
        hook = HOOKS.build(hook_cfg(**kwargs))
        return runner, hook

    runner, hook = student('first')
    run_stage(hook, runner)
    key = SyntheticBank.open(shared).key
    before = _mtimes(shared)

    runner, hook = student('second', generator_ckpt=weights)
    run_stage(hook, runner)
    assert runner.logger.has('complete and matches; reusing it')

    runner, hook = student(
        'third', generator_ckpt=weights,
        filter=dict(quantile=0.5, burn_in=4))
    with pytest.raises(BankStaleError) as err:
        run_stage(hook, runner)
    msg = str(err.value)
    assert shared in msg and 'CGANHook.overwrite_bank=True' in msg
    assert 'train_dataloader.dataset.bank_dir' in msg
    assert _mtimes(shared) == before  # untouched
    assert SyntheticBank.open(shared, expected_key=key).key == key

    runner, hook = student(
        'fourth', generator_ckpt=weights,
        filter=dict(quantile=0.5, burn_in=4), overwrite_bank=True)
    run_stage(hook, runner)
    assert runner.logger.has('rebuilding the bank')
    assert SyntheticBank.open(shared).key != key


def test_a_bank_dir_that_is_a_file_stops_before_the_cgan_trains(
        teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path / 'run')
    mine = tmp_path / 'results.csv'
    mine.write_text('a user file')
    find_mix_dataset(runner.train_dataloader.dataset).bank_dir = str(mine)
    with pytest.raises(BankError,
                       match='train_dataloader.dataset.bank_dir'):
        run_stage(HOOKS.build(hook_cfg()), runner)
    assert not runner.logger.has('cGAN: iter')
    assert mine.read_text() == 'a user file'


def test_the_density_ratio_cache_is_named_by_what_the_fit_depends_on():
    """Banks that differ only in filtering or relabelling share one cached
    cDR-RS model; another generator, teacher, real set, cDR-RS setting or
    seed is another file (the load itself: test_bank_builder.py)."""
    from cgankd_plugin.synthesis.teacher_view import TeacherView
    subsample = dict(epochs=2)
    view = TeacherView([dict(type='mmrazor.GrayToRGB')], 'view')
    images = torch.zeros(4, 1, 8, 8, dtype=torch.uint8)
    labels = torch.arange(4)

    def path(gen='g', teacher='t', images=images, view=view, **kwargs):
        hook = HOOKS.build(
            hook_cfg(**dict(dict(subsample=subsample,
                                 density_ratio_cache='/cache'), **kwargs)))
        return hook._dre_cache_file(gen, teacher, view,
                                    TensorImages(images, labels))

    base = path()
    assert osp.dirname(base) == '/cache'
    assert osp.basename(base).startswith('dre_')
    assert path(filter=dict(quantile=0.5, burn_in=4)) == base
    assert path(relabel='none') == base
    others = [
        path(gen='g2'),
        path(teacher='t2'),
        path(images=images + 1),
        path(view=TeacherView([], 'view')),
        path(subsample=dict(epochs=3)),
        path(seed=1),
    ]
    assert base not in others and len(set(others)) == len(others)
    assert path(density_ratio_cache=None) is None
    assert path(subsample=None) is None


# ------------------------------------------- before the training loader
def test_the_loader_config_names_the_bank_built_before_it(
        teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path, crd=False)
    hook = HOOKS.build(hook_cfg())
    crd = dict(
        type='CRDContrastDataset',
        dataset=dict(type='SyntheticMixDataset', dataset=_RealSet(),
                     num_fake=NUM_FAKE),
        neg_num=4,
        percent=1.0)
    loader = dict(batch_size=4, dataset=crd)
    prepared = hook.prepare_train_dataloader(runner, loader)
    # the config given stays as it was; the copy names the built bank
    assert 'bank_dir' not in crd['dataset']
    bank_dir = prepared['dataset']['dataset']['bank_dir']
    assert bank_dir == CGANHook.default_bank_dir(str(tmp_path))
    assert SyntheticBank.is_complete(bank_dir)
    assert osp.samefile(hook.bank.path, bank_dir)
    # the loader's dataset, built afterwards, reads it from its first item
    dataset = DATASETS.build(prepared['dataset'])
    mix = find_mix_dataset(dataset)
    assert mix.get_data_info(NUM_REAL)['is_fake']
    runner.train_dataloader = SimpleNamespace(dataset=dataset)
    hook.before_train(runner)


def test_before_train_refuses_a_loader_built_before_the_bank(
        teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path, crd=False)
    with pytest.raises(RuntimeError, match="runner_type='CGANKDRunner'"):
        HOOKS.build(hook_cfg()).before_train(runner)


def test_the_hook_is_found_by_its_registered_type():
    from cgankd_plugin.engine.hooks import cgan_hook_index
    built = HOOKS.build(hook_cfg())
    assert cgan_hook_index(None) is None
    assert cgan_hook_index([dict(type='CRDMemorySizeHook')]) is None
    assert cgan_hook_index(
        [dict(type='CRDMemorySizeHook'), dict(type='mmrazor.CGANHook')]) == 1
    assert cgan_hook_index([dict(type=CGANHook)]) == 0
    assert cgan_hook_index([built]) == 0
    with pytest.raises(ValueError, match='more than one CGANHook'):
        cgan_hook_index([dict(type='CGANHook'), built])
