"""Redis (Valkey) client with short timeouts, so an outage fails fast instead of hanging requests."""

from __future__ import annotations

import redis.asyncio as aioredis


def connect_redis(url: str, *, timeout_s: float = 0.5, max_connections: int = 200) -> aioredis.Redis:
    """Create a pooled asyncio client; connections are made lazily and re-made after an outage."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=10,
        max_connections=max_connections,
        retry_on_timeout=False,
    )
