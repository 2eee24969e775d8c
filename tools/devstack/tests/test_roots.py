"""Throwaway roots: outside pytest's base temp, logs kept, stale ones collected."""

from __future__ import annotations

import os
import time
from pathlib import Path

from gateway_devstack.roots import ROOT_PREFIX, remove_stale_roots, temporary_root
from gateway_devstack.state import StackLock


def test_a_temporary_root_is_removed_and_its_logs_kept(tmp_path: Path) -> None:
    keep = tmp_path / "kept"
    with temporary_root(keep_logs_in=keep, parent=tmp_path) as root:
        assert root.parent == tmp_path
        assert root.name.startswith(ROOT_PREFIX)
        (root / "logs").mkdir()
        (root / "logs" / "valkey.log").write_text("ready\n")
        (root / "stack.json").write_text("{}\n")
    assert not root.exists()
    assert (keep / "logs" / "valkey.log").read_text() == "ready\n"
    assert (keep / "stack.json").is_file()


def test_only_old_unlocked_roots_are_stale(tmp_path: Path) -> None:
    old = time.time() - 7200
    dead, live, young = (tmp_path / f"{ROOT_PREFIX}{name}" for name in ("dead", "live", "young"))
    for root in (dead, live, young):
        root.mkdir()
    lock = StackLock(live)
    lock.acquire()
    try:
        for root in (dead, live):
            os.utime(root, (old, old))
        assert remove_stale_roots(tmp_path) == [dead]
    finally:
        lock.release()
    assert not dead.exists()
    assert live.exists()
    assert young.exists()
