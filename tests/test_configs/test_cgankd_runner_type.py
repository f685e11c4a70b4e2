# Copyright (c) cgankd_plugin contributors.
"""Every config with a ``CGANHook`` names the runner that lets it work.

MMEngine's ``Runner`` builds the training loader before any hook runs;
only ``CGANKDRunner`` has the hook build the bank first. A config with
the hook but another runner would stop in ``before_train``.
"""
import glob
import os.path as osp

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_configs_with_a_cgan_hook_run_on_the_cgankd_runner():
    with_hook = []
    for path in sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py'))):
        if '_base_' in path:
            continue
        cfg = Config.fromfile(path)
        hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
        if 'CGANHook' in hooks:
            with_hook.append(osp.relpath(path, REPO_ROOT))
            assert cfg.get('runner_type') == 'CGANKDRunner', path
    # the walk found the cGAN-KD configs of every folder
    assert len(with_hook) >= 15
    assert {p.split(osp.sep)[1] for p in with_hook} == {
        'cgankd', 'fashion_mnist'}
