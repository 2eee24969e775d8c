"""The common life cycle of a server binary run as our direct child."""

from __future__ import annotations

import abc
import os
import signal
import subprocess
from pathlib import Path

from gateway_devstack._children import RunAs, spawn_child, stop_child, wait_until_ready
from gateway_devstack._listeners import process_listens_on

# A fixed, minimal environment: servers must not pick up the developer's locale, proxy
# settings or PG* variables, and TZ=UTC makes initdb write timezone = 'UTC'.
SERVER_ENV = {"PATH": os.defpath, "LC_ALL": "C", "TZ": "UTC"}


class EmbeddedServer(abc.ABC):
    """A server binary we start, wait for, and stop; restartable on the same port and data.

    Subclasses say how to prepare the data directory, the argv, how to tell it is
    ready, and which signal stops it (that signal is also its parent-death signal).
    """

    stop_signal: signal.Signals = signal.SIGTERM

    def __init__(
        self, name: str, *, port: int, log_path: Path, start_timeout: float, stop_timeout: float
    ) -> None:
        self._name = name
        self.port = port
        self.log_path = log_path
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        """The server's role in the stack: postgres, redis or nats."""
        return self._name

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The URL clients connect to."""

    @property
    def pid(self) -> int | None:
        """The server's pid while it runs."""
        return None if self._proc is None else self._proc.pid

    def is_running(self) -> bool:
        """Tell whether we started the server and it has not exited."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Prepare the data directory, start the binary and wait until it serves clients.

        A no-op when the server already runs. On failure the child is stopped and the
        error (with the log tail) propagates.
        """
        if self.is_running():
            return
        self._prepare()
        proc = spawn_child(
            self._argv(),
            log_path=self.log_path,
            env=SERVER_ENV,
            death_signal=self.stop_signal,
            run_as=self._run_as(),
        )
        self._proc = proc
        try:
            # Our child must own the listener before we talk to the port: another program
            # may have taken it since we chose it.
            wait_until_ready(
                self._name,
                proc,
                lambda: process_listens_on(proc.pid, self.port) and self._ready(),
                log_path=self.log_path,
                timeout=self.start_timeout,
            )
            self._after_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server with its stop signal, escalating to SIGKILL after the timeout."""
        if self._proc is None:
            return
        stop_child(self._proc, stop_signal=self.stop_signal, timeout=self.stop_timeout)
        self._proc = None

    def describe(self) -> dict[str, object]:
        """State for stack.json."""
        return {
            "external": False,
            "url": self.url,
            "pid": self.pid,
            "port": self.port,
            "log": str(self.log_path),
        }

    def _run_as(self) -> RunAs | None:
        return None

    def _prepare(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Create directories (and, for Postgres, the cluster) before the first start."""

    def _after_ready(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Run once the server answers (Postgres creates its database here)."""

    @abc.abstractmethod
    def _argv(self) -> list[str]: ...

    @abc.abstractmethod
    def _ready(self) -> bool: ...
