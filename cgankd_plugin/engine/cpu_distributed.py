# Copyright (c) cgankd_plugin contributors.
"""Let ``--launcher pytorch`` run on machines without a GPU."""
import torch
import torch.distributed as dist
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config) -> None:
    """Start gloo and a CPU DDP wrapper when no GPU is there.

    MMEngine's launcher calls ``torch.cuda.set_device`` and its DDP wrapper
    passes a GPU id; on CPU the process group starts here with gloo
    (MMEngine then finds it running) and DDP gets no device ids
    (:func:`use_cpu_model_wrapper`). Does nothing with a GPU or a process
    group already running.

    Args:
        cfg (Config): The run's config (its ``model_wrapper_cfg``).
    """
    if torch.cuda.is_available() or dist.is_initialized():
        return
    dist.init_process_group(backend='gloo')
    use_cpu_model_wrapper(cfg)


def use_cpu_model_wrapper(cfg: Config) -> None:
    """Without a GPU, the config's DDP wrapper (MMEngine's by default)
    with no device ids (CPU modules take none)."""
    if torch.cuda.is_available():
        return
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg['device_ids'] = None


def finish_distributed() -> None:
    """End a distributed run's process group, every rank together.

    MMEngine leaves the group to the interpreter's exit, where a gloo rank
    can abort ("terminate called without an active exception") while its
    peer is already gone; the tools call this after their work instead.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
