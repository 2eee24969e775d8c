"""Supervise other child processes: services under Granian, fake upstreams.

`ManagedProcess` gives the same guarantees as the stack's own servers: the child dies
with its launcher (PR_SET_PDEATHSIG), logs go to a file, readiness is an HTTP 200, and
a child that exits while we wait fails fast with the tail of its log.
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

from gateway_devstack._children import log_tail, spawn_child, stop_child, wait_until_ready
from gateway_devstack.errors import DevStackError

# Listening ports are chosen from here up to just below the kernel's ephemeral range.
_LOWEST_PORT = 10_000
_PORT_ATTEMPTS = 64
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_port_rng = random.Random()  # its own seed: a test seeding `random` must not make ports repeat


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on `host` that a server can bind right now (`port_is_free`).

    The port comes from below the kernel's ephemeral range (`ip_local_port_range`). A port
    the kernel hands out for `bind(0)` lies inside that range, where any outgoing connection
    may take it as its source port before the caller binds it. A CI run lost a service that
    way: accounting could not bind the gRPC port chosen for it, which a connection had taken. Below the range,
    only another process choosing a listening port at the same moment can take it. Where the
    range cannot be read, or no port below it is free after a few tries, the kernel chooses.
    """
    ceiling = _ephemeral_low()
    if ceiling is not None and ceiling > _LOWEST_PORT:
        for _ in range(_PORT_ATTEMPTS):
            port = _port_rng.randrange(_LOWEST_PORT, ceiling)
            if port_is_free(port, host):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


def _ephemeral_low() -> int | None:
    """The lowest port the kernel uses for outgoing connections, or None if unknown."""
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether `port` can be bound on `host` (as servers do, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """Tell whether GET `url` answers 200; connection errors count as not ready."""
    try:
        # trust_env=False: a proxy configured in the environment must not see localhost probes.
        response = httpx.get(url, timeout=timeout, trust_env=False)
    except httpx.TransportError:
        return False
    return response.status_code == 200


class ManagedProcess:
    """One supervised child process with an optional HTTP readiness URL.

    `env` is the child's whole environment (nothing is inherited implicitly), so pass
    `{**os.environ, ...}` from the entry point if the child needs the parent's.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path | None,
        log_path: Path,
        ready_url: str | None,
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.ready_url = ready_url
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The child's pid while it has been started and not yet stopped."""
        return None if self._proc is None else self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The child's exit code once it has exited, else None."""
        return None if self._proc is None else self._proc.poll()

    def is_running(self) -> bool:
        """Tell whether the child has been started and has not exited."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the child; a no-op when it already runs."""
        if self.is_running():
            return
        self._proc = spawn_child(
            self.argv,
            log_path=self.log_path,
            env=self.env,
            cwd=self.cwd,
            death_signal=signal.SIGTERM,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until `ready_url` answers 200 (or, without one, check the child still runs).

        Raises ProcessExitedError with the log tail as soon as the child exits, and
        NotReadyError after `timeout` seconds.
        """
        if self._proc is None:
            raise DevStackError(f"{self.name} was never started")
        url = self.ready_url
        wait_until_ready(
            self.name,
            self._proc,
            (lambda: True) if url is None else (lambda: http_ok(url)),
            log_path=self.log_path,
            timeout=timeout,
        )

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the child: SIGTERM, wait `timeout` seconds, then SIGKILL; return its exit code."""
        if self._proc is None:
            return None
        returncode = stop_child(self._proc, stop_signal=signal.SIGTERM, timeout=timeout)
        self._proc = None
        return returncode

    def log_tail(self, max_bytes: int = 8192) -> str:
        """Return the end of the child's log, for error messages."""
        return log_tail(self.log_path, max_bytes)

    def __enter__(self) -> ManagedProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def pid_alive(pid: int) -> bool:
    """Tell whether `pid` is a live process; a zombie (exited, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The state letter follows the parenthesised command name, which may contain spaces.
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def child_pids(pid: int) -> list[int]:
    """The pids whose parent is `pid` (from /proc), e.g. Postgres's backends under the postmaster."""
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            children.append(int(entry.name))
    return children


def interruptible() -> None:
    """A `preexec_fn` giving the child SIGINT's default disposition, as in a terminal.

    A command started as a background job of a non-interactive shell (`cmd &`, CI runners,
    nohup) inherits SIGINT ignored, and so would every process it starts; Python then installs
    no KeyboardInterrupt handler. Tests that press Ctrl-C on a launcher start it with this.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
