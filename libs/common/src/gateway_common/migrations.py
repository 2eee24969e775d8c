"""Versioned SQL migrations, applied at service start-up.

Each service owns one Postgres schema named after it and a directory of plain SQL files
named ``NNNN_description.sql`` (``0001_init.sql``, ``0002_add_index.sql``...). Applying them:

- takes a session-level ``pg_advisory_lock`` whose key is derived from the service name, so
  replicas that start together queue up and exactly one of them applies each file;
- records every applied file (version, checksum, time) in ``<schema>.schema_migrations``;
- applies each pending file in its own transaction, together with its bookkeeping row, so
  a failing file leaves neither partial changes nor a record behind;
- refuses to run when a file that was already applied has changed since (its checksum
  differs), or when a pending file sorts before one already applied (a migration merged out
  of order would otherwise be skipped on some databases and not others).

Versions applied by a newer release and unknown to this one are tolerated, so an older
replica can still start during a rolling deploy. A file cannot opt out of the transaction
(``CREATE INDEX CONCURRENTLY`` is therefore not possible in a migration file).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """Migrations cannot be applied as they are; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: ``version`` is its file name without ``.sql``."""

    number: int
    version: str
    path: Path
    checksum: str

    def read_sql(self) -> str:
        """The file's SQL text."""
        return self.path.read_text(encoding="utf-8")


def advisory_lock_key(service: str) -> int:
    """The signed 64-bit ``pg_advisory_lock`` key guarding a service's migrations."""
    digest = hashlib.sha256(f"gateway-migrations:{service}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def discover_migrations(directory: Path) -> list[Migration]:
    """The migration files of a directory in version order, checked for naming and duplicates."""
    if not directory.is_dir():
        raise MigrationError(f"migrations directory {directory} does not exist")
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_description.sql")
        data = path.read_bytes()
        migrations.append(Migration(int(match.group(1)), path.stem, path, hashlib.sha256(data).hexdigest()))
    numbers = [m.number for m in migrations]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise MigrationError(f"{directory}: more than one migration numbered {duplicates}")
    return migrations


def _plan(migrations: list[Migration], applied: dict[str, str]) -> list[Migration]:
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            raise MigrationError(
                f"{migration.path.name} was changed after it was applied (checksum {recorded[:12]} recorded, "
                f"{migration.checksum[:12]} now); add a new migration instead of editing an applied one"
            )
    pending = [m for m in migrations if m.version not in applied]
    applied_numbers = [int(version[:4]) for version in applied]
    newest = max(applied_numbers, default=0)
    early = [m.path.name for m in pending if m.number < newest]
    if early:
        raise MigrationError(f"{early} are pending but sort before {newest:04d}, which is already applied")
    return pending


async def apply_migrations(database_url: str, service: str, directory: Path) -> list[str]:
    """Apply a service's pending migrations from ``directory``; return the versions applied.

    The service's schema (named ``service``) and its ``schema_migrations`` table are created
    when missing. Concurrent callers for the same service serialise on an advisory lock and
    later ones find nothing left to do, so every replica may call this on start-up. Raises
    ``MigrationError`` for a changed or out-of-order migration (nothing is applied then), and
    the database's error for a failing file (the files before it stay applied).
    """
    if not _SERVICE_NAME.match(service):
        raise MigrationError(f"service name {service!r} is not a valid schema name")
    migrations = discover_migrations(directory)
    schema = sql.Identifier(service)
    # The lock is session-level: closing the connection (also on error) releases it.
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (advisory_lock_key(service),))
        await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.schema_migrations ("
                " version text PRIMARY KEY,"
                " checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(schema)
        )
        cursor = await conn.execute(
            sql.SQL("SELECT version, checksum FROM {}.schema_migrations").format(schema)
        )
        applied = {str(version): str(checksum) for version, checksum in await cursor.fetchall()}
        pending = _plan(migrations, applied)
        insert = sql.SQL("INSERT INTO {}.schema_migrations (version, checksum) VALUES (%s, %s)").format(
            schema
        )
        for migration in pending:
            async with conn.transaction():
                # Without parameters psycopg sends the file as one simple query: it may hold
                # many statements, and a literal % needs no escaping.
                await conn.execute(migration.read_sql().encode())
                await conn.execute(insert, (migration.version, migration.checksum))
    return [m.version for m in pending]
