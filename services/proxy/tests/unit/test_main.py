"""`python -m gateway_proxy`: a bad setting stops it with exit code 2 and names the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gateway_proxy.__main__ import granian_argv
from gateway_proxy.settings import ProxySettings


def run_main(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in ProxySettings.model_fields and k.upper() != "GATEWAY_CONFIG_FILE"
    }
    for name in ProxySettings.model_fields:
        clean.pop(name.upper(), None)
    return subprocess.run(
        [sys.executable, "-m", "gateway_proxy"],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_settings_exit_2_naming_them(tmp_path: Path) -> None:
    result = run_main({}, tmp_path)
    assert result.returncode == 2
    for name in ("REDIS_URL", "NATS_URL", "KEY_PEPPER", "DATAPLANE_KEY"):
        assert name in result.stderr


def test_an_invalid_value_is_named(tmp_path: Path) -> None:
    env = {
        "REDIS_URL": "redis://127.0.0.1:1",
        "NATS_URL": "nats://127.0.0.1:1",
        "KEY_PEPPER": "p",
        "DATAPLANE_KEY": "x",
        "PROXY_PORT": "not-a-port",
    }
    result = run_main(env, tmp_path)
    assert result.returncode == 2
    assert "PROXY_PORT" in result.stderr


def test_granian_runs_the_factory_on_asgi_with_uvloop_and_no_access_log() -> None:
    settings = ProxySettings(
        redis_url="redis://r", nats_url="nats://n", key_pepper="p", dataplane_key="k", proxy_workers=3
    )
    argv = granian_argv(settings)
    joined = " ".join(argv)
    assert argv[-1] == "gateway_proxy.app:create_app"
    for expected in (
        "--interface asgi",
        "--factory",
        "--loop uvloop",
        "--workers 3",
        "--no-access-log",
        "--port 8080",
    ):
        assert expected in joined
