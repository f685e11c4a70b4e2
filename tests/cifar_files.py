# Copyright (c) cgankd_plugin contributors.
"""A tiny CIFAR-100 written in the official format, for the tests."""
import os
import pickle

import numpy as np


def write_cifar100(root: str, num_train: int, num_test: int,
                   seed: int = 0) -> str:
    """Write a CIFAR-100 in the official pickle layout under ``root``.

    ``<root>/cifar-100-python/{train,test,meta}`` with ``str`` keys, as the
    official Python-2 pickles read under ``encoding='latin1'``. Labels cycle
    through the 100 classes, so every class is present once ``num_train``
    reaches 100.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    folder = os.path.join(root, 'cifar-100-python')
    os.makedirs(folder, exist_ok=True)
    for name, num in (('train', num_train), ('test', num_test)):
        labels = [i % 100 for i in range(num)]
        # class-dependent mean colour, so a classifier has something to learn
        base = (np.array(labels)[:, None] * 2.5).astype(np.float32)
        data = np.clip(base + rng.normal(0, 30, (num, 3072)), 0, 255)
        entry = {
            'filenames': [f'{name}_{i}.png' for i in range(num)],
            'batch_label': f'{name} batch',
            'fine_labels': labels,
            'coarse_labels': [label // 5 for label in labels],
            'data': data.astype(np.uint8),
        }
        with open(os.path.join(folder, name), 'wb') as f:
            pickle.dump(entry, f, protocol=2)
    with open(os.path.join(folder, 'meta'), 'wb') as f:
        pickle.dump({'fine_label_names': [f'c{i}' for i in range(100)]}, f)
    return root
