"""The Postgres connection pool and the transaction helpers the services use.

The pool opens without waiting, so the service starts while Postgres is down; its workers keep
connecting in the background. `reconnect_timeout` is short on purpose: psycopg_pool backs off
exponentially up to that timeout, and a short one keeps a returning Postgres usable within
seconds (the next request grows the pool again). Connections are in autocommit mode; every
change goes through `transaction()`, which issues BEGIN/COMMIT around the block.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

log = logging.getLogger(__name__)

Connection = AsyncConnection[Any]


class Database:
    """A pool plus `transaction()`/`connection()`; the one object repositories get connections from."""

    def __init__(self, url: str, *, min_size: int, max_size: int, timeout_s: float = 3.0) -> None:
        self._pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            url,
            open=False,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout_s,
            reconnect_timeout=10.0,
            check=AsyncConnectionPool.check_connection,
            kwargs={"autocommit": True, "connect_timeout": 3, "application_name": "gateway-control"},
            name="control",
        )

    async def open(self) -> None:
        """Start the pool's background connecting; returns at once, even when Postgres is down."""
        await self._pool.open(wait=False)

    async def close(self) -> None:
        """Close every connection."""
        await self._pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A connection in autocommit mode (each statement commits on its own)."""
        async with self._pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self, *, repeatable_read: bool = False) -> AsyncIterator[Connection]:
        """A connection inside one transaction: committed when the block exits, rolled back on error."""
        async with self._pool.connection() as conn, conn.transaction():
            if repeatable_read:
                # Must be the transaction's first statement: one snapshot for every read after it.
                await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield conn

    async def ping(self) -> bool:
        """True when a connection can run a trivial query within the pool timeout."""
        try:
            async with self._pool.connection(timeout=1.0) as conn:
                await conn.execute("SELECT 1")
        except (PoolTimeout, psycopg.OperationalError) as exc:
            log.debug("postgres ping failed: %s", exc)
            return False
        return True
