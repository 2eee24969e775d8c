"""ManagedProcess: readiness over HTTP, fail-fast with the log, stop escalation, death with the parent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from gateway_devstack import ManagedProcess, NotReadyError, ProcessExitedError, free_port
from gateway_devstack.procs import pid_alive


def _env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", os.defpath)}


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_an_http_server_becomes_ready_and_stops(tmp_path: Path) -> None:
    port = free_port()
    proc = ManagedProcess(
        "http",
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        env=_env(),
        cwd=tmp_path,
        log_path=tmp_path / "http.log",
        ready_url=f"http://127.0.0.1:{port}/",
    )
    with proc:
        proc.wait_ready(timeout=30)
        pid = proc.pid
        assert pid is not None
        assert pid_alive(pid)
    assert not pid_alive(pid)
    assert proc.pid is None
    assert "GET / HTTP/1.1" in (tmp_path / "http.log").read_text()


def test_a_process_that_exits_fails_fast_with_its_log(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "crasher",
        [sys.executable, "-c", "import sys; print('boom: bad config', flush=True); sys.exit(3)"],
        env=_env(),
        cwd=None,
        log_path=tmp_path / "crasher.log",
        ready_url=f"http://127.0.0.1:{free_port()}/health",
    )
    proc.start()
    started = time.monotonic()
    with pytest.raises(ProcessExitedError, match="boom: bad config") as excinfo:
        proc.wait_ready(timeout=60)
    assert time.monotonic() - started < 10
    assert excinfo.value.returncode == 3
    proc.stop()


def test_a_process_that_never_answers_times_out(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "silent",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env=_env(),
        cwd=None,
        log_path=tmp_path / "silent.log",
        ready_url=f"http://127.0.0.1:{free_port()}/",
    )
    with proc, pytest.raises(NotReadyError, match=r"silent was not ready after 0\.5s"):
        proc.wait_ready(timeout=0.5)


def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    # The marker is built at run time: the log's header line repeats the argv.
    script = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ar' + 'med', flush=True); time.sleep(60)"
    )
    log = tmp_path / "stubborn.log"
    proc = ManagedProcess("stubborn", [sys.executable, "-c", script], _env(), None, log, None)
    proc.start()
    deadline = time.monotonic() + 30
    while "armed" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.wait_ready()
    assert proc.stop(timeout=0.5) == -signal.SIGKILL


def test_a_managed_process_dies_with_its_launcher(tmp_path: Path) -> None:
    launcher_code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from gateway_devstack import ManagedProcess
        child = ManagedProcess("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"],
                               {{}}, None, Path({str(tmp_path / "sleeper.log")!r}), None)
        child.start()
        print(child.pid, flush=True)
        time.sleep(120)
        """
    )
    launcher = subprocess.Popen([sys.executable, "-c", launcher_code], stdout=subprocess.PIPE)
    assert launcher.stdout is not None
    child_pid = int(launcher.stdout.readline())
    try:
        assert pid_alive(child_pid)
        launcher.kill()
        launcher.wait()
        deadline = time.monotonic() + 5
        while pid_alive(child_pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not pid_alive(child_pid)
    finally:
        launcher.stdout.close()
        if pid_alive(child_pid):
            os.kill(child_pid, signal.SIGKILL)
