"""The common life cycle of a server binary run as our direct child."""

from __future__ import annotations

import abc
import os
import signal
import subprocess
from pathlib import Path

from gateway_devstack._children import RunAs, spawn_child, stop_child, wait_until_ready
from gateway_devstack._listeners import process_listens_on
from gateway_devstack.errors import ProcessExitedError
from gateway_devstack.procs import free_port

# A fixed, minimal environment: servers must not pick up the developer's locale, proxy
# settings or PG* variables, and TZ=UTC makes initdb write timezone = 'UTC'.
SERVER_ENV = {"PATH": os.defpath, "LC_ALL": "C", "TZ": "UTC"}
# A port chosen free can be taken (often as another connection's ephemeral port) before the
# server binds it; a first start moves to new ports this many times before giving up.
_BIND_ATTEMPTS = 3


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

    def start(self, *, choose_ports: bool = False) -> None:
        """Prepare the data directory, start the binary and wait until it serves clients.

        A no-op when the server already runs. On failure the child is stopped and the
        error (with the log tail) propagates. With `choose_ports` (a first start, before anyone
        was given the URL) a port that another program took since it was chosen is replaced by
        a free one and the start tried again, up to `_BIND_ATTEMPTS` times; a restart keeps its
        port.
        """
        for attempt in range(1, _BIND_ATTEMPTS + 1):
            try:
                self._start_once()
                return
            except ProcessExitedError as exc:
                taken = "address already in use" in exc.log_tail.lower()
                if not (choose_ports and taken) or attempt == _BIND_ATTEMPTS:
                    raise
                self._choose_ports()

    def _choose_ports(self) -> None:
        """Move to free ports (subclasses with more than one port move them all)."""
        self.port = free_port()

    def _start_once(self) -> None:
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
