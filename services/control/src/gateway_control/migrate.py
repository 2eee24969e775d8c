"""Applying this service's migrations: in the background at startup, or once from the CLI.

At startup Postgres may not be up yet: connection errors are retried with backoff until the
migrations apply. A migration that is broken (changed after being applied, out of order, or
failing SQL) is not retried: it is logged as critical and the service stays not-ready, which
is what an operator needs to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from gateway_common.migrations import MigrationError, apply_migrations

from gateway_control.settings import ControlSettings

log = logging.getLogger(__name__)

SERVICE = "control"
_MAX_DELAY_S = 5.0


class MigrationsFailedError(RuntimeError):
    """The migrations cannot be applied without a fix (not a connectivity problem)."""


async def migrate_once(settings: ControlSettings) -> list[str]:
    """Apply pending migrations now; return the versions applied."""
    try:
        return await apply_migrations(settings.database_url, SERVICE, settings.resolved_migrations_dir())
    except MigrationError as exc:
        raise MigrationsFailedError(str(exc)) from exc
    except psycopg.OperationalError:
        raise
    except psycopg.Error as exc:
        raise MigrationsFailedError(f"a migration failed: {exc}") from exc


async def migrate_with_retry(
    settings: ControlSettings, stopping: asyncio.Event, deadline_s: float | None
) -> list[str]:
    """Apply migrations, retrying while Postgres is unreachable (until `deadline_s`, if given)."""
    loop = asyncio.get_running_loop()
    give_up_at = None if deadline_s is None else loop.time() + deadline_s
    delay = 0.25
    while True:
        try:
            applied = await migrate_once(settings)
        except psycopg.OperationalError as exc:
            if give_up_at is not None and loop.time() >= give_up_at:
                raise
            log.warning("Postgres unreachable; migrations will be retried in %.1fs: %s", delay, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            if stopping.is_set():
                raise
            delay = min(delay * 2, _MAX_DELAY_S)
            continue
        if applied:
            log.info("applied migrations", extra={"versions": applied})
        return applied
