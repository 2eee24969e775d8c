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
from gateway_devstack import ManagedProcess, NotReadyError, ProcessExitedError, free_port, procs
from gateway_devstack.procs import pid_alive


def _env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", os.defpath)}


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_free_port_lies_below_the_ephemeral_range() -> None:
    # Outgoing connections take their source ports from that range: a port chosen inside it can
    # be taken by any connection before the service binds it.
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(20)}
    assert all(10_000 <= port < low for port in ports), ports
    assert len(ports) > 1  # chosen at random, not the same port every time


def test_free_port_skips_a_port_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        picks = iter([busy, busy, busy + 1 if busy + 1 < 65536 else busy - 1])

        class Scripted:
            def randrange(self, start: int, stop: int) -> int:
                return next(picks)

        monkeypatch.setattr(procs, "_port_rng", Scripted())
        monkeypatch.setattr(procs, "_ephemeral_low", lambda: 65_535)
        port = free_port()
    assert port != busy


def test_free_port_falls_back_to_the_kernel_without_a_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procs, "_ephemeral_low", lambda: None)
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
