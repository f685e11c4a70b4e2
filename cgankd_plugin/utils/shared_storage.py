# Copyright (c) cgankd_plugin contributors.
"""Check that the ranks of a distributed run share a folder's storage."""
import os
import os.path as osp
import shutil
from typing import Sequence

from mmengine.dist import barrier


class StorageNotSharedError(RuntimeError):
    """A folder the ranks exchange files in is not the same for all."""


def check_shared_storage(folders: Sequence[str], session: str, rank: int,
                         world_size: int, what: str) -> None:
    """Each rank writes a token in each folder, then reads everyone's.

    The ranks of a distributed cGAN-KD run meet through files (rank 0's
    cGAN and bank, the helpers' staged shares): on a multi-node run whose
    ``work_dir`` is a local disk per node they would wait for files that
    never appear. Called by every rank at the same point, before any long
    work; two barriers, no other collective.

    Args:
        folders (Sequence[str]): The folders the ranks must share.
        session (str): The same string on every rank (e.g. the runner's
            timestamp), so tokens of an earlier run do not count.
        rank (int): This process's rank.
        world_size (int): The number of processes.
        what (str): The config keys that set ``folders`` (for the error).

    Raises:
        StorageNotSharedError: naming the folder and the ranks missing.
    """
    if world_size <= 1:
        return
    token_dirs = [
        osp.join(folder, f'.storage_check_{session}') for folder in folders
    ]
    for token_dir in token_dirs:
        os.makedirs(token_dir, exist_ok=True)
        with open(osp.join(token_dir, f'rank{rank}'), 'w') as f:
            f.write(str(os.getpid()))
    barrier()
    problems = []
    for folder, token_dir in zip(folders, token_dirs):
        missing = [
            r for r in range(world_size)
            if not osp.exists(osp.join(token_dir, f'rank{r}'))
        ]
        if missing:
            problems.append(f'{folder} (rank {rank} does not see the '
                            f'files of ranks {missing})')
    barrier()
    if rank == 0:
        for token_dir in token_dirs:
            shutil.rmtree(token_dir, ignore_errors=True)
    if problems:
        raise StorageNotSharedError(
            'the ranks of this run do not share storage: ' +
            '; '.join(problems) + f'. Put {what} on a file system every '
            'rank (every node) sees, e.g. a network file system.')
