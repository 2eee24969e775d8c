"""Throwaway stack roots for tests, outside pytest's base temp directory.

As root, Postgres runs as `gwpostgres`, which must be able to walk to its data. Every
pytest session resets /tmp/pytest-of-root to mode 0700 when it starts, so a cluster
under pytest's tmp_path loses access mid-run whenever another pytest session starts on
the machine. Throwaway roots therefore live directly in the system temp directory
(/tmp is world-searchable) and are removed afterwards, their logs copied out first.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway_devstack.state import LOCK_FILE, STATE_FILE

ROOT_PREFIX = "gateway-devstack-"
STALE_AFTER_SECONDS = 3600.0
_logger = logging.getLogger(__name__)


def _lock_is_free(root: Path) -> bool:
    lock_path = root / LOCK_FILE
    if not lock_path.exists():
        return True
    with lock_path.open("a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(lock_file, fcntl.LOCK_UN)
        return True


def remove_stale_roots(parent: Path, older_than: float = STALE_AFTER_SECONDS) -> list[Path]:
    """Delete throwaway roots left by killed sessions: old and with nobody holding their lock."""
    removed: list[Path] = []
    cutoff = time.time() - older_than
    for root in parent.glob(f"{ROOT_PREFIX}*"):
        if root.is_dir() and root.stat().st_mtime < cutoff and _lock_is_free(root):
            _logger.info("removing stale dev stack root %s", root)
            shutil.rmtree(root, ignore_errors=True)
            removed.append(root)
    return removed


@contextmanager
def temporary_root(keep_logs_in: Path | None = None, parent: Path | None = None) -> Iterator[Path]:
    """Yield a new, empty stack root in the system temp dir; delete it afterwards.

    Before deleting, logs/ and stack.json are copied to `keep_logs_in` (e.g. a pytest
    tmp dir) for post-mortems. Stop the stack before the block ends.
    """
    base = parent if parent is not None else Path(tempfile.gettempdir())
    remove_stale_roots(base)
    root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir=base))
    # Searchable (not listable) by others, so gwpostgres can reach its cluster inside.
    root.chmod(0o711)
    try:
        yield root
    finally:
        if keep_logs_in is not None:
            _copy_logs(root, keep_logs_in)
        # Best effort: a leftover is collected by remove_stale_roots() on a later run.
        shutil.rmtree(root, ignore_errors=True)


def _copy_logs(root: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if (root / "logs").is_dir():
        shutil.copytree(root / "logs", target / "logs", dirs_exist_ok=True)
    if (root / STATE_FILE).is_file():
        shutil.copy2(root / STATE_FILE, target / STATE_FILE)
