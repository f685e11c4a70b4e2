# Copyright (c) cgankd_plugin contributors.
"""The exponential moving average of a cGAN's generator.

The average is MMEngine's :class:`~mmengine.model.ExponentialMovingAverage`
configured as mmagic's GANs configure it (``ema_config``). By default it
averages the buffers too (``update_buffers=True``): the batch-norm
statistics and the spectral-norm power-iteration vectors, as the official
BigGAN does. :class:`GeneratorEMA` updates it without reading anything back
from the device.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import ExponentialMovingAverage

# ``momentum`` is the weight of the new value (MMEngine's convention):
# ``ema = (1 - momentum) * ema + momentum * generator``.
DEFAULT_EMA_CONFIG = dict(
    type='ExponentialMovingAverage',
    momentum=0.001,
    interval=1,
    update_buffers=True,
    start_iter=1000)


def build_generator_ema(
        generator: nn.Module,
        ema_config: Optional[dict]
) -> Tuple[Optional[ExponentialMovingAverage], int]:
    """Build the averaged copy of ``generator`` that ``ema_config`` asks for.

    Args:
        generator (nn.Module): The generator, not wrapped.
        ema_config (dict, optional): ``type`` (only
            ``'ExponentialMovingAverage'``), ``momentum`` (in (0, 1), the
            weight of the new value), ``interval`` (generator turns between
            averaging updates), ``update_buffers`` (average the buffers
            too, or copy them) and ``start_iter`` (generator turns during
            which the average is a copy of the generator); missing keys
            take :data:`DEFAULT_EMA_CONFIG`'s values. None: no average.

    Returns:
        Tuple[GeneratorEMA | None, int]: The average (None when
        ``ema_config`` is None) and ``start_iter``.

    Raises:
        ValueError: Naming ``ema_config.<key>`` for an unknown key or a bad
            value.
    """
    if ema_config is None:
        return None, 0
    if not isinstance(ema_config, dict):
        raise TypeError('ema_config must be a dict or None, got '
                        f'{type(ema_config).__name__}')
    for key in ema_config:
        if key not in DEFAULT_EMA_CONFIG:
            raise ValueError(f'ema_config.{key} is not a setting of the '
                             'generator EMA; expected some of '
                             f'{sorted(DEFAULT_EMA_CONFIG)}')
    config = dict(DEFAULT_EMA_CONFIG, **ema_config)
    if config['type'] != 'ExponentialMovingAverage':
        raise ValueError("ema_config.type must be 'ExponentialMovingAverage'"
                         f", got {config['type']!r}")
    momentum = config['momentum']
    if isinstance(momentum, bool) or not isinstance(
            momentum, (int, float)) or not 0.0 < momentum < 1.0:
        raise ValueError('ema_config.momentum must be in (0, 1) (the weight '
                         f'of the new value), got {momentum!r}')
    for key, least in (('interval', 1), ('start_iter', 0)):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value,
                                                     int) or value < least:
            raise ValueError(f'ema_config.{key} must be an integer >= '
                             f'{least}, got {value!r}')
    if not isinstance(config['update_buffers'], bool):
        raise ValueError('ema_config.update_buffers must be a bool, got '
                         f"{config['update_buffers']!r}")
    ema = GeneratorEMA(
        generator,
        momentum=float(momentum),
        interval=config['interval'],
        update_buffers=config['update_buffers'])
    return ema, config['start_iter']


@torch.no_grad()
def copy_into_ema(ema: ExponentialMovingAverage,
                  generator: nn.Module) -> None:
    """Make the average a copy of ``generator``, buffers included.

    Args:
        ema (ExponentialMovingAverage): The average.
        generator (nn.Module): The generator, not wrapped.
    """
    averaged = ema.module.state_dict()
    for name, value in generator.state_dict().items():
        averaged[name].copy_(value)


class GeneratorEMA(ExponentialMovingAverage):
    """MMEngine's EMA, updated without reading its step count from the device.

    MMEngine's ``update_parameters`` branches on its ``steps`` buffer, a
    read of the device (a synchronisation on a GPU) at every update. This
    one branches on :attr:`host_steps`, the same count kept on the host
    (taken from the loaded copy when a state dict is loaded), and still
    advances ``steps``, so state dicts and checkpoints are MMEngine's.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.host_steps = 0

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        steps = state_dict.get(prefix + 'steps')
        if steps is not None:
            self.host_steps = int(steps)

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        """Average ``model`` in, as MMEngine does.

        The first update copies ``model``; then every ``interval``-th one
        moves each floating tensor by ``momentum`` towards the model's.
        Without ``update_buffers`` the buffers are copied at every update.

        Args:
            model (nn.Module): The generator, not wrapped.
        """
        # the copy's current tensors: a move to another device or dtype,
        # or a deep copy, replaced those MMEngine listed when it was built
        self.avg_parameters = (
            self.module.state_dict()
            if self.update_buffers else dict(self.module.named_parameters()))
        source = (
            model.state_dict()
            if self.update_buffers else dict(model.named_parameters()))
        if self.host_steps == 0:
            for name, tensor in self.avg_parameters.items():
                tensor.copy_(source[name])
        elif self.host_steps % self.interval == 0:
            for name, tensor in self.avg_parameters.items():
                if tensor.is_floating_point():
                    self.avg_func(tensor, source[name], self.host_steps)
        if not self.update_buffers:
            for mine, theirs in zip(self.module.buffers(), model.buffers()):
                mine.copy_(theirs)
        self.steps.add_(1)
        self.host_steps += 1
