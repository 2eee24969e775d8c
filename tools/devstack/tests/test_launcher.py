"""`python -m gateway_devstack stack`: its servers never outlive it, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_devstack.procs import child_pids, interruptible, pid_alive
from gateway_devstack.roots import temporary_root
from gateway_devstack.state import read_state

OVERRIDES = ("DATABASE_URL", "REDIS_URL", "NATS_URL", "GATEWAY_STACK")


def _launcher_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in OVERRIDES}


def _wait_for_running_state(
    root: Path, launcher: subprocess.Popen[bytes], timeout: float = 60
) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(root)
        if state.get("running") is True and state.get("launcher_pid") == launcher.pid:
            servers = state["servers"]
            assert isinstance(servers, dict)
            return {name: servers[name]["pid"] for name in ("postgres", "redis", "nats")}
        assert launcher.poll() is None, f"launcher exited with {launcher.returncode}"
        time.sleep(0.05)
    raise AssertionError(f"no running stack.json under {root} after {timeout}s")


def _wait_until_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (alive := [pid for pid in pids if pid_alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    with temporary_root(keep_logs_in=tmp_path) as root:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway_devstack", "stack", "--root", str(root)],
            env=_launcher_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=interruptible,
        )
        try:
            yield proc, root
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
            # If a test failed because servers survived, do not leave them behind either.
            servers = read_state(root).get("servers", {})
            assert isinstance(servers, dict)
            for entry in servers.values():
                pid = entry.get("pid")
                if isinstance(pid, int) and pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)


def test_sigkill_of_the_launcher_takes_every_server_down(
    launcher: tuple[subprocess.Popen[bytes], Path],
) -> None:
    proc, root = launcher
    pids = _wait_for_running_state(root, proc)
    postgres_children = child_pids(pids["postgres"])
    assert postgres_children, "the postmaster should have background workers"
    assert all(pid_alive(pid) for pid in pids.values())

    proc.kill()
    proc.wait()

    survivors = _wait_until_gone([*pids.values(), *postgres_children], timeout=10)
    assert survivors == []


@pytest.mark.parametrize(("sig", "exit_code"), [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_stop_the_servers_cleanly(
    launcher: tuple[subprocess.Popen[bytes], Path], sig: signal.Signals, exit_code: int
) -> None:
    proc, root = launcher
    pids = _wait_for_running_state(root, proc)

    proc.send_signal(sig)
    stdout, _ = proc.communicate(timeout=60)

    assert proc.returncode == exit_code
    assert _wait_until_gone(list(pids.values()), timeout=1) == []
    assert read_state(root)["running"] is False
    assert b"DATABASE_URL=postgresql://postgres@127.0.0.1:" in stdout
    assert "received fast shutdown request" in (root / "logs" / "postgres.log").read_text()


def test_the_launcher_exits_when_a_server_dies(launcher: tuple[subprocess.Popen[bytes], Path]) -> None:
    proc, root = launcher
    pids = _wait_for_running_state(root, proc)

    os.kill(pids["redis"], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=60)

    assert proc.returncode == 1
    assert b"redis exited" in stderr
    assert _wait_until_gone(list(pids.values()), timeout=1) == []


def test_help_lists_the_stack_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway_devstack", "--help"], capture_output=True, text=True, check=True
    )
    assert "stack" in result.stdout
