"""`python -m gateway_control migrate` and the settings check of the entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg


def _run(env: dict[str, str], *args: str, cwd: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway_control", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def test_migrate_applies_once_and_is_idempotent(control_env: dict[str, str], tmp_path: Any) -> None:
    first = _run(control_env, "migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "0001_init" in first.stderr
    second = _run(control_env, "migrate", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert '"applied":[]' in second.stderr.replace(" ", "")
    with psycopg.connect(control_env["DATABASE_URL"]) as conn:
        versions = conn.execute("SELECT version FROM control.schema_migrations").fetchall()
    # Exactly the files in migrations/, in order, each once.
    on_disk = sorted(p.stem for p in MIGRATIONS.glob("*.sql"))
    assert [v for (v,) in versions] == on_disk
    assert on_disk[:2] == ["0001_init", "0002_rbac_auth"]


def test_bad_setting_exits_2_naming_it(control_env: dict[str, str], tmp_path: Any) -> None:
    result = _run({**control_env, "MASTER_KEY": "dG9vIHNob3J0"}, "migrate", cwd=tmp_path)
    assert result.returncode == 2
    assert "MASTER_KEY" in result.stderr
    missing = {k: v for k, v in control_env.items() if k != "JWT_SECRET"}
    result = _run(missing, cwd=tmp_path)
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr
