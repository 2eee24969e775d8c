"""Give each test a clean slate on shared servers: a fresh database, an empty Redis, no streams."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar
from urllib.parse import urlsplit

import nats
import psycopg
import redis
from psycopg import sql

T = TypeVar("T")


def database_url_for(url: str, database: str) -> str:
    """`url` with its database (the path) replaced by `database`."""
    return urlsplit(url)._replace(path=f"/{database}").geturl()


@contextmanager
def fresh_database(server_url: str, prefix: str = "test") -> Iterator[str]:
    """Create a uniquely named database on the server of `server_url`; yield its URL; drop it.

    The drop uses WITH (FORCE), so connections a test left open do not keep it alive.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url_for(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def flush_redis(url: str) -> None:
    """FLUSHALL on the Redis (Valkey) server at `url`."""
    with redis.Redis.from_url(url) as client:
        client.flushall()


async def purge_jetstream_async(url: str) -> list[str]:
    """Delete every JetStream stream (KV buckets and object stores are streams too); return their names."""
    # nats-py retries a failed first connect 60 times, 2 s apart, by default: fail in about 1 s.
    nc = await nats.connect(
        url, allow_reconnect=False, connect_timeout=5, max_reconnect_attempts=1, reconnect_time_wait=0.5
    )
    try:
        js = nc.jetstream()
        deleted: list[str] = []
        # STREAM.LIST pages; deleting shifts the pages, so always read the first one.
        while names := [info.config.name for info in await js.streams_info() if info.config.name]:
            for name in names:
                await js.delete_stream(name)
            deleted.extend(names)
        return deleted
    finally:
        await nc.close()


def run_in_fresh_loop(coro: Coroutine[object, object, T]) -> T:
    """Run `coro` to completion on a new event loop in a worker thread.

    Safe to call from synchronous code while another loop (pytest-asyncio's) exists in
    this thread: asyncio.run here would replace that thread's current loop.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="devstack-reset") as pool:
        return pool.submit(asyncio.run, coro).result()


def purge_jetstream(url: str) -> list[str]:
    """Synchronous `purge_jetstream_async`."""
    return run_in_fresh_loop(purge_jetstream_async(url))
