"""NATS connection that survives a server that is down at startup.

nats-py reconnects by itself once connected, but its first `connect` fails when the server is
unreachable. `NatsConnection` keeps trying in a background task, so a service starts, reports
not-ready, and becomes ready on its own when NATS appears.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

log = logging.getLogger(__name__)

OnConnect = Callable[[Client], Awaitable[None]]


class NatsConnection:
    """Owns one NATS client: connects in the background with backoff and exposes readiness."""

    def __init__(
        self, url: str, name: str, on_connect: OnConnect | None = None, *, stream_replicas: int = 1
    ) -> None:
        # Replicas of the streams and KV buckets this service creates (NATS_STREAM_REPLICAS).
        self.stream_replicas = stream_replicas
        self._url = url
        self._name = name
        self._on_connect = on_connect
        self._client: Client | None = None
        self._jetstream: JetStreamContext | None = None
        self._jetstream_client: Client | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_error_log = float("-inf")

    @property
    def client(self) -> Client:
        """The connected client; raises when the first connection has not been made yet."""
        if self._client is None:
            raise ConnectionError("NATS is not connected yet")
        return self._client

    @property
    def jetstream(self) -> JetStreamContext:
        """The JetStream context of the connected client (one per client, not one per call:
        building a context costs more than a publish, and the usage publisher calls this for
        every event)."""
        client = self.client
        if self._jetstream is None or self._jetstream_client is not client:
            self._jetstream = client.jetstream()
            self._jetstream_client = client
        return self._jetstream

    @property
    def connected(self) -> bool:
        """Whether the client is connected right now."""
        return self._client is not None and self._client.is_connected

    def start(self) -> None:
        """Begin connecting in the background."""
        self._task = asyncio.create_task(self._connect_loop(), name=f"nats-connect-{self._name}")

    async def wait_connected(self, timeout: float) -> None:
        """Wait for the first successful connection (and its on_connect hook)."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def _connect_loop(self) -> None:
        delay = 0.1
        while True:
            try:
                client = await nats.connect(
                    self._url,
                    name=self._name,
                    connect_timeout=1,
                    reconnect_time_wait=0.5,
                    max_reconnect_attempts=-1,
                    allow_reconnect=True,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
            except (OSError, TimeoutError, nats.errors.Error) as exc:
                log.warning("NATS unreachable at %s, retrying: %s", self._url, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            self._client = client
            log.info("NATS connected", extra={"nats_url": self._url})
            if self._on_connect is not None:
                await self._on_connect(client)
            self._ready.set()
            return

    async def _on_error(self, exc: Exception) -> None:
        # nats-py retries an unreachable server by itself; say so once every few seconds, not per try.
        now = asyncio.get_running_loop().time()
        if not self.connected and now - self._last_error_log >= 5.0:
            self._last_error_log = now
            log.warning("NATS unreachable at %s, retrying: %s", self._url, exc)
        else:
            log.debug("NATS client error: %s", exc)

    async def _on_disconnected(self) -> None:
        log.warning("NATS disconnected; reconnecting to %s", self._url)

    async def _on_reconnected(self) -> None:
        log.info("NATS reconnected")

    async def close(self) -> None:
        """Stop connecting, flush pending messages and close the client."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None and not self._client.is_closed:
            try:
                await asyncio.wait_for(self._client.drain(), 5)
            except (TimeoutError, nats.errors.Error) as exc:
                log.warning("NATS drain failed, closing: %s", exc)
                await self._client.close()


async def ensure_usage_stream(js: JetStreamContext, replicas: int = 1) -> None:
    """Create the USAGE stream if missing (idempotent; proxy and accounting both call it), and
    raise its replica count to `replicas` when it has fewer (see `ensure_replicas`)."""
    from nats.js.api import StreamConfig
    from nats.js.errors import NotFoundError

    from gateway_common.names import USAGE_STREAM, USAGE_SUBJECT

    try:
        info = await js.stream_info(USAGE_STREAM)
    except NotFoundError:
        # A 2-minute duplicate window makes Nats-Msg-Id = request_id dedupe a re-publish after a retry.
        await js.add_stream(
            StreamConfig(
                name=USAGE_STREAM,
                subjects=[USAGE_SUBJECT],
                duplicate_window=120.0,
                max_age=7 * 86400,
                num_replicas=replicas,
            )
        )
        return
    await ensure_replicas(js, info.config, replicas)


async def ensure_bucket(js: JetStreamContext, bucket: str, history: int = 1, replicas: int = 1) -> None:
    """Create a KV bucket if missing (idempotent), with `replicas` copies; an existing bucket
    with fewer is raised to `replicas`."""
    from nats.js.errors import BucketNotFoundError

    try:
        await js.key_value(bucket)
    except BucketNotFoundError:
        await js.create_key_value(bucket=bucket, history=history, replicas=replicas)
        return
    # A KV bucket is the stream KV_<bucket>.
    await ensure_replicas(js, (await js.stream_info(f"KV_{bucket}")).config, replicas)


async def ensure_replicas(js: JetStreamContext, config: StreamConfig, replicas: int) -> None:
    """Raise a stream's replica count to `replicas` (never lower it: a service with the default
    of 1, or an older one, must not undo the operator's setting). JetStream moves the data."""
    if (config.num_replicas or 1) < replicas:
        log.info("raising stream %s to %d replicas", config.name, replicas)
        await js.update_stream(dataclasses.replace(config, num_replicas=replicas))
