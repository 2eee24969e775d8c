"""`make migrate`: every service's migrations, applied once, into their own schemas."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg


def _migrate(root: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "gateway_devstack", "migrate", "--root", str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_applies_each_service_once(tmp_path: Path, fresh_database_url: str) -> None:
    first = _migrate(tmp_path, fresh_database_url)
    assert first.returncode == 0, first.stderr
    assert "control: 0001_init" in first.stdout
    assert "accounting: 0001_init" in first.stdout
    second = _migrate(tmp_path, fresh_database_url)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == ["control: up to date", "accounting: up to date"]
    with psycopg.connect(fresh_database_url) as conn:
        tables = {
            f"{schema}.{name}"
            for schema, name in conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_schema IN ('control', 'accounting')"
            )
        }
    assert {"control.tenants", "control.api_keys", "accounting.usage", "accounting.usage_hourly"} <= tables
