# Copyright (c) cgankd_plugin contributors.
"""README's smoke run works as written (it cannot rot unnoticed)."""
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

from e2e_utils import NEEDS_FASHION_MNIST, REPO_ROOT


def _smoke_command() -> list:
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        text = f.read()
    section = text.split('### A smoke run', 1)[1]
    block = re.search(r'```bash\n(.*?)```', section, re.S).group(1)
    return shlex.split(block.replace('\\\n', ' '))


@NEEDS_FASHION_MNIST
def test_the_readme_smoke_run_trains_the_whole_path(tmp_path):
    cmd = _smoke_command()
    assert cmd[:2] == ['python', 'tools/train.py']
    work_dir = cmd.index('--work-dir') + 1
    cmd[work_dir] = str(tmp_path / 'smoke')
    proc = subprocess.run([sys.executable, *cmd[1:]], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = tmp_path / 'smoke'
    assert (out / 'epoch_1.pth').is_file()
    assert (out / 'cgan' / 'iter_20.pth').is_file()
    assert (out / 'synthetic_bank' / 'meta.json').is_file()


def _worked_example() -> list:
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        text = f.read()
    section = text.split('### A worked example on Fashion-MNIST', 1)[1]
    block = re.search(r'```bash\n(.*?)```', section, re.S).group(1)
    commands = []
    for line in block.replace('\\\n', ' ').splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            commands.append(shlex.split(line))
    return commands


def test_the_worked_example_names_the_files_its_configs_write():
    from mmengine.config import Config
    commands = _worked_example()
    text = ' '.join(' '.join(c) for c in commands)
    for name, unit in (('vgg8_1xb128_fashion_mnist', 'iter'),
                       ('resnet8_1xb128_fashion_mnist', 'epoch')):
        cfg = Config.fromfile(
            osp.join(REPO_ROOT, 'configs', 'fashion_mnist', name + '.py'))
        length = cfg.train_cfg['max_iters' if unit == 'iter' else
                               'max_epochs']
        assert length % cfg.default_hooks.checkpoint.interval == 0
        assert f'work_dirs/{name}/{unit}_{length}.pth' in text
    cgankd = Config.fromfile(osp.join(
        REPO_ROOT, 'configs', 'fashion_mnist',
        'cgankd_vgg8_resnet8_1xb128_fashion_mnist.py'))
    assert (f'cgankd_vgg8_resnet8_1xb128_fashion_mnist/'
            f'epoch_{cgankd.train_cfg.max_epochs}.pth') in text


# each step of the worked example, shrunk (its file names follow)
SHRINK = {
    'vgg8_1xb128_fashion_mnist': [
        'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
        'default_hooks.checkpoint.interval=4', 'param_scheduler=[]'],
    'resnet8_1xb128_fashion_mnist': [
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=1', 'param_scheduler=[]'],
    'cgankd_vgg8_resnet8_1xb128_fashion_mnist': [
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=1',
        'custom_hooks.0.cgan_cfg_options.train_cfg.max_iters=8',
        'custom_hooks.0.subsample=None', 'custom_hooks.0.filter.burn_in=8',
        'custom_hooks.0.quality_samples=100',
        'train_dataloader.dataset.num_fake=100'],
}
RENAMES = {'iter_1290.pth': 'iter_4.pth', 'epoch_80.pth': 'epoch_1.pth',
           'epoch_16.pth': 'epoch_1.pth'}


@NEEDS_FASHION_MNIST
def test_the_worked_example_runs_step_by_step_shrunk(tmp_path):
    # relative paths as in the README, from a folder of its own
    for name in ('configs', 'tools', 'data'):
        os.symlink(osp.join(REPO_ROOT, name), tmp_path / name)
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=REPO_ROOT + os.pathsep +
               os.environ.get('PYTHONPATH', ''))
    for cmd in _worked_example():
        assert cmd[0] == 'python'
        config = osp.splitext(osp.basename(cmd[2]))[0]
        args = [
            re.sub(r'\w+_\d+\.pth', lambda m: RENAMES.get(m[0], m[0]), a)
            for a in cmd[1:]
        ]
        if cmd[1] == 'tools/train.py':
            args += ([] if '--cfg-options' in args else ['--cfg-options'])
            args += SHRINK[config]
        else:  # the test split, shrunk
            args += ['test_dataloader.dataset.indices=200']
        proc = subprocess.run([sys.executable, *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600,
                              env=env)
        assert proc.returncode == 0, (cmd, proc.stderr[-4000:])
    assert 'accuracy/top1' in proc.stdout + proc.stderr
