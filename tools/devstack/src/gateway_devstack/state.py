"""ROOT/stack.json (pids and ports, for debugging and for reusing ports) and ROOT/stack.lock."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import IO

from gateway_devstack.errors import StackLockedError

STATE_FILE = "stack.json"
LOCK_FILE = "stack.lock"


def write_state(root: Path, state: dict[str, object]) -> None:
    """Atomically replace ROOT/stack.json with `state`."""
    target = root / STATE_FILE
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    tmp.replace(target)


def read_state(root: Path) -> dict[str, object]:
    """Return ROOT/stack.json, or {} when it is missing or unreadable."""
    try:
        loaded = json.loads((root / STATE_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def previous_port(state: dict[str, object], server: str, key: str = "port") -> int | None:
    """The port `server` used last time under this root, if stack.json recorded one."""
    servers = state.get("servers")
    entry = servers.get(server) if isinstance(servers, dict) else None
    port = entry.get(key) if isinstance(entry, dict) else None
    return port if isinstance(port, int) else None


class StackLock:
    """An exclusive flock on ROOT/stack.lock: one stack per root at a time.

    The kernel drops the lock when the holder dies, so a SIGKILLed launcher never
    leaves a stale lock behind.
    """

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise StackLockedError naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = self.path.open("a+")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "unknown"
            lock_file.close()
            raise StackLockedError(f"another stack (pid {holder}) runs under {self.path.parent}") from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        self._file = lock_file

    def release(self) -> None:
        """Drop the lock (a no-op when not held)."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
