# Copyright (c) cgankd_plugin contributors.
"""Restart a built training loader's workers after its dataset changed.

What ``CGANHook`` needs while it installs the bank into a dataset the loop
has already built (an iteration-based loop forks the loader's workers
before any hook runs). It reaches into torch's and MMEngine's privates;
building the bank before the loader exists would make it unnecessary.
"""


def restart_train_loader_workers(runner) -> None:
    """Give the training loader's workers the dataset as it is now.

    An iteration-based loop starts its loader (and forks its workers)
    when it is built, before any hook runs, so those workers hold a copy
    of the mix dataset without the ``bank_dir`` this hook has just set.
    Their iterator is replaced by a fresh one; an epoch-based loop starts
    its loader per epoch and needs nothing.
    """
    # (a runner-like object without a built loop, e.g. a tool's, has none)
    loop = getattr(runner, 'train_loop', None)
    iterator = getattr(loop, 'dataloader_iterator', None)
    if iterator is None:
        return
    dataloader = loop.dataloader
    # persistent workers are cached on the loader: drop them too
    stale = getattr(dataloader, '_iterator', None)
    if stale is not None:
        dataloader._iterator = None
        stale._shutdown_workers()
    sampler = getattr(dataloader, 'sampler', None)
    if hasattr(sampler, '_indices_of_rank'):
        # MMEngine's InfiniteSampler iterates one generator made at its
        # construction, which closing the old iterator closes too: a new
        # one, from the same seed, gives the order of an untouched loader.
        sampler.indices = sampler._indices_of_rank()
    loop.dataloader_iterator = type(iterator)(dataloader)
