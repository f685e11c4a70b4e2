# Copyright (c) cgankd_plugin contributors.
"""Every runnable config has a basename of its own.

``tools/train.py`` names the default work dir after the config's basename:
two configs with one basename would share ``work_dirs/<name>``, and
``--resume`` of one would pick up the other's checkpoint.
"""
import collections
import glob
import os.path as osp

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _runnable_configs():
    paths = glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                      recursive=True)
    return [
        p for p in paths
        if '_base_' not in osp.relpath(p, REPO_ROOT).split(osp.sep)
    ]


def test_no_two_configs_share_a_basename():
    configs = _runnable_configs()
    assert len(configs) > 30  # the walk found the config tree
    by_name = collections.defaultdict(list)
    for path in configs:
        by_name[osp.basename(path)].append(osp.relpath(path, REPO_ROOT))
    shared = {name: paths for name, paths in by_name.items()
              if len(paths) > 1}
    assert not shared, f'configs sharing a basename: {shared}'


def test_distill_configs_follow_mmrazors_name_pattern():
    """``<algo>_<where>_<teacher>_<student>_<N>xb<B>_<data>.py``."""
    for folder in ('distill', 'cgankd', 'fashion_mnist'):
        for path in glob.glob(osp.join(REPO_ROOT, 'configs', folder,
                                       '*.py')):
            name = osp.basename(path)
            if name == 'crd_resnet_cifar100.py':  # the documented entry
                continue
            parts = name[:-3].split('_')
            assert any(p[:1].isdigit() and 'xb' in p for p in parts), name


def test_each_config_folder_has_a_readme_and_a_complete_metafile():
    import yaml
    for folder in sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*'))):
        if osp.basename(folder) == '_base_' or not osp.isdir(folder):
            continue
        name = osp.relpath(folder, REPO_ROOT)
        assert osp.isfile(osp.join(folder, 'README.md')), name
        with open(osp.join(folder, 'metafile.yml')) as f:
            meta = yaml.safe_load(f)
        listed = sorted(m['Config'] for m in meta['Models'])
        present = sorted(
            osp.relpath(p, REPO_ROOT)
            for p in glob.glob(osp.join(folder, '*.py')))
        assert listed == present, name
