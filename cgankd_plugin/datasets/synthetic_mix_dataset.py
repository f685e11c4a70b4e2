# Copyright (c) cgankd_plugin contributors.
"""The real training set followed by the processed cGAN samples."""
import copy
from typing import Any, Dict, Optional, Union

import numpy as np
from mmengine.dataset import BaseDataset

from ..registry import DATASETS
from ..synthesis.bank import BankNotFoundError, SyntheticBank
from ..synthesis.layout import condition_of_positions
from .dataset_tree import find_dataset


@DATASETS.register_module()
class SyntheticMixDataset:
    """Real samples ``0..R-1``, then ``num_fake`` samples of the bank.

    The length is known at construction (``len(real) + num_fake``), as
    MMEngine builds the sampler and ``max_iters`` before any hook runs; the
    bank itself, built by ``CGANHook``, is opened lazily on first access
    (inside each dataloader worker) and memory-mapped.

    Each sample carries its global ``sample_idx`` (so CRD's memory bank,
    sized by ``len(dataset)``, covers real and fake samples) and
    ``is_fake``. Fake samples also carry the bank's teacher label
    (``teacher_label`` and, for soft relabelling, ``teacher_probs``;
    regression: ``teacher_value``), which ``TeacherRelabel`` puts in place
    of the target; their ``gt_label`` / ``gt_value`` is the condition they
    were generated for. Both kinds go through the real dataset's pipeline.

    ``get_gt_labels()`` works before the bank exists (a bank is laid out in
    per-class blocks, see :mod:`cgankd_plugin.synthesis.layout`), so
    mmrazor's ``CRDDataset`` can wrap this dataset; fake samples count
    under the class they were generated for.

    Args:
        dataset (dict | BaseDataset): The real training set.
        num_fake (int): Number of fake samples in the bank.
        bank_dir (str, optional): The bank. None in a config trained with
            ``CGANHook``: the hook builds the bank at
            ``<work_dir>/synthetic_bank`` and the training loader's dataset
            is built with that path.
        num_classes (int, optional): Classes of a classification bank;
            defaults to the number of ``classes`` in the real metainfo.
            Give 0 for a regression bank.
        lazy_init (bool): Defer building the real dataset's annotations.
    """

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 num_fake: int,
                 bank_dir: Optional[str] = None,
                 num_classes: Optional[int] = None,
                 lazy_init: bool = False) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if not hasattr(dataset, 'get_data_info'):
            raise TypeError('SyntheticMixDataset.dataset must be a dataset '
                            f'config or instance, got {type(dataset)}')
        if int(num_fake) < 0:
            raise ValueError(
                f'SyntheticMixDataset.num_fake must be >= 0, got {num_fake}')
        self.dataset = dataset
        self.num_fake = int(num_fake)
        self.bank_dir = bank_dir
        self._num_classes = num_classes
        self._bank: Optional[SyntheticBank] = None
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    # ------------------------------------------------ the dataset protocol
    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    @property
    def pipeline(self):
        return self.dataset.pipeline

    @property
    def test_mode(self) -> bool:
        return self.dataset.test_mode

    @property
    def max_refetch(self) -> int:
        return getattr(self.dataset, 'max_refetch', 1000)

    @property
    def num_real(self) -> int:
        return len(self.dataset)

    @property
    def num_classes(self) -> int:
        if self._num_classes is None:
            classes = self.dataset.metainfo.get('classes')
            if not classes:
                raise ValueError(
                    'SyntheticMixDataset: the real dataset has no '
                    "metainfo['classes']; set num_classes (0 for "
                    'regression).')
            self._num_classes = len(classes)
        return self._num_classes

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self._fully_initialized = True

    def __len__(self) -> int:
        return self.num_real + self.num_fake

    def _rand_another(self) -> int:
        return np.random.randint(0, len(self))

    def get_data_info(self, idx: int) -> Dict[str, Any]:
        """The raw sample ``idx`` (real below ``num_real``, else fake)."""
        self.full_init()
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f'index {idx} out of range for '
                             f'SyntheticMixDataset of length {len(self)}')
        bank = self.bank if self.num_fake else None
        if idx < self.num_real:
            info = self.dataset.get_data_info(idx)
            info['is_fake'] = False
        else:
            info = self._fake_info(bank, idx - self.num_real)
        info['sample_idx'] = idx
        if bank is not None and bank.teacher_probs is not None:
            info['soft_label_classes'] = bank.teacher_probs.shape[1]
        return info

    def prepare_data(self, idx: int) -> Any:
        return self.pipeline(self.get_data_info(idx))

    def __getitem__(self, idx: int) -> Any:
        return self.prepare_data(idx)

    def get_gt_labels(self) -> np.ndarray:
        """Real labels, then the class each fake sample was made for."""
        self.full_init()
        real = np.asarray(self.dataset.get_gt_labels(), dtype=np.int64)
        if self.num_classes == 0:
            raise TypeError('get_gt_labels() of a regression '
                            'SyntheticMixDataset (num_classes=0)')
        fake = condition_of_positions(self.num_fake, self.num_classes)
        return np.concatenate([real, fake])

    def get_cat_ids(self, idx: int):
        return [int(self.get_gt_labels()[idx])]

    # --------------------------------------------------------------- bank
    @property
    def bank(self) -> SyntheticBank:
        """The bank, opened (memory-mapped) on first use."""
        if self._bank is None:
            if self.bank_dir is None:
                raise BankNotFoundError(
                    'SyntheticMixDataset.bank_dir is not set: add '
                    "dict(type='CGANHook') to custom_hooks with "
                    "runner_type='CGANKDRunner' (the hook builds the bank "
                    'before the loader), or give bank_dir.')
            bank = SyntheticBank.open(self.bank_dir, verify=False)
            if len(bank) != self.num_fake:
                raise ValueError(
                    f'the bank at {self.bank_dir} holds {len(bank)} samples '
                    f'but SyntheticMixDataset.num_fake is {self.num_fake}; '
                    'rebuild it (delete the directory) or fix num_fake.')
            self._check_task(bank)
            self._bank = bank
        return self._bank

    def _check_task(self, bank: SyntheticBank) -> None:
        """Refuse a bank made for another task than the real set's."""
        classes = (self._num_classes if self._num_classes is not None else
                   len(self.dataset.metainfo.get('classes') or ()))
        regression_bank = np.issubdtype(bank.teacher_labels.dtype,
                                        np.floating)
        if regression_bank != (classes == 0):
            held = ('regression values' if regression_bank else
                    'class labels')
            real = ('a regression set' if classes == 0 else
                    f'a classification set of {classes} classes')
            raise ValueError(
                f'the bank at {self.bank_dir} holds {held} but the real '
                f'dataset is {real}: point SyntheticMixDataset.bank_dir at '
                'a bank built for this task (or let CGANHook build one).')
        probs = bank.teacher_probs
        if probs is not None and probs.shape[1] != classes:
            raise ValueError(
                f'the bank at {self.bank_dir} holds soft labels over '
                f'{probs.shape[1]} classes but the real dataset has '
                f'{classes}: point SyntheticMixDataset.bank_dir at a bank '
                'built for this dataset.')

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state['_bank'] = None  # each worker maps the files itself
        return state

    @staticmethod
    def _fake_info(bank: SyntheticBank, j: int) -> Dict[str, Any]:
        image = np.ascontiguousarray(bank.images[j].transpose(1, 2, 0))
        if image.shape[2] == 1:
            image = image[..., 0]
        info: Dict[str, Any] = dict(
            img=image,
            img_shape=image.shape[:2],
            ori_shape=image.shape[:2],
            is_fake=True)
        cond = bank.cond_labels[j]
        teacher = bank.teacher_labels[j]
        if np.issubdtype(bank.teacher_labels.dtype, np.floating):
            info['gt_value'] = float(cond)
            info['teacher_value'] = float(teacher)
        else:
            info['gt_label'] = int(cond)
            info['teacher_label'] = int(teacher)
            if bank.teacher_probs is not None:
                info['teacher_probs'] = np.array(
                    bank.teacher_probs[j], dtype=np.float32)
        return info


def find_mix_dataset(dataset) -> Optional[SyntheticMixDataset]:
    """The ``SyntheticMixDataset`` inside a tree of dataset wrappers.

    Args:
        dataset: The outermost dataset (e.g. a ``CRDDataset`` around it).

    Returns:
        SyntheticMixDataset, optional: It, or None if there is none.
    """
    return find_dataset(dataset,
                        lambda d: isinstance(d, SyntheticMixDataset))


def find_mix_config(cfg) -> Optional[dict]:
    """The ``SyntheticMixDataset`` config inside a wrapper's config.

    Wrapper configs keep the wrapped set's config as ``dataset``; a level
    matches when its ``type`` is (or names) ``SyntheticMixDataset`` or a
    subclass.

    Args:
        cfg: The outermost dataset config (e.g. a ``CRDDataset``'s).

    Returns:
        dict, optional: It (not a copy), or None if there is none.
    """
    while isinstance(cfg, dict):
        kind = cfg.get('type')
        if isinstance(kind, str):
            kind = DATASETS.get(kind)
        if isinstance(kind, type) and issubclass(kind, SyntheticMixDataset):
            return cfg
        cfg = cfg.get('dataset')
    return None
