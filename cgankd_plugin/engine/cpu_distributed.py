# Copyright (c) cgankd_plugin contributors.
"""Let ``--launcher pytorch`` run on machines without a GPU."""
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config) -> None:
    """Start gloo and a CPU DDP wrapper when no GPU is there.

    MMEngine's launcher calls ``torch.cuda.set_device`` and its DDP wrapper
    passes a GPU id; on CPU the process group starts here with gloo
    (MMEngine then finds it running) and DDP gets no device ids. Used by
    ``tools/train.py`` and ``tools/test.py``; does nothing with a GPU or a
    process group already running.

    Args:
        cfg (Config): The run's config: ``model_wrapper_cfg`` is set
            (MMEngine's DDP wrapper) unless given, and a given one gets
            ``device_ids=None``.
    """
    import torch
    import torch.distributed as dist
    if torch.cuda.is_available() or dist.is_initialized():
        return
    dist.init_process_group(backend='gloo')
    if cfg.get('model_wrapper_cfg') is not None:
        # the config's wrapper (e.g. MMSeparateDistributedDataParallel for
        # a GAN), with no GPU ids: CPU modules take none
        cfg.model_wrapper_cfg['device_ids'] = None
        return
    cfg.model_wrapper_cfg = dict(
        type='MMDistributedDataParallel',
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))


def finish_distributed() -> None:
    """End a distributed run's process group, every rank together.

    MMEngine leaves the group to the interpreter's exit, where a gloo rank
    can abort ("terminate called without an active exception") while its
    peer is already gone; the tools call this after their work instead.
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
