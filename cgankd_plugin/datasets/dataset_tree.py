# Copyright (c) cgankd_plugin contributors.
"""Walking down a tree of dataset wrappers (``wrapper.dataset``)."""
from typing import Any, Callable, Optional

from ..registry import DATASETS


def find_dataset(dataset: Any,
                 match: Callable[[Any], bool]) -> Optional[Any]:
    """The first dataset, from the outermost wrapper inwards, that matches.

    MMEngine's and mmrazor's wrappers (``RepeatDataset``,
    ``CRDDataset``, ...) and ours keep the wrapped set as ``.dataset``.

    Args:
        dataset (Any): The outermost dataset.
        match (Callable[[Any], bool]): What is looked for.

    Returns:
        Any: The first match, or None when no level matches.
    """
    while dataset is not None:
        if match(dataset):
            return dataset
        dataset = getattr(dataset, 'dataset', None)
    return None


def find_dataset_config(cfg: Any, dataset_type: type) -> Optional[dict]:
    """The first config, outermost first, that builds a ``dataset_type``.

    The config counterpart of :func:`find_dataset`: wrapper configs keep
    the wrapped set's config as ``dataset``.

    Args:
        cfg (Any): The outermost dataset config (or a built dataset).
        dataset_type (type): The class looked for (subclasses match).

    Returns:
        dict, optional: That level of ``cfg`` itself (not a copy), or None
        when no level is a config of that class.
    """
    while isinstance(cfg, dict):
        kind = cfg.get('type')
        if isinstance(kind, str):
            kind = DATASETS.get(kind)
        if isinstance(kind, type) and issubclass(kind, dataset_type):
            return cfg
        cfg = cfg.get('dataset')
    return None
