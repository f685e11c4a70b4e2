# Copyright (c) cgankd_plugin contributors.
"""The steps around a bank build: its key, reuse, figures and pictures.

The cGAN's quality and the bank's figures go to the runner's log and, as
scalars at step 0 (before training), to its visualizer: with
``LocalVisBackend``, ``<work_dir>/<timestamp>/vis_data/scalars.json``.
"""
import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np

from ..synthesis.bank import (BankStaleError, SyntheticBank, hash_settings,
                              hash_state_dict)
from ..synthesis.builder.statistics import (collapse_message, describe,
                                            meta_figures)
from ..synthesis.gan_quality import cached_gan_quality
from ..synthesis.visualize import save_bank_pictures


def bank_key(settings: dict, gan, teacher) -> Tuple[str, str, str]:
    """The bank's key: the settings, the cGAN's and the filter's weights.

    Args:
        settings (dict): Every setting the bank depends on (plain data).
        gan (nn.Module): The trained cGAN.
        teacher (TeacherAdapter): The filtering network.

    Returns:
        tuple: ``(key, generator_hash, filter_hash)``.
    """
    generator = hash_state_dict(gan.state_dict())
    filter_net = hash_state_dict(teacher.model.state_dict())
    key = hash_settings(
        dict(settings=hash_settings(settings), generator=generator,
             filter_net=filter_net))
    return key, generator, filter_net


def reuse_complete_bank(runner, bank_dir: str, key: str,
                        overwrite: bool) -> Optional[SyntheticBank]:
    """The complete bank with ``key`` at ``bank_dir`` (None: none there).

    A stale complete bank inside the run's work dir is rebuilt; outside
    it (it may serve another run) only with ``overwrite``, else this
    raises a ``BankStaleError``.
    """
    if not SyntheticBank.is_complete(bank_dir):
        return None
    try:
        bank = SyntheticBank.open(bank_dir, expected_key=key, verify=True)
        runner.logger.info(f'CGANHook: the bank at {bank_dir} is complete '
                           'and matches; reusing it')
        return bank
    except BankStaleError as err:
        work_dir = osp.realpath(runner.work_dir)
        inside = osp.commonpath([work_dir, osp.realpath(bank_dir)
                                 ]) == work_dir
        if not (inside or overwrite):
            raise BankStaleError(
                f'CGANHook: the complete bank at {bank_dir}, outside this '
                f'run\'s work dir, was built from other weights or settings '
                f'({err}). It may serve another run, so it is not replaced: '
                'point train_dataloader.dataset.bank_dir elsewhere, remove '
                'the old bank, or set CGANHook.overwrite_bank=True.')
        runner.logger.warning(f'CGANHook: rebuilding the bank: {err}')
        return None


def log_cgan_quality(runner, generator_hash: str, gan, teacher, real,
                     **kwargs) -> dict:
    """Log the cGAN's teacher-feature figures, also as scalars.

    Computed once per generator, kept in ``<work_dir>/cgan/quality.json``;
    the scalars are ``cgan_quality/<name>`` (``teacher_fd``,
    ``precision``, ``recall``, ``agreement``...).

    Args:
        runner (Runner): Its logger, message hub and visualizer take the
            figures.
        generator_hash (str): The cGAN's weights hash.
        gan (nn.Module): The cGAN.
        teacher (TeacherAdapter): The filtering network.
        real (RealImages): The real images.
        **kwargs: ``num_samples``, ``batch_size``, ``seed``,
            ``label_range`` of ``teacher_gan_quality``.

    Returns:
        dict: The figures.
    """
    path = osp.join(runner.work_dir, 'cgan', 'quality.json')
    quality = cached_gan_quality(path, generator_hash, gan, teacher, real,
                                 **kwargs)
    figures = {k: v for k, v in quality.items()
               if k not in ('generator', 'version')}
    runner.logger.info('CGANHook: cGAN quality (teacher features, not '
                       'Inception): ' +
                       ', '.join(f'{k}={v:.4f}' for k, v in figures.items()))
    scalars = {f'cgan_quality/{k}': float(v) for k, v in figures.items()}
    for name, value in scalars.items():
        runner.message_hub.update_scalar(name, value)
    runner.visualizer.add_scalars(scalars, step=0)
    return quality


def log_bank_figures(runner, bank: SyntheticBank,
                     class_names: Optional[Sequence[str]] = None) -> dict:
    """Log a bank's figures (and scalars); warn if its labels collapsed.

    The figures are those of its meta
    (:func:`~cgankd_plugin.synthesis.builder.statistics.meta_figures`;
    an older bank logs those it has), as scalars ``bank/<name>``, and a
    WARNING when the teacher's labels crowd into few classes (meta
    ``label_collapse``).

    Args:
        runner (Runner): Its logger and visualizer.
        bank (SyntheticBank): The bank.
        class_names (Sequence[str], optional): Names by class index.

    Returns:
        dict: The scalars logged.
    """
    scalars = {
        f'bank/{name}': float(value)
        for name, value in meta_figures(bank.meta).items()
        if value is not None
    }
    runner.logger.info('CGANHook: bank figures: ' +
                       (describe(bank.meta) or 'none in its meta'))
    runner.visualizer.add_scalars(scalars, step=0)
    collapse = bank.meta.get('label_collapse')
    if collapse:
        runner.logger.warning('CGANHook: ' +
                              collapse_message(collapse, class_names))
    return scalars


def show_bank(runner,
              bank: SyntheticBank,
              builder,
              regression: bool,
              class_names: Optional[Sequence[str]] = None) -> None:
    """The bank's sample grid and filter histogram, as files and images.

    Args:
        runner (Runner): Its work dir and visualizer.
        bank (SyntheticBank): The bank.
        builder (BaseBankBuilder): The builder that filled it.
        regression (bool): Whether the labels are values.
        class_names (Sequence[str], optional): Names by class index.
    """
    out = osp.join(runner.work_dir, 'cgankd_vis')
    grid, hist = save_bank_pictures(
        bank.images, np.asarray(bank.cond_labels), builder.filter_summary(),
        out, regression, class_names)
    runner.visualizer.add_image('cgankd_bank_samples', grid)
    runner.visualizer.add_image('cgankd_filter_histogram', hist)
    runner.logger.info(f'CGANHook: sample grid and filter histogram in {out}')
