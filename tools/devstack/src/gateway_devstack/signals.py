"""Turn SIGTERM and SIGHUP into a normal exit so `with` blocks stop what they started."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def exit_on_termination() -> Iterator[None]:
    """Within the block, SIGTERM/SIGHUP raise SystemExit(128 + signum) in the main thread.

    Python's default for SIGTERM is to die without unwinding; raising instead runs every
    `finally` and `__exit__`, so servers get a clean stop. A repeated signal is ignored
    while cleanup runs. The previous handlers are restored on exit.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        for sig in TERMINATING_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, handler) for sig in TERMINATING_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
