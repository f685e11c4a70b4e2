# Copyright (c) cgankd_plugin contributors.
"""A GAN's networks under DDP wrappers, one wrapper per network.

MMEngine's ``MMSeparateDistributedDataParallel`` wraps the generator and
the discriminator apart; these helpers let a training step run the network
it does not update unwrapped, and keep the checkpoint's key names those of
the unwrapped GAN.
"""
import torch.nn as nn


def bare(module: nn.Module) -> nn.Module:
    """A network without its DDP wrapper (MMEngine's
    ``MMSeparateDistributedDataParallel`` wraps the generator and the
    discriminator apart): the network a step does not update is run bare,
    so its wrapper waits for no gradient; the EMA reads names unprefixed.
    """
    return module.module if isinstance(
        module, nn.parallel.DistributedDataParallel) else module


def strip_wrapper_prefixes(module: nn.Module, state_dict: dict, prefix: str,
                            local_metadata: dict) -> None:
    """``generator.module.x`` -> ``generator.x`` for DDP-wrapped networks."""
    for name, child in module._modules.items():
        if not isinstance(child, nn.parallel.DistributedDataParallel):
            continue
        wrapped = f'{prefix}{name}.module.'
        for key in [k for k in state_dict if k.startswith(wrapped)]:
            state_dict[f'{prefix}{name}.{key[len(wrapped):]}'] = (
                state_dict.pop(key))
