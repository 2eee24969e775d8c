"""`python -m gateway_devstack migrate` (what `make migrate` runs): apply every service's migrations.

Against DATABASE_URL when it is set, else against the dev stack's embedded Postgres under ROOT
(started for the purpose and stopped again). Each service's files are applied into its own schema
under that service's advisory lock, exactly as the services do at startup, so running this beside
starting replicas is safe.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path

from gateway_common.migrations import MigrationError, apply_migrations

from gateway_devstack.cli import Command
from gateway_devstack.errors import DevStackError
from gateway_devstack.settings import StackSettings
from gateway_devstack.stack import start_stack

REPO_ROOT = Path(__file__).resolve().parents[4]
# The services that own a schema, in the order their migrations are applied.
OWNERS = ("control", "accounting")


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path(".run/dev"), help="the dev stack's directory")


async def migrate_all(database_url: str) -> dict[str, list[str]]:
    """Apply each owner's pending migrations; return the versions applied per service."""
    return {
        service: await apply_migrations(
            database_url, service, REPO_ROOT / "services" / service / "migrations"
        )
        for service in OWNERS
    }


def _run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = StackSettings.from_env(args.root.resolve() / "stack", env)
    try:
        with start_stack(settings) as stack:
            applied = asyncio.run(migrate_all(stack.endpoints.database_url))
    except (DevStackError, MigrationError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for service, versions in applied.items():
        print(f"{service}: {', '.join(versions) if versions else 'up to date'}")
    return 0


COMMAND = Command(
    name="migrate",
    help="apply every service's migrations to DATABASE_URL, or to the dev stack's Postgres",
    add_arguments=_add_arguments,
    run=_run,
)
