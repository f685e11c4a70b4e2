# Copyright (c) cgankd_plugin contributors.
"""One set of state-dict keys for a GAN, its networks wrapped or not.

MMEngine's ``MMSeparateDistributedDataParallel`` wraps the generator and
the discriminator apart, each in an ``MMDistributedDataParallel``, which
prefixes their keys with ``module.``.
"""
import torch.nn as nn
from mmengine.model import is_model_wrapper


def strip_wrapper_prefixes(module: nn.Module, state_dict: dict, prefix: str,
                           local_metadata: dict) -> None:
    """``generator.module.x`` -> ``generator.x`` for wrapped networks.

    A state-dict post hook (``register_state_dict_post_hook``).

    Args:
        module (nn.Module): The GAN.
        state_dict (dict): Its state dict, changed in place.
        prefix (str): The GAN's prefix in ``state_dict``.
        local_metadata (dict): Unused.
    """
    for name, child in module._modules.items():
        if not is_model_wrapper(child):
            continue
        wrapped = f'{prefix}{name}.module.'
        for key in [k for k in state_dict if k.startswith(wrapped)]:
            state_dict[f'{prefix}{name}.{key[len(wrapped):]}'] = (
                state_dict.pop(key))
