"""The Postgres pool, made in the background so the service starts while Postgres is down.

`Database.run` keeps trying until it has applied the service's migrations and opened an asyncpg
pool, logging each failure; readiness reports "postgres" not ready meanwhile. Once the pool
exists, asyncpg replaces broken connections by itself, so an outage later needs no special
handling here: operations fail with transient errors (see `errors.is_transient_db_error`) until
Postgres is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeAlias

import asyncpg

from gateway_accounting.errors import DatabaseUnavailable, is_transient_db_error

log = logging.getLogger(__name__)

Migrate = Callable[[], Awaitable[None]]

# asyncpg's pool type is generic in the record class; plain Records are what we use.
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"


class Database:
    """Owns the asyncpg pool of the service and its background creation."""

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int,
        max_size: int,
        migrate: Migrate,
        command_timeout_s: float = 30.0,
    ) -> None:
        self._dsn = dsn
        self._min_size = min_size
        self._max_size = max_size
        self._migrate = migrate
        self._command_timeout_s = command_timeout_s
        self._pool: Pool | None = None
        self._ready = asyncio.Event()
        self.failure: str | None = None

    @property
    def pool(self) -> Pool:
        """The pool; raises DatabaseUnavailable until migrations ran and the pool was opened."""
        if self._pool is None:
            raise DatabaseUnavailable("Postgres is not reachable yet")
        return self._pool

    @property
    def started(self) -> bool:
        """Whether migrations ran and the pool exists (Postgres may still be down right now)."""
        return self._pool is not None

    async def wait_started(self) -> None:
        """Wait until `run` has opened the pool."""
        await self._ready.wait()

    async def run(self) -> None:
        """Apply migrations and open the pool, retrying until both succeed.

        An outage is retried with backoff (up to 5 s). Anything else, such as a migration file
        changed after it was applied, is logged with its traceback and retried every 30 s: the
        service stays up and not ready, with the reason in /readyz, instead of crash-looping.
        """
        delay = 0.2
        while self._pool is None:
            try:
                await self._migrate()
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=self._min_size,
                    max_size=self._max_size,
                    command_timeout=self._command_timeout_s,
                    timeout=5.0,
                )
            except Exception as exc:
                if is_transient_db_error(exc):
                    self.failure = f"unreachable: {exc}"
                    log.warning("Postgres unreachable, retrying in %.1fs: %s", delay, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                self.failure = f"{type(exc).__name__}: {exc}"
                log.exception("accounting database setup failed; retrying in 30s")
                await asyncio.sleep(30.0)
        self.failure = None
        log.info("Postgres pool open; accounting migrations applied")
        self._ready.set()

    async def ping(self) -> bool:
        """True when a pooled connection answers `SELECT 1` right now."""
        if self._pool is None:
            return False
        try:
            async with self._pool.acquire(timeout=1.0) as conn:
                await conn.fetchval("SELECT 1")
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            # Whatever the reason (outage, credentials revoked), the answer is "not usable now".
            log.debug("Postgres ping failed: %s", exc)
            return False
        return True

    async def close(self) -> None:
        """Close the pool, waiting briefly for connections in use to be returned."""
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), 5.0)
            except TimeoutError:
                log.warning("Postgres pool did not close in time; terminating its connections")
                self._pool.terminate()
