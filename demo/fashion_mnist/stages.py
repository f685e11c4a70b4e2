# Copyright (c) cgankd_plugin contributors.
"""The stages of the Fashion-MNIST experiment and what each task reports.

Each stage is one ``tools/train.py`` (or ``tools/build_bank.py``) run of a
config in ``configs/fashion_mnist/``; its fields say which stages' outputs
it starts from.
"""
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CONFIG_DIR = osp.join('configs', 'fashion_mnist')


class Stage(NamedTuple):
    """One training run of the experiment.

    Attributes:
        name (str): Its folder and its tag in the log.
        task (str): ``'classification'`` or ``'rotation'``.
        row (str): Its row in ``<task>.json`` (None: not a row).
        config (str): Its config, relative to the repository root.
        model (str): How the results table names it.
        shared (bool): Trained once for all seeds (seed 0's options).
        tool (str): ``'train'`` or ``'build_bank'`` (cGAN only).
        teacher (str, optional): The stage whose checkpoint is this one's
            ``model.teacher_ckpt``.
        init_from (str, optional): The stage whose checkpoint this one
            fine-tunes (``load_from``).
        cgan_from (str, optional): The stage whose trained cGAN this one
            loads (``custom_hooks.0.generator_ckpt``).
        shared_bank (bool): Its synthetic bank is built once, by the first
            seed (bank seed = the first seed), in ``<root>/banks/<name>``,
            and reused by the other seeds' students, as the teacher and the
            cGAN are: for banks whose cDR-RS fit costs more than the
            student (the seeds then vary the students, not the bank). The
            shared banks keep their cDR-RS models in
            ``<root>/banks/density_ratio`` (``CGANHook.density_ratio_cache``),
            so banks that differ only in filtering fit it once.
        after (str, optional): A stage of the same seed that must finish
            first, though this one does not use its output (so the second
            shared bank finds the cDR-RS model the first one fitted).
    """
    name: str
    task: str
    row: Optional[str]
    config: str
    model: str
    shared: bool = False
    tool: str = 'train'
    teacher: Optional[str] = None
    init_from: Optional[str] = None
    cgan_from: Optional[str] = None
    shared_bank: bool = False
    after: Optional[str] = None

    @property
    def deps(self) -> List[str]:
        return [d for d in (self.teacher, self.init_from, self.cgan_from) if d]


def _config(name: str) -> str:
    return osp.join(CONFIG_DIR, name)


def _task_stages(task: str, suffix: str, configs: Dict[str, str],
                 teacher: str, student: str,
                 shared_banks: bool = False) -> Tuple[Stage, ...]:
    """The stages of one task; ``configs`` maps a row to its config.

    ``shared_banks``: the cGAN-KD stages share one bank across seeds.
    """

    def name(row):
        return row + suffix

    stages = [
        Stage(name('teacher'), task, 'teacher', configs['teacher'],
              f'{teacher} (teacher)', shared=True),
        Stage(name('cgan'), task, None, configs['cgankd'],
              'cGAN (trained on the teacher\'s images)', shared=True,
              tool='build_bank', teacher=name('teacher')),
        Stage(name('student'), task, 'student', configs['student'],
              f'{student} alone, converged'),
        Stage(name('finetune_real'), task, 'finetune_real',
              configs['finetune_real'],
              f'{student} fine-tuned on real only (same steps)',
              init_from=name('student')),
    ]
    if 'finetune_kd' in configs:
        stages.append(
            Stage(name('finetune_kd'), task, 'finetune_kd',
                  configs['finetune_kd'], f'{student} fine-tuned with KD',
                  teacher=name('teacher'), init_from=name('student')))
    stages.append(
        Stage(name('cgankd'), task, 'cgankd', configs['cgankd'],
              f'{student} + cGAN-KD', teacher=name('teacher'),
              init_from=name('student'), cgan_from=name('cgan'),
              shared_bank=shared_banks))
    if 'kd_cgankd' in configs:
        stages.append(
            Stage(name('kd_cgankd'), task, 'kd_cgankd', configs['kd_cgankd'],
                  f'{student} + KD + cGAN-KD', teacher=name('teacher'),
                  init_from=name('student'), cgan_from=name('cgan'),
                  shared_bank=shared_banks,
                  after=name('cgankd') if shared_banks else None))
    stages.append(
        Stage(name('real_bank'), task, 'real_bank', configs['real_bank'],
              f'{student} + bank of unseen real images (upper bound)',
              teacher=name('teacher'), init_from=name('student')))
    return tuple(stages)

CLASSIFICATION_CONFIGS = dict(
    teacher='vgg8_1xb128_fashion_mnist.py',
    student='resnet8_1xb128_fashion_mnist.py',
    finetune_real='resnet8_finetune_1xb128_fashion_mnist.py',
    finetune_kd='kd_logits_vgg8_resnet8_1xb128_fashion_mnist.py',
    cgankd='cgankd_vgg8_resnet8_1xb128_fashion_mnist.py',
    kd_cgankd='cgankd_kd_logits_vgg8_resnet8_1xb128_fashion_mnist.py',
    real_bank='cgankd_realbank_vgg8_resnet8_1xb128_fashion_mnist.py')
ROTATION_CONFIGS = dict(
    teacher='vgg8_1xb128_rotated_fashion_mnist.py',
    student='resnet8_1xb128_rotated_fashion_mnist.py',
    finetune_real='resnet8_finetune_1xb128_rotated_fashion_mnist.py',
    cgankd='cgankd_vgg8_resnet8_1xb128_rotated_fashion_mnist.py',
    real_bank='cgankd_realbank_vgg8_resnet8_1xb128_rotated_fashion_mnist.py')
STAGES = _task_stages(
    'classification', '',
    {row: _config(name) for row, name in CLASSIFICATION_CONFIGS.items()},
    # their banks fit cDR-RS (about 25 CPU minutes each)
    'vgg8', 'resnet8', shared_banks=True) + _task_stages(
        'rotation', '_rotation',
        {row: _config(name) for row, name in ROTATION_CONFIGS.items()},
        'vgg8', 'resnet8')
TASKS = ('classification', 'rotation')

STAGES_BY_NAME = {stage.name: stage for stage in STAGES}

# What each task reports, read from the run's scalars.json.
METRIC_KEYS = dict(classification='accuracy/top1', rotation='regression/mae')

METRIC_NAMES = dict(classification='top1', rotation='mae')

METRIC_TITLES = dict(classification='Top-1 (%)', rotation='MAE (degrees)')

HIGHER_IS_BETTER = dict(classification=True, rotation=False)

TASK_TITLES = dict(
    classification='Classification (Fashion-MNIST, 10 classes)',
    rotation='Regression: rotation angle in [-45, 45] degrees')

# The comparisons the experiment exists for: (row, control).
COMPARISONS = (('cgankd', 'student'), ('cgankd', 'finetune_real'),
               ('kd_cgankd', 'finetune_kd'), ('real_bank', 'finetune_real'),
               ('real_bank', 'cgankd'))


def needed_stages(names: Optional[Sequence[str]],
                  tasks: Sequence[str] = TASKS) -> List[Stage]:
    """The stages to run, in order: ``names`` and those they depend on."""
    if not names:
        return [stage for stage in STAGES if stage.task in tasks]
    wanted = set()
    todo = list(names)
    while todo:
        stage = STAGES_BY_NAME[todo.pop()]
        if stage.name not in wanted:
            wanted.add(stage.name)
            todo += stage.deps
    return [stage for stage in STAGES if stage.name in wanted]


def stage_dir(root: str, stage: Stage, seed: int) -> str:
    """A shared stage's folder is the root's; the others are per seed."""
    return osp.join(root if stage.shared else osp.join(root, f'seed_{seed}'),
                    stage.name)
