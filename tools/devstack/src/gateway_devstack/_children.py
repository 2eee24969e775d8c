"""Start and stop child processes that cannot outlive the process that started them.

Every child is started in its own session (so a terminal Ctrl-C reaches only the
launcher, which then stops the children in order) and with PR_SET_PDEATHSIG, so the
kernel signals it when the launcher dies for any reason, SIGKILL included.

PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the whole
process: start children from a long-lived thread (normally the main thread).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway_devstack.errors import NotReadyError, ProcessExitedError

_PR_SET_PDEATHSIG = 1
_LOG_TAIL_BYTES = 8192


@dataclass(frozen=True)
class RunAs:
    """The unprivileged account a child runs as (used for Postgres when we are root)."""

    uid: int
    gid: int


def _libc_prctl() -> Callable[..., int]:
    libc = ctypes.CDLL(None, use_errno=True)
    prctl: Callable[..., int] = libc.prctl
    return prctl


def _make_preexec(run_as: RunAs | None, death_signal: signal.Signals) -> Callable[[], None]:
    # Resolve everything in the parent: the child between fork and exec should do as
    # little as possible.
    prctl = _libc_prctl()
    parent_pid = os.getpid()
    signum = int(death_signal)

    def preexec() -> None:
        if run_as is not None:
            os.setgroups([])
            os.setgid(run_as.gid)
            os.setuid(run_as.uid)
        # After setuid: a credential change clears the parent-death signal.
        if prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent_pid:
            # The parent died before prctl took effect; nobody will signal us.
            os._exit(1)

    return preexec


def spawn_child(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str],
    cwd: Path | None = None,
    death_signal: signal.Signals = signal.SIGTERM,
    run_as: RunAs | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` with stdout and stderr appended to `log_path`, tied to our lifetime.

    The child gets `death_signal` from the kernel if the starting thread dies, runs in a
    new session, and (with `run_as`) drops to that uid/gid before exec.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_make_preexec(run_as, death_signal),
        )


def stop_child(proc: subprocess.Popen[bytes], *, stop_signal: signal.Signals, timeout: float) -> int:
    """Send `stop_signal`, wait up to `timeout` seconds, then SIGKILL; return the exit code."""
    if proc.poll() is None:
        proc.send_signal(stop_signal)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def log_tail(log_path: Path, max_bytes: int = _LOG_TAIL_BYTES) -> str:
    """Return the last `max_bytes` of a log file as text ('' when it does not exist)."""
    try:
        with log_path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            size = log.tell()
            log.seek(max(0, size - max_bytes))
            return log.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def wait_until_ready(
    name: str,
    proc: subprocess.Popen[bytes],
    check: Callable[[], bool],
    *,
    log_path: Path,
    timeout: float,
    interval: float = 0.05,
) -> None:
    """Poll `check` until it returns True; fail fast with the log tail if `proc` exits.

    Raises ProcessExitedError when the child exits first and NotReadyError after
    `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        returncode = proc.poll()
        if returncode is not None:
            raise ProcessExitedError(name, returncode, log_tail(log_path))
        if check():
            return
        if time.monotonic() >= deadline:
            raise NotReadyError(name, timeout, log_tail(log_path))
        time.sleep(interval)
