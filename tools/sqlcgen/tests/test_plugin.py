"""The plugin driven by the real sqlc binary, on the repository and on small scratch projects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlcgen.project import stale_report

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
SQLC = BIN / "sqlc"
GEN = ROOT / "tools" / "sqlcgen" / "gen.py"
GENERATED = [
    ROOT / "services/control/src/gateway_control/db",
    ROOT / "services/accounting/src/gateway_accounting/db",
]
SCHEMA = """
CREATE SCHEMA IF NOT EXISTS shop;
CREATE TABLE shop.items (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    tags text[] NOT NULL,
    note text,
    meta jsonb NOT NULL DEFAULT '{}'
);
"""


def run_sqlc(tmp_path: Path, queries: str, *, driver: str = "psycopg") -> subprocess.CompletedProcess[str]:
    (tmp_path / "schema.sql").write_text(SCHEMA, encoding="utf-8")
    (tmp_path / "queries").mkdir(exist_ok=True)
    (tmp_path / "queries" / "items.sql").write_text(queries, encoding="utf-8")
    (tmp_path / "sqlc.yaml").write_text(
        f"""version: "2"
plugins:
  - name: py
    process:
      cmd: {GEN}
      format: json
sql:
  - engine: postgresql
    schema: schema.sql
    queries: queries
    codegen:
      - plugin: py
        out: out
        options:
          driver: {driver}
          schema: shop
""",
        encoding="utf-8",
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(SQLC), "generate"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )


def test_committed_code_is_what_the_plugin_generates_now() -> None:
    assert stale_report(ROOT, SQLC) == ""


def test_committed_code_passes_ruff_and_mypy_strict() -> None:
    paths = [str(p) for p in GENERATED]
    for command in (
        [str(BIN / "ruff"), "check", *paths],
        [str(BIN / "ruff"), "format", "--check", *paths],
        [str(BIN / "mypy"), "--strict", *paths],
    ):
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("driver", ["psycopg", "asyncpg"])
def test_whole_table_rows_use_the_table_class_and_scalars_stay_scalar(tmp_path: Path, driver: str) -> None:
    result = run_sqlc(
        tmp_path,
        "-- name: GetItem :one\nSELECT * FROM shop.items WHERE id = $1;\n\n"
        "-- name: ItemNames :many\nSELECT name FROM shop.items ORDER BY name;\n\n"
        "-- name: Renamed :many\n-- sqlcgen: nullable=shout\n"
        "SELECT id, upper(note)::text AS shout FROM shop.items;\n",
        driver=driver,
    )
    assert result.returncode == 0, result.stderr
    module = (tmp_path / "out" / "items.py").read_text(encoding="utf-8")
    assert ") -> Item | None:" in module
    assert ") -> list[str]:" in module
    assert "class RenamedRow:" in module
    assert "shout: str | None" in module
    tables = (tmp_path / "out" / "tables.py").read_text(encoding="utf-8")
    assert "tags: list[str]" in tables
    assert "note: str | None" in tables


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        ("-- name: Where :one\nSELECT point(1, 2)::point AS p, 1::int AS n;\n", "type 'point'"),
        ("-- name: Bad :many\n-- sqlcgen: nullable=nope\nSELECT id, name FROM shop.items;\n", "nope"),
        ("-- name: Odd :many\n-- sqlcgen: frobnicate=x\nSELECT id, name FROM shop.items;\n", "frobnicate"),
        (
            "-- name: Copy :copyfrom\nINSERT INTO shop.items (id, name, tags) VALUES ($1, $2, $3);\n",
            ":copyfrom",
        ),
    ],
)
def test_unsupported_queries_fail_with_a_useful_message(tmp_path: Path, queries: str, message: str) -> None:
    result = run_sqlc(tmp_path, queries)
    assert result.returncode != 0
    assert "sqlcgen:" in result.stderr
    assert message in result.stderr


def test_unknown_driver_is_refused(tmp_path: Path) -> None:
    result = run_sqlc(tmp_path, "-- name: N :one\nSELECT count(*) FROM shop.items;\n", driver="sqlite3")
    assert result.returncode != 0
    assert "'driver' must be one of ['asyncpg', 'psycopg']" in result.stderr
