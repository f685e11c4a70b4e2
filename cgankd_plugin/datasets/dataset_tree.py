# Copyright (c) cgankd_plugin contributors.
"""Walking down a tree of dataset wrappers (``wrapper.dataset``)."""
from typing import Any, Callable, Optional


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

