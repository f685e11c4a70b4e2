# Copyright (c) cgankd_plugin contributors.
"""One-off (2026-12-01): keep the stages the checkpoint-hook change did not
touch.

Between the two sessions of the experiment, the configs' checkpoint hook
changed from MMEngine's ``CheckpointHook`` to ``AtomicCheckpointHook``
(how checkpoints are written, not what is trained), which changes every
stage's config hash in ``tools/run_demo.py``. For each stage of
``work_dirs/experiment`` this compares the config the stage dumped when it
ran (the keys the Runner reads; ``build_bank`` dumps before its options,
so the recorded options are applied) with the config the tool builds now,
with the two hook types made equal. Where they are equal the stage's
record gets today's options and hash and a ``migrated`` line; the others
(``cgankd``, ``kd_cgankd``, ``real_bank``: their settings changed) re-run.

    .venv/bin/python docs/results/migrate_records_20261201.py [--apply]

It ran against the tree of commit 0e041f4 (``tools/run_demo.py``, the old
config names); the demo has since moved to ``demo/fashion_mnist/`` and the
configs were renamed (``docs/moved.md``), so it is kept as the record of
what was done, to be run from a checkout of that commit.
"""
import hashlib
import json
import os.path as osp
import sys

from mmengine.config import Config, DictAction

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools'))
import run_demo as rd  # noqa: E402

RUNNER_KEYS = {
    'model', 'train_dataloader', 'val_dataloader', 'test_dataloader',
    'train_cfg', 'val_cfg', 'test_cfg', 'optim_wrapper', 'param_scheduler',
    'default_hooks', 'custom_hooks', 'default_scope', 'custom_imports',
    'env_cfg', 'randomness', 'load_from', 'resume', 'val_evaluator',
    'test_evaluator', 'find_unused_parameters', 'log_level', 'visualizer',
    'vis_backends', 'log_processor', 'model_wrapper_cfg', 'auto_scale_lr'
}
NOTE = ('ran the current config but for the checkpoint writer (MMEngine '
        'CheckpointHook, now AtomicCheckpointHook); record updated by a '
        'one-off check against the config the stage dumped')


def parsed(options):
    return {k: DictAction._parse_iterable(v)
            for k, v in (o.split('=', 1) for o in options)}


def runner_view(cfg: Config) -> str:
    d = {k: v for k, v in cfg.to_dict().items() if k in RUNNER_KEYS}
    d['default_hooks']['checkpoint']['type'] = 'AtomicCheckpointHook'
    return Config(d).pretty_text


def main():
    root = osp.join(REPO, 'work_dirs', 'experiment')
    args = rd.parse_args(['--work-dir', root, '--seeds', '0', '1', '2'])
    apply = '--apply' in sys.argv
    for seed in args.seeds:
        for stage in rd.STAGES:
            if stage.shared and seed != args.seeds[0]:
                continue
            work = rd.stage_dir(root, stage, seed)
            path = osp.join(work, 'demo_stage.json')
            if not osp.exists(path):
                print('no record  ', work)
                continue
            with open(path) as f:
                record = json.load(f)
            options = rd.stage_options(stage, root, args, seed)
            digest = hashlib.sha256(
                rd.load_config(stage, options).pretty_text.encode()
            ).hexdigest()
            if (record.get('config_sha256') == digest
                    and record.get('options') == options):
                print('current    ', work)
                continue
            now = Config.fromfile(osp.join(REPO, stage.config))
            now.merge_from_dict(parsed(options))
            ran = Config.fromfile(osp.join(work,
                                           osp.basename(stage.config)))
            if stage.tool == 'build_bank':
                ran.merge_from_dict(parsed(record['options']))
                ran.custom_hooks[0]['subsample'] = None  # as it ran
            if runner_view(ran) != runner_view(now):
                print('differs    ', work)
                continue
            print('migrate    ', work)
            if apply:
                record.update(options=options, config_sha256=digest,
                              migrated=NOTE)
                with open(path, 'w') as f:
                    json.dump(record, f, indent=2)


if __name__ == '__main__':
    main()
