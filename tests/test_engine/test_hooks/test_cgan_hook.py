# Copyright (c) cgankd_plugin contributors.
"""CGANHook: its settings, its checks, and its stage on a stub runner.

The stub runner carries what the hook reads (the student's config, model
with ``teacher`` and ``data_preprocessor``, work_dir, launcher, logger,
message hub, visualizer). The cGAN recipe is a dict of a
``configs/cgan/`` config's shape: a width-4 BigGAN trained 2 iterations by
a nested MMEngine Runner on 20 images; the teacher is a ResNet-8.
"""
import copy
import os
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from e2e_utils import scalars
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope
from mmengine.visualization import LocalVisBackend, Visualizer
from mmpretrain.datasets import BaseDataset
from tiny_models import CLS_PREPROCESSOR, NUM_CLASSES, RESNET8_CLASSIFIER
from torch import nn

from cgankd_plugin.datasets.synthetic_mix_dataset import find_mix_dataset
from cgankd_plugin.engine.hooks.cgan_hook import CGANHook
from cgankd_plugin.engine.runner import cgan_hook_index
from cgankd_plugin.registry import DATASETS, HOOKS, MODELS
from cgankd_plugin.structures import TensorImages
from cgankd_plugin.synthesis import SyntheticBank, TeacherAdapter
from cgankd_plugin.synthesis.bank import BankError, BankStaleError
from cgankd_plugin.synthesis.builder.subsampling import dre_cache_file
from cgankd_plugin.synthesis.teacher_view import TeacherView

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
NUM_REAL = 20
NUM_FAKE = 20
PACK = [dict(type='mmpretrain.PackInputs')]


@DATASETS.register_module(force=True)
class HookTestRealSet(BaseDataset):
    """20 random 32x32 RGB images over the 10 classes."""

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


def recipe(**train_cfg) -> dict:
    """A cGAN recipe dict on the cGAN runtime of ``configs/cgan/``."""
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'cgan_runtime.py'))
    cfg.merge_from_dict(dict(
        model=dict(
            type='ClassConditionalGAN', num_classes=NUM_CLASSES,
            img_size=32, noise_dim=8,
            generator=dict(type='BigGANGenerator', base_channels=4,
                           shared_dim=8),
            discriminator=dict(type='ProjectionDiscriminator',
                               base_channels=4),
            discriminator_steps=1,
            data_preprocessor=dict(type='ConditionalGANDataPreprocessor')),
        train_dataloader=dict(
            batch_size=4, num_workers=0,
            dataset=dict(type='HookTestRealSet', pipeline=PACK),
            sampler=dict(type='InfiniteSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(
            generator=dict(optimizer=dict(type='Adam', lr=2e-4)),
            discriminator=dict(optimizer=dict(type='Adam', lr=2e-4))),
        train_cfg=dict(by_epoch=False, max_iters=2, **train_cfg),
        default_hooks=dict(checkpoint=dict(interval=1),
                           logger=dict(interval=1))))
    return cfg.to_dict()


def hook_cfg(**kwargs):
    cfg = dict(
        type='CGANHook',
        cgan=recipe(),
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


@pytest.mark.parametrize('subsample,field', [
    (dict(epochs=2, num_fake_train=100), 'unknown keys.*num_fake_train'),
    (dict(burn_in=0), r'\.burn_in must'),
    (dict(flip=1), r'\.flip must'),
])
def test_bad_subsample_settings_are_named(subsample, field):
    with pytest.raises(ValueError, match=rf'CGANHook\.subsample.*{field}'):
        HOOKS.build(hook_cfg(subsample=subsample))


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
    assert hook.filter.threshold == 2.0 and hook.filter.quantile is None
    hook = HOOKS.build(hook_cfg(filter=None))
    assert hook.filter.quantile == 0.9 and hook.filter.burn_in == 200


@pytest.mark.parametrize('relabel', ['argmax', 'Hard', None])
def test_bad_relabel_is_named(relabel):
    with pytest.raises(ValueError, match=r'CGANHook\.relabel'):
        HOOKS.build(hook_cfg(relabel=relabel))


@pytest.mark.parametrize('key,value', [
    ('bank_batch_size', 0),
    ('num_label_values', 1),
    ('max_rounds_per_condition', -1),
    ('quality_samples', -5),
    ('bank_batch_size', 2.5),
])
def test_out_of_range_settings_are_named(key, value):
    with pytest.raises(ValueError, match=rf'CGANHook\.{key}'):
        HOOKS.build(hook_cfg(**{key: value}))


# ------------------------------------------------------------ the stage
@pytest.fixture(scope='module')
def teacher_model():
    torch.manual_seed(0)
    model = nn.Module()
    model.teacher = MODELS.build(copy.deepcopy(RESNET8_CLASSIFIER))
    model.data_preprocessor = MODELS.build(copy.deepcopy(CLS_PREPROCESSOR))
    return model


class _Logger:

    def __init__(self):
        self.lines = []

    def info(self, msg):
        self.lines.append(msg)

    warning = info

    def has(self, text):
        return any(text in line for line in self.lines)


class _Visualizer:

    def __init__(self):
        self.images = {}
        self.scalars = {}

    def add_image(self, name, image, step=0):
        self.images[name] = image

    def add_scalars(self, scalars, step=0):
        self.scalars.update(scalars)


def make_runner(model, work_dir, load_from=None, visualizer=None):
    """What the hook reads of a student's runner."""
    cfg = Config(dict(
        load_from=load_from,
        test_dataloader=dict(dataset=dict(type='HookTestRealSet',
                                          pipeline=PACK))))
    return SimpleNamespace(
        cfg=cfg, model=model, work_dir=str(work_dir), launcher='none',
        logger=_Logger(), message_hub=MessageHub.get_instance(
            f'hook_test_{work_dir}'),
        visualizer=visualizer or _Visualizer())


def mix_dataset(num_fake=NUM_FAKE, bank_dir=None, pipeline=None):
    return DATASETS.build(dict(
        type='SyntheticMixDataset', num_fake=num_fake, bank_dir=bank_dir,
        dataset=dict(type='HookTestRealSet',
                     pipeline=pipeline or [dict(type='mmrazor.TeacherRelabel'),
                                           *PACK])))


def run_stage(hook, runner, **mix_kwargs):
    """What ``CGANKDRunner`` has the hook do before the training loader."""
    mix = mix_dataset(**mix_kwargs)
    if mix.bank_dir is None:
        mix.bank_dir = osp.join(runner.work_dir, 'synthetic_bank')
    return hook.build_bank(runner, mix)


def _mtimes(path):
    return {
        name: os.stat(osp.join(path, name)).st_mtime_ns
        for name in sorted(os.listdir(path))
    }


def _tree(path):
    """Every file and folder under ``path``, relative to it."""
    return sorted(
        osp.relpath(osp.join(root, name), path)
        for root, dirs, files in os.walk(path) for name in dirs + files)


def _runs(work_dir):
    """The nested cGAN Runner's runs (one timestamp folder each)."""
    return sorted(d for d in os.listdir(osp.join(work_dir, 'cgan'))
                  if osp.isdir(osp.join(work_dir, 'cgan', d)))


def test_the_stage_trains_builds_then_reuses_then_rebuilds(
        teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path)
    hook = HOOKS.build(hook_cfg())
    scope = DefaultScope.get_current_instance()
    run_stage(hook, runner)
    # the recipe trained by a nested Runner in <work_dir>/cgan; the
    # student's message hub and scope are the current ones afterwards
    assert DefaultScope.get_current_instance() is scope
    assert osp.isfile(osp.join(tmp_path, 'cgan', 'iter_2.pth'))
    assert len(_runs(tmp_path)) == 1
    assert MessageHub.get_current_instance() is runner.message_hub
    # its sample grid at the last iteration (CGANSampleHook of the runtime)
    grid = osp.join(tmp_path, 'cgan', _runs(tmp_path)[0], 'vis_data',
                    'vis_image', 'cgan_samples_2.png')
    assert osp.getsize(grid) > 0
    assert runner.logger.has('cGAN quality')
    assert 'cgan_quality/teacher_fd' in runner.message_hub.log_scalars
    bank_dir = osp.join(tmp_path, 'synthetic_bank')
    bank = SyntheticBank.open(bank_dir, verify=True)
    assert len(bank) == NUM_FAKE == len(hook.bank)
    assert np.bincount(bank.cond_labels).tolist() == [2] * NUM_CLASSES
    # hard relabelling by the runner's teacher, through its preprocessor
    _, logits = TeacherAdapter(teacher_model.teacher,
                               teacher_model.data_preprocessor)(
                                   torch.from_numpy(np.array(bank.images)))
    np.testing.assert_array_equal(bank.teacher_labels,
                                  logits.argmax(1).numpy())
    assert set(runner.visualizer.images) == {
        'cgankd_bank_samples', 'cgankd_filter_histogram'}
    before = _mtimes(bank_dir)
    cgan_files = _tree(osp.join(tmp_path, 'cgan'))

    # a second run (e.g. --resume): the finished cGAN and the bank reused
    again = make_runner(teacher_model, tmp_path)
    hook2 = HOOKS.build(hook_cfg())
    run_stage(hook2, again)
    assert again.logger.has('(2 iterations) is reused')
    assert again.logger.has('complete and matches; reusing it')
    assert len(_runs(tmp_path)) == 1  # no second training
    # nothing piles up in cgan/ (no run folder, marker or heartbeat file)
    assert _tree(osp.join(tmp_path, 'cgan')) == cgan_files
    assert _mtimes(bank_dir) == before
    # the reused bank's figures are logged again, from its meta
    assert again.visualizer.scalars['bank/num_samples'] == NUM_FAKE
    assert hook2.bank.content_hash() == bank.content_hash()

    # another setting: the bank is stale and rebuilt
    third = make_runner(teacher_model, tmp_path)
    run_stage(HOOKS.build(hook_cfg(relabel='none')), third,
              pipeline=PACK)
    assert third.logger.has('rebuilding the bank')
    rebuilt = SyntheticBank.open(bank_dir)
    np.testing.assert_array_equal(rebuilt.teacher_labels, rebuilt.cond_labels)
    assert rebuilt.key != bank.key

    # a longer recipe resumes the cGAN to the new length
    longer = make_runner(teacher_model, tmp_path)
    run_stage(HOOKS.build(hook_cfg(cgan_cfg_options={
        'train_cfg.max_iters': 3})), longer)
    assert longer.logger.has('resuming the cGAN')
    assert osp.isfile(osp.join(tmp_path, 'cgan', 'iter_3.pth'))
    assert len(_runs(tmp_path)) == 2


def test_a_retry_with_other_filter_settings_does_not_refit_cdr_rs(
        teacher_model, tmp_path):
    subsample = dict(epochs=1, batch_size=8, burn_in=4)
    run_stage(HOOKS.build(hook_cfg(subsample=subsample)),
              make_runner(teacher_model, tmp_path))
    cache = osp.join(tmp_path, 'density_ratio')
    fitted = _mtimes(cache)
    assert len(fitted) == 1  # the fit, kept in the work dir by default
    retry = make_runner(teacher_model, tmp_path)
    run_stage(HOOKS.build(hook_cfg(subsample=subsample,
                                   filter=dict(quantile=0.8, burn_in=4))),
              retry)
    assert retry.logger.has('rebuilding the bank')
    assert retry.logger.has('density-ratio model loaded from')
    assert _mtimes(cache) == fitted


def test_the_cgan_quality_and_the_banks_figures_reach_scalars_json(
        teacher_model, tmp_path):
    """Through the runner's visualizer (MMEngine's LocalVisBackend writes
    ``vis_data/scalars.json``), at step 0, before any training step."""
    visualizer = Visualizer(
        name=f'hook_test_{tmp_path}',
        vis_backends=[LocalVisBackend(save_dir=str(tmp_path / 'vis_data'))])
    runner = make_runner(teacher_model, tmp_path, visualizer=visualizer)
    bank = run_stage(HOOKS.build(hook_cfg()), runner)
    logged = {}
    for record in scalars(str(tmp_path)):
        assert record.pop('step') == 0
        logged.update(record)
    assert {'cgan_quality/teacher_fd', 'cgan_quality/teacher_precision',
            'cgan_quality/teacher_recall',
            'cgan_quality/teacher_accuracy'} <= set(logged)
    meta = bank.meta
    assert logged['bank/num_samples'] == NUM_FAKE
    for name in ('candidates', 'over_generation', 'filter_pass_rate',
                 'relabel_changed'):
        assert logged[f'bank/{name}'] == pytest.approx(meta[name])
    assert 'bank/cdrrs_acceptance' not in logged  # subsample=None
    assert runner.logger.has('CGANHook: bank figures: ')


def test_a_changed_cgan_is_not_reused_in_silence(teacher_model, tmp_path):
    run_stage(HOOKS.build(hook_cfg()), make_runner(teacher_model, tmp_path))
    # shorter than the finished one: both lengths named
    shorter = HOOKS.build(
        hook_cfg(cgan_cfg_options=dict(train_cfg=dict(max_iters=1))))
    with pytest.raises(ValueError, match=r'trained for 2 iterations.*'
                       r'train_cfg\.max_iters is 1'):
        run_stage(shorter, make_runner(teacher_model, tmp_path))
    # another recipe (learning rate): the differing key named
    other = HOOKS.build(hook_cfg(cgan_cfg_options={
        'optim_wrapper.generator.optimizer.lr': 1e-3}))
    with pytest.raises(ValueError, match='another recipe.*optim_wrapper'):
        run_stage(other, make_runner(teacher_model, tmp_path))
    assert len(_runs(tmp_path)) == 1


@pytest.mark.parametrize('options,match', [
    ({'train_cfg.max_iters': 0}, r'train_cfg\.max_iters'),
    ({'train_cfg.max_iters': -1}, r'train_cfg\.max_iters'),
    ({'model.num_classes': 7}, 'num_classes=7'),
])
def test_nonsense_in_the_recipe_stops_before_any_training(
        teacher_model, tmp_path, options, match):
    hook = HOOKS.build(hook_cfg(cgan_cfg_options=options))
    with pytest.raises(ValueError, match=match):
        run_stage(hook, make_runner(teacher_model, tmp_path))
    assert not osp.exists(osp.join(tmp_path, 'cgan'))


def test_relabelling_without_teacher_relabel_stops_before_the_cgan(
        teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path)
    with pytest.raises(ValueError, match=r"CGANHook\.relabel='hard'.*"
                       'TeacherRelabel'):
        run_stage(HOOKS.build(hook_cfg()), runner, pipeline=PACK)
    assert not osp.exists(osp.join(tmp_path, 'cgan'))


def test_missing_files_stop_before_the_cgan(teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path)
    hook = HOOKS.build(hook_cfg(generator_ckpt=str(tmp_path / 'g.pth')))
    with pytest.raises(FileNotFoundError, match=r'CGANHook\.generator_ckpt'):
        run_stage(hook, runner)
    hook = HOOKS.build(hook_cfg(cgan='configs/cgan/none.py'))
    with pytest.raises(FileNotFoundError, match=r'CGANHook\.cgan'):
        run_stage(hook, runner)
    assert not osp.exists(osp.join(tmp_path, 'cgan'))


def test_a_bank_dir_that_is_a_file_stops_before_the_cgan_trains(
        teacher_model, tmp_path):
    mine = tmp_path / 'results.csv'
    mine.write_text('a user file')
    with pytest.raises(BankError,
                       match='train_dataloader.dataset.bank_dir'):
        run_stage(HOOKS.build(hook_cfg()),
                  make_runner(teacher_model, tmp_path / 'run'),
                  bank_dir=str(mine))
    assert not osp.exists(tmp_path / 'run' / 'cgan')
    assert mine.read_text() == 'a user file'


def test_no_fake_samples_is_a_no_op(teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path)
    hook = HOOKS.build(hook_cfg())
    assert run_stage(hook, runner, num_fake=0) is None
    assert runner.logger.has('num_fake=0')
    assert not osp.exists(osp.join(tmp_path, 'cgan'))


def test_the_teacher_view_is_the_test_pipeline_unless_given(
        teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path)
    run_stage(HOOKS.build(hook_cfg()), runner)
    assert runner.logger.has('test_dataloader.dataset.pipeline (identity)')
    runner = make_runner(teacher_model, tmp_path)
    view = [dict(type='mmpretrain.Resize', scale=(16, 16))]
    with pytest.raises(ValueError, match='training pipeline gives the '
                       r'student \(32, 32\)'):
        run_stage(HOOKS.build(hook_cfg(teacher_view=view)), runner)


def test_a_student_loading_the_cgan_reuses_the_bank_of_its_trainer(
        teacher_model, tmp_path):
    """Same weights, filter and settings: the same key, whether the cGAN
    was trained in the run or loaded (``generator_ckpt``), so one bank
    serves several students."""
    run_stage(HOOKS.build(hook_cfg()), make_runner(teacher_model, tmp_path))
    bank_dir = osp.join(tmp_path, 'synthetic_bank')
    key = SyntheticBank.open(bank_dir).key
    again = make_runner(teacher_model, tmp_path / 'other')
    hook = HOOKS.build(
        hook_cfg(generator_ckpt=osp.join(tmp_path, 'cgan', 'iter_2.pth'),
                 # what it would train for, had it no weights
                 cgan_cfg_options={'train_cfg.max_iters': 7}))
    run_stage(hook, again, bank_dir=bank_dir)
    assert again.logger.has('cGAN loaded from')
    assert again.logger.has('complete and matches; reusing it')
    assert not osp.exists(tmp_path / 'other' / 'cgan' / 'recipe.json')
    assert SyntheticBank.open(bank_dir).key == key


def test_a_shared_bank_is_not_replaced_under_the_runs_using_it(
        teacher_model, tmp_path):
    """Two students share a bank outside their work dirs; a third run with
    other filter settings stops with an error instead of replacing it,
    unless it says ``overwrite_bank=True``."""
    shared = str(tmp_path / 'shared_bank')
    weights = osp.join(tmp_path / 'first', 'cgan', 'iter_2.pth')

    def student(name, **kwargs):
        runner = make_runner(teacher_model, tmp_path / name)
        run_stage(HOOKS.build(hook_cfg(**kwargs)), runner, bank_dir=shared)
        return runner

    student('first')
    key = SyntheticBank.open(shared).key
    before = _mtimes(shared)
    assert student('second', generator_ckpt=weights).logger.has(
        'complete and matches; reusing it')
    with pytest.raises(BankStaleError) as err:
        student('third', generator_ckpt=weights,
                filter=dict(quantile=0.5, burn_in=4))
    msg = str(err.value)
    assert shared in msg and 'CGANHook.overwrite_bank=True' in msg
    assert 'train_dataloader.dataset.bank_dir' in msg
    assert _mtimes(shared) == before  # untouched
    runner = student('fourth', generator_ckpt=weights,
                     filter=dict(quantile=0.5, burn_in=4),
                     overwrite_bank=True)
    assert runner.logger.has('rebuilding the bank')
    assert SyntheticBank.open(shared).key != key


def test_the_density_ratio_cache_is_named_by_what_the_fit_depends_on():
    """Banks that differ only in filtering or relabelling share one cached
    cDR-RS model; another generator, teacher, real set, view, cDR-RS
    setting or seed is another file (the load itself: the builder's
    tests)."""
    view = TeacherView([dict(type='mmrazor.GrayToRGB')], 'view')
    images = torch.zeros(4, 1, 8, 8, dtype=torch.uint8)

    def path(gen='g', teacher='t', images=images, view=view,
             subsample=dict(epochs=2), seed=0):
        return dre_cache_file('/cache', gen, teacher, view.settings(),
                              TensorImages(images, torch.arange(4)),
                              subsample, seed, 4)

    base = path()
    assert osp.dirname(base) == '/cache'
    others = [
        path(gen='g2'),
        path(teacher='t2'),
        path(images=images + 1),
        path(view=TeacherView([], 'view')),
        path(subsample=dict(epochs=3)),
        path(seed=1),
    ]
    assert base not in others and len(set(others)) == len(others)


# ------------------------------------------- before the training loader
def test_the_loader_config_names_the_bank_built_before_it(
        teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path)
    hook = HOOKS.build(hook_cfg())
    crd = dict(
        type='CRDContrastDataset',
        dataset=dict(type='SyntheticMixDataset', num_fake=NUM_FAKE,
                     dataset=dict(type='HookTestRealSet',
                                  pipeline=[dict(type='mmrazor.TeacherRelabel'),
                                            *PACK])),
        neg_num=4,
        percent=1.0)
    loader = dict(batch_size=4, dataset=crd)
    prepared = hook.prepare_train_dataloader(runner, loader)
    # the config given stays as it was; the copy names the built bank
    assert 'bank_dir' not in crd['dataset']
    bank_dir = prepared['dataset']['dataset']['bank_dir']
    assert bank_dir == osp.join(str(tmp_path), 'synthetic_bank')
    assert osp.samefile(hook.bank.path, bank_dir)
    # the loader's dataset, built afterwards, reads it from its first item
    dataset = DATASETS.build(prepared['dataset'])
    mix = find_mix_dataset(dataset)
    assert mix.get_data_info(NUM_REAL)['is_fake']
    assert not mix.get_data_info(NUM_REAL - 1)['is_fake']
    runner.train_dataloader = SimpleNamespace(dataset=dataset)
    hook.before_train(runner)


def test_before_train_refuses_a_loader_built_before_the_bank(
        teacher_model, tmp_path):
    runner = make_runner(teacher_model, tmp_path)
    runner.train_dataloader = SimpleNamespace(dataset=mix_dataset())
    with pytest.raises(RuntimeError, match="runner_type='CGANKDRunner'"):
        HOOKS.build(hook_cfg()).before_train(runner)


def test_the_hook_is_found_by_its_registered_type():
    built = HOOKS.build(hook_cfg())
    assert cgan_hook_index(None) is None
    assert cgan_hook_index([dict(type='CRDMemorySizeHook')]) is None
    assert cgan_hook_index(
        [dict(type='CRDMemorySizeHook'), dict(type='mmrazor.CGANHook')]) == 1
    assert cgan_hook_index([dict(type=CGANHook)]) == 0
    assert cgan_hook_index([built]) == 0
    with pytest.raises(ValueError, match='more than one CGANHook'):
        cgan_hook_index([dict(type='CGANHook'), built])
