"""The entry point: bad settings stop it with exit code 2 and the setting's name; one worker only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gateway_accounting.__main__ import granian_argv
from gateway_accounting.settings import AccountingSettings


def run_main(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # cwd is an empty directory so that no .env file is picked up; PATH etc. kept for the interpreter.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ACCOUNTING_", "DATABASE_", "NATS_"))}
    base.pop("GATEWAY_CONFIG_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "gateway_accounting"],
        env={**base, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_database_url_exits_2_naming_it(tmp_path: Path) -> None:
    result = run_main(tmp_path, NATS_URL="nats://127.0.0.1:1")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACCOUNTING_BATCH_SIZE", "0"),
        ("ACCOUNTING_GRPC_PORT", "70000"),
        ("ACCOUNTING_FETCH_TIMEOUT_S", "soon"),
    ],
)
def test_an_invalid_setting_exits_2_naming_it(tmp_path: Path, name: str, value: str) -> None:
    result = run_main(
        tmp_path, DATABASE_URL="postgresql://x/y", NATS_URL="nats://127.0.0.1:1", **{name: value}
    )
    assert result.returncode == 2
    assert name in result.stderr


def test_yaml_section_and_environment_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "database_url: postgresql://yaml/db\nnats_url: nats://yaml:4222\n"
        "accounting:\n  accounting_batch_size: 42\n  accounting_grpc_port: 6000\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEWAY_CONFIG_FILE", str(config))
    monkeypatch.setenv("ACCOUNTING_GRPC_PORT", "6001")
    for name in ("DATABASE_URL", "NATS_URL", "ACCOUNTING_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    settings = AccountingSettings()  # type: ignore[call-arg]
    assert settings.database_url == "postgresql://yaml/db"
    assert settings.accounting_batch_size == 42
    assert settings.accounting_grpc_port == 6001


def test_granian_runs_one_asgi_worker_from_the_factory() -> None:
    settings = AccountingSettings(database_url="postgresql://x/y", nats_url="nats://n", accounting_port=9999)
    argv = granian_argv(settings)
    assert argv[argv.index("--workers") + 1] == "1"
    assert argv[argv.index("--interface") + 1] == "asgi"
    assert "--factory" in argv
    assert argv[argv.index("--port") + 1] == "9999"
    assert argv[-1] == "gateway_accounting.app:create_app"
