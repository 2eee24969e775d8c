"""A pytest session that uses the `stack` fixture leaves nothing running, however it ends."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from gateway_devstack.procs import interruptible, pid_alive

INNER_TEST = textwrap.dedent(
    """
    import json, os, time
    from pathlib import Path

    def test_inner(stack):
        servers = json.loads((stack.root / "stack.json").read_text())["servers"]
        report = {"root": str(stack.root), "pids": [entry["pid"] for entry in servers.values()]}
        target = Path(os.environ["REPORT_FILE"])
        target.with_suffix(".tmp").write_text(json.dumps(report))
        target.with_suffix(".tmp").replace(target)
        if os.environ["END"] == "fail":
            raise AssertionError("deliberate failure")
        time.sleep(300)
    """
)
OVERRIDES = ("DATABASE_URL", "REDIS_URL", "NATS_URL", "GATEWAY_STACK")


@pytest.mark.parametrize(("end", "exit_code"), [("fail", 1), ("ctrl-c", 2), ("sigkill", -signal.SIGKILL)])
def test_the_session_stack_dies_with_the_session(tmp_path: Path, end: str, exit_code: int) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    report_file = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k not in OVERRIDES}
    env |= {"REPORT_FILE": str(report_file), "END": end}
    config = ["-c", str(tmp_path / "pytest.ini"), "--basetemp", str(tmp_path / "inner")]
    plugins = ["-p", "gateway_devstack.pytest_plugin", "-p", "no:cacheprovider"]
    inner = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", *plugins, *config, str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=interruptible,
    )
    report: dict[str, object] = {}
    try:
        deadline = time.monotonic() + 120
        while not report_file.exists():
            assert inner.poll() is None, inner.communicate()[0].decode()
            assert time.monotonic() < deadline, "the inner session never started its stack"
            time.sleep(0.05)
        report = json.loads(report_file.read_text())
        if end == "ctrl-c":
            inner.send_signal(signal.SIGINT)
        elif end == "sigkill":
            inner.kill()
        output = inner.communicate(timeout=120)[0].decode()
        assert inner.returncode == exit_code, output

        pids = report["pids"]
        assert isinstance(pids, list)
        deadline = time.monotonic() + 10
        while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in pids if pid_alive(pid)] == []
        if end != "sigkill":
            assert not Path(str(report["root"])).exists()
            assert (tmp_path / "inner" / "devstack0" / "logs" / "postgres.log").is_file()
    finally:
        if inner.poll() is None:
            inner.kill()
            inner.communicate()
        for pid in report.get("pids", []):  # type: ignore[attr-defined]
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if "root" in report:
            shutil.rmtree(str(report["root"]), ignore_errors=True)
