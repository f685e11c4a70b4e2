# Copyright (c) cgankd_plugin contributors.
"""check_shared_storage: ranks that do not share a folder are told so.

Ranks are threads here; the barrier is a real thread barrier, so every
rank writes its token before any rank looks.
"""
import os
import threading

import pytest

from cgankd_plugin.utils import shared_storage
from cgankd_plugin.utils.shared_storage import (StorageNotSharedError,
                                                check_shared_storage)


def _run(world, folder_of_rank, monkeypatch):
    gate = threading.Barrier(world)
    monkeypatch.setattr(shared_storage, 'barrier', gate.wait)
    errors = {}

    def rank_main(rank):
        try:
            check_shared_storage([folder_of_rank(rank)], 'session', rank,
                                 world, 'work_dir')
        except StorageNotSharedError as err:
            errors[rank] = err

    threads = [threading.Thread(target=rank_main, args=(r, ))
               for r in range(world)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_a_shared_folder_passes_and_is_left_clean(tmp_path, monkeypatch):
    assert _run(3, lambda rank: str(tmp_path), monkeypatch) == {}
    assert os.listdir(tmp_path) == []


def test_folders_local_to_each_rank_are_refused(tmp_path, monkeypatch):
    def per_node(rank):  # rank r's "local disk"
        folder = tmp_path / f'node{rank}'
        folder.mkdir(exist_ok=True)
        return str(folder)

    errors = _run(2, per_node, monkeypatch)
    assert sorted(errors) == [0, 1]
    msg = str(errors[1])
    assert 'node1' in msg and 'ranks [0]' in msg and 'work_dir' in msg


def test_one_process_checks_nothing(tmp_path):
    check_shared_storage([str(tmp_path / 'absent')], 's', 0, 1, 'x')
    assert not (tmp_path / 'absent').exists()
