"""`make dev` as a developer uses it: start, source .run/dev.env, call with the SDK, Ctrl-C, again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import openai
import psutil
import pytest
from gateway_devstack.procs import interruptible
from gateway_devstack.seed import ControlClient


def _read_env(path: Path) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in path.read_text().splitlines() if line)
    return {name: value for name, value in pairs}


def _launch(root: Path, env_file: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "NATS_URL")}
    argv = [sys.executable, "-m", "gateway_devstack", "dev", "--root", str(root), "--env-file", str(env_file)]
    # Output goes to a file: a pipe nobody reads would fill up and block the launcher.
    with (env_file.parent / "launcher.log").open("ab") as log:
        return subprocess.Popen(
            [*argv, "--free-ports"], env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=interruptible
        )


def _wait_for_env(proc: subprocess.Popen[bytes], env_file: Path, timeout: float = 120) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if env_file.exists():
            return _read_env(env_file)
        if proc.poll() is not None:
            out = (env_file.parent / "launcher.log").read_text()
            raise AssertionError(f"make dev exited with {proc.returncode}:\n{out[-4000:]}")
        time.sleep(0.2)
    raise AssertionError("make dev did not write its env file in time")


def _stop(proc: subprocess.Popen[bytes]) -> list[int]:
    children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(psutil.pid_exists(pid) and _alive(pid) for pid in children):
        time.sleep(0.1)
    return [pid for pid in children if psutil.pid_exists(pid) and _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _chat(env: dict[str, str]) -> str:
    with openai.OpenAI(
        base_url=env["OPENAI_BASE_URL"], api_key=env["OPENAI_API_KEY"], max_retries=0
    ) as client:
        reply = client.chat.completions.create(
            model="demo", messages=[{"role": "user", "content": "hi from dev"}]
        )
    return reply.choices[0].message.content or ""


def _message(env: dict[str, str]) -> str:
    """The same key and model through the Anthropic SDK (the proxy's Messages API)."""
    with anthropic.Anthropic(
        base_url=env["ANTHROPIC_BASE_URL"], api_key=env["ANTHROPIC_API_KEY"], max_retries=0
    ) as client:
        reply = client.messages.create(
            model="demo", max_tokens=32, messages=[{"role": "user", "content": "hi from dev"}]
        )
    block = reply.content[0]
    return block.text if block.type == "text" else ""


def _requests_in_summary(env: dict[str, str], at_least: int, timeout: float = 5.0) -> int:
    admin = ControlClient(env["CONTROL_URL"], env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"])
    try:
        deadline = time.monotonic() + timeout
        while True:
            requests = int(admin.get("/api/v1/usage/summary")["requests"])
            if requests >= at_least or time.monotonic() > deadline:
                return requests
            time.sleep(0.1)
    finally:
        admin.close()


@pytest.mark.e2e
def test_make_dev_serves_the_printed_key_and_restarts_on_its_data(tmp_path: Path) -> None:
    root, env_file = tmp_path / "dev", tmp_path / "dev.env"
    proc = _launch(root, env_file)
    try:
        env = _wait_for_env(proc, env_file)
        assert set(env) >= {
            "OPENAI_BASE_URL",
            "OPENAI_API_KEY",
            "ANTHROPIC_BASE_URL",
            "ANTHROPIC_API_KEY",
            "CONTROL_URL",
            "ADMIN_EMAIL",
            "ADMIN_PASSWORD",
        }
        assert _chat(env)
        assert _message(env) == _chat(env)  # the fake echoes: the same answer through both APIs
        assert _requests_in_summary(env, at_least=3) >= 3
    finally:
        leftovers = _stop(proc)
    assert leftovers == [], f"processes left behind after Ctrl-C: {leftovers}"

    env_file.unlink()
    proc = _launch(root, env_file)
    try:
        again = _wait_for_env(proc, env_file)
        assert again["OPENAI_API_KEY"] == env["OPENAI_API_KEY"], "a second make dev must reuse the data"
        assert _chat(again)
        assert _requests_in_summary(again, at_least=2) >= 2
    finally:
        leftovers = _stop(proc)
    assert leftovers == []
