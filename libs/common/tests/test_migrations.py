"""apply_migrations against a real Postgres (a fresh database per test)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from gateway_common.migrations import MigrationError, advisory_lock_key, apply_migrations, discover_migrations


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


async def fetch_all(url: str, query: str) -> list[tuple[object, ...]]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(query.encode())
        return await cursor.fetchall()


async def test_applies_pending_files_in_order_once(fresh_database_url: str, tmp_path: Path) -> None:
    write(tmp_path, "0002_rows.sql", "INSERT INTO demo.items (name) VALUES ('a'), ('100%');")
    write(tmp_path, "0001_init.sql", "CREATE TABLE demo.items (id serial PRIMARY KEY, name text NOT NULL);")

    first = await apply_migrations(fresh_database_url, "demo", tmp_path)
    second = await apply_migrations(fresh_database_url, "demo", tmp_path)

    assert first == ["0001_init", "0002_rows"]
    assert second == []
    assert await fetch_all(fresh_database_url, "SELECT name FROM demo.items ORDER BY id") == [
        ("a",),
        ("100%",),
    ]
    recorded = await fetch_all(
        fresh_database_url, "SELECT version FROM demo.schema_migrations ORDER BY version"
    )
    assert recorded == [("0001_init",), ("0002_rows",)]


async def test_later_files_are_applied_on_the_next_run(fresh_database_url: str, tmp_path: Path) -> None:
    write(tmp_path, "0001_init.sql", "CREATE TABLE demo.items (id int PRIMARY KEY);")
    assert await apply_migrations(fresh_database_url, "demo", tmp_path) == ["0001_init"]

    write(tmp_path, "0002_more.sql", "ALTER TABLE demo.items ADD COLUMN note text;")
    assert await apply_migrations(fresh_database_url, "demo", tmp_path) == ["0002_more"]


async def test_changed_applied_file_is_refused(fresh_database_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, "0001_init.sql", "CREATE TABLE demo.items (id int PRIMARY KEY);")
    await apply_migrations(fresh_database_url, "demo", tmp_path)
    path.write_text("CREATE TABLE demo.items (id bigint PRIMARY KEY);", encoding="utf-8")
    write(tmp_path, "0002_more.sql", "CREATE TABLE demo.more (id int);")

    with pytest.raises(MigrationError, match=r"0001_init\.sql was changed"):
        await apply_migrations(fresh_database_url, "demo", tmp_path)

    # Nothing after the refusal was applied either.
    tables = await fetch_all(
        fresh_database_url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'demo'"
    )
    assert sorted(tables) == [("items",), ("schema_migrations",)]


async def test_failing_file_rolls_back_alone(fresh_database_url: str, tmp_path: Path) -> None:
    write(tmp_path, "0001_init.sql", "CREATE TABLE demo.items (id int PRIMARY KEY);")
    write(tmp_path, "0002_broken.sql", "CREATE TABLE demo.half (id int); SELECT * FROM demo.missing;")

    with pytest.raises(psycopg.errors.UndefinedTable):
        await apply_migrations(fresh_database_url, "demo", tmp_path)

    recorded = await fetch_all(fresh_database_url, "SELECT version FROM demo.schema_migrations")
    assert recorded == [("0001_init",)]
    half = await fetch_all(fresh_database_url, "SELECT to_regclass('demo.half')::text")
    assert half == [(None,)]


async def test_pending_file_older_than_an_applied_one_is_refused(
    fresh_database_url: str, tmp_path: Path
) -> None:
    write(tmp_path, "0002_second.sql", "CREATE TABLE demo.second (id int);")
    await apply_migrations(fresh_database_url, "demo", tmp_path)
    write(tmp_path, "0001_first.sql", "CREATE TABLE demo.first (id int);")

    with pytest.raises(MigrationError, match="sort before 0002"):
        await apply_migrations(fresh_database_url, "demo", tmp_path)


async def test_versions_from_a_newer_release_are_tolerated(fresh_database_url: str, tmp_path: Path) -> None:
    newer = tmp_path / "newer"
    write(newer, "0001_init.sql", "CREATE TABLE demo.items (id int);")
    write(newer, "0002_next.sql", "ALTER TABLE demo.items ADD COLUMN note text;")
    await apply_migrations(fresh_database_url, "demo", newer)
    older = tmp_path / "older"
    write(older, "0001_init.sql", "CREATE TABLE demo.items (id int);")

    assert await apply_migrations(fresh_database_url, "demo", older) == []


async def test_concurrent_callers_apply_each_file_once(fresh_database_url: str, tmp_path: Path) -> None:
    # Not idempotent on purpose: a second application would fail with DuplicateTable, and the
    # sleep keeps the first caller inside its transaction while the second one arrives.
    write(tmp_path, "0001_init.sql", "SELECT pg_sleep(0.3); CREATE TABLE demo.items (id int);")
    write(tmp_path, "0002_rows.sql", "INSERT INTO demo.items VALUES (1);")

    results = await asyncio.gather(
        apply_migrations(fresh_database_url, "demo", tmp_path),
        apply_migrations(fresh_database_url, "demo", tmp_path),
    )

    assert sorted(results) == [[], ["0001_init", "0002_rows"]]
    assert await fetch_all(fresh_database_url, "SELECT count(*) FROM demo.items") == [(1,)]


async def test_services_do_not_share_a_lock_or_schema(fresh_database_url: str, tmp_path: Path) -> None:
    write(tmp_path / "a", "0001_init.sql", "CREATE TABLE alpha.t (id int);")
    write(tmp_path / "b", "0001_init.sql", "CREATE TABLE beta.t (id int);")

    results = await asyncio.gather(
        apply_migrations(fresh_database_url, "alpha", tmp_path / "a"),
        apply_migrations(fresh_database_url, "beta", tmp_path / "b"),
    )

    assert results == [["0001_init"], ["0001_init"]]
    assert advisory_lock_key("alpha") != advisory_lock_key("beta")


@pytest.mark.parametrize("name", ["1_init.sql", "0001-init.sql", "0001_Init.sql"])
def test_badly_named_files_are_rejected(tmp_path: Path, name: str) -> None:
    write(tmp_path, name, "SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_description"):
        discover_migrations(tmp_path)


def test_duplicate_numbers_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "0001_a.sql", "SELECT 1;")
    write(tmp_path, "0001_b.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"more than one migration numbered \[1\]"):
        discover_migrations(tmp_path)


async def test_invalid_service_name_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="not a valid schema name"):
        await apply_migrations("postgresql://unused", "Robert'); DROP", tmp_path)
