"""Startup and shutdown: the resources the proxy owns, in the order they must close.

Startup never waits for a dependency: Redis connects lazily, NATS connects in the background
with retry, and the snapshot follower starts when NATS is there. Until then /readyz says
which one is missing. Shutdown (Granian's SIGTERM → lifespan shutdown, after in-flight
requests finished) flushes the usage queue while NATS is still connected, stops the
background tasks, then closes NATS, Redis and the upstream pool.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import nats.errors
import redis.asyncio as aioredis
from gateway_common.names import KEY_INVALIDATE_SUBJECT
from gateway_common.nats import NatsConnection, ensure_usage_stream
from gateway_common.readiness import Readiness
from gateway_common.redis import connect_redis
from gateway_common.sealing import DataPlaneKeys
from gateway_common.snapshots import SnapshotFollower
from gateway_common.telemetry import active_tracer
from gateway_proto.v1.config_pb2 import ConfigSnapshot
from nats.aio.client import Client
from nats.js.errors import Error as JetStreamError
from redis.exceptions import RedisError
from starlette.applications import Starlette

from gateway_proxy.auth import Authenticator
from gateway_proxy.breaker import BreakerPolicy, CircuitBreakers
from gateway_proxy.deployment_caps import DeploymentCaps
from gateway_proxy.deployment_stats import DeploymentStats
from gateway_proxy.forwarder import Forwarder
from gateway_proxy.guards import build_guards
from gateway_proxy.health_watch import HealthWatch
from gateway_proxy.key_cache import KeyCache
from gateway_proxy.keys import KeyResolver, build_key_store, clear_on_reconnect
from gateway_proxy.metrics import ProxyMetrics
from gateway_proxy.router import RetryPolicy, Router
from gateway_proxy.runtime import Timeouts
from gateway_proxy.settings import ProxySettings
from gateway_proxy.snapshot import ConfigHolder
from gateway_proxy.spool import UsageSpool
from gateway_proxy.state import STATE_KEY, ProxyState
from gateway_proxy.tasks import BackgroundTasks
from gateway_proxy.tokens import TokenEstimator
from gateway_proxy.upstream import create_upstream
from gateway_proxy.upstream_tracing import traced
from gateway_proxy.usage_publisher import UsagePublisher

log = logging.getLogger(__name__)

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[dict[str, ProxyState]]]


def default_timeouts(settings: ProxySettings) -> Timeouts:
    """The gateway-wide timeouts a model uses unless its snapshot entry overrides them."""
    return Timeouts(
        sync_s=settings.timeout_sync_s,
        stream_idle_s=settings.timeout_stream_idle_s,
        total_s=settings.timeout_total_s,
        upstream_s=settings.timeout_upstream_s,
        connect_s=settings.timeout_connect_s,
    )


def instance_name(settings: ProxySettings) -> str:
    """INSTANCE_ID, or host:pid when unset (each Granian worker is its own instance)."""
    return settings.instance_id or f"{socket.gethostname()}:{os.getpid()}"


def make_lifespan(settings: ProxySettings, metrics: ProxyMetrics) -> Lifespan:
    """The lifespan for `create_app`: builds ProxyState on startup, closes it on shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, ProxyState]]:
        estimator = TokenEstimator()
        state = _build_state(settings, metrics, estimator)
        if settings.tokenizer_preload:
            # ~0.4 s and ~28 MiB, off the event loop; otherwise loaded when first needed (tokens.py).
            await estimator.ready()
        state.nats.start()
        state.publisher.start()
        state.tasks.start(state.follower.run(), "snapshot-follower")
        state.tasks.start(
            clear_on_reconnect(lambda: _reconnects(state.nats), state.authenticator.resolver.cache),
            "key-cache-reconnect-watch",
        )
        state.tasks.start(state.guards.limiter.renew_leases(), "rate-limit-lease-renewal")
        if state.router.health is not None:
            state.tasks.start(state.router.health.run(), "health-watch")
        # Everything built so far (modules, settings, the snapshot) lives as long as the process:
        # out of the collector's reach, a full collection no longer walks it on the hot path.
        gc.freeze()
        log.info("proxy started", extra={"host": settings.proxy_host, "port": settings.proxy_port})
        try:
            yield {STATE_KEY: state}
        finally:
            await _shutdown(state)

    return lifespan


def _build_state(settings: ProxySettings, metrics: ProxyMetrics, estimator: TokenEstimator) -> ProxyState:
    keys = DataPlaneKeys.from_base64(settings.dataplane_key_id, settings.dataplane_key.get_secret_value())
    holder = ConfigHolder(keys, default_timeouts(settings))
    redis = connect_redis(settings.redis_url, timeout_s=settings.redis_timeout_s)
    cache = KeyCache(
        ttl_s=settings.key_cache_ttl_s,
        max_entries=settings.key_cache_size,
        negative_ttl_s=settings.key_negative_ttl_s,
        max_negative=settings.key_negative_cache_size,
        stale_s=settings.key_stale_s,
    )
    key_store, key_control = build_key_store(
        redis,
        settings.control_url,
        settings.internal_token.get_secret_value(),
        timeout_s=settings.key_control_timeout_s,
        concurrency=settings.key_control_concurrency,
        count=lambda outcome: metrics.key_lookups.labels(outcome).inc(),
    )
    resolver = KeyResolver(cache, key_store)
    guards = build_guards(settings, redis, estimator, key_control)

    async def on_nats_connect(client: Client) -> None:
        await _subscribe_and_ensure(client, resolver)

    instance_id = instance_name(settings)
    connection = NatsConnection(settings.nats_url, f"proxy-{instance_id}", on_connect=on_nats_connect)

    def on_snapshot(snapshot: ConfigSnapshot) -> None:
        holder.apply(snapshot)
        if holder.current is not None:
            metrics.config_revision.set(holder.current.revision)

    publisher = UsagePublisher(
        connection,
        metrics,
        queue_size=settings.usage_queue_size,
        publish_timeout_s=settings.usage_publish_timeout_s,
        concurrency=settings.usage_publish_concurrency,
        linger_s=settings.usage_publish_linger_s,
        spool=UsageSpool.open(
            settings.usage_spool_dir, max_bytes=settings.usage_spool_max_bytes, registry=metrics.registry
        ),
        tracer=active_tracer("gateway_proxy.usage"),
    )
    http = traced(create_upstream(settings))
    router = build_router(settings, connection, redis, metrics)
    readiness = Readiness()

    async def redis_ready() -> bool:
        try:
            return bool(await redis.ping())
        except RedisError:
            return False

    async def nats_ready() -> bool:
        return connection.connected

    async def config_ready() -> bool:
        return holder.current is not None

    readiness.add("redis", redis_ready, needed_once=True)
    readiness.add("nats", nats_ready, needed_once=True)
    readiness.add("config_snapshot", config_ready)
    return ProxyState(
        settings=settings,
        metrics=metrics,
        config=holder,
        authenticator=Authenticator(
            resolver,
            settings.key_pepper.get_secret_value().encode(),
            count=lambda outcome: metrics.key_lookups.labels(outcome).inc(),
        ),
        forwarder=Forwarder(
            http,
            publisher,
            metrics,
            router,
            instance_id=instance_id,
            estimator=estimator,
            usage_observer=guards.observe_usage,
        ),
        readiness=readiness,
        http=http,
        redis=redis,
        nats=connection,
        follower=SnapshotFollower(connection, on_snapshot, poll_interval_s=settings.snapshot_poll_interval_s),
        publisher=publisher,
        tasks=BackgroundTasks(),
        guards=guards,
        router=router,
        estimator=estimator,
    )


def build_router(
    settings: ProxySettings, nats: NatsConnection, redis: aioredis.Redis, metrics: ProxyMetrics
) -> Router:
    """The routing state: breakers, live stats, the health watch and the deployment caps."""
    breakers = CircuitBreakers(
        BreakerPolicy(
            consecutive_failures=settings.breaker_consecutive_failures,
            error_rate=settings.breaker_error_rate,
            min_requests=settings.breaker_min_requests,
            window_s=settings.breaker_window_s,
            cooldown_s=settings.breaker_cooldown_s,
            max_cooldown_s=settings.breaker_max_cooldown_s,
        ),
        on_transition=metrics.breaker_transition,
    )
    return Router(
        breakers,
        DeploymentStats(ewma_alpha=settings.routing_latency_ewma_alpha),
        health=HealthWatch(nats, resync_s=settings.health_resync_s),
        caps=DeploymentCaps(redis, timeout_s=settings.rate_limit_redis_timeout_s),
        explore=settings.routing_latency_explore,
        retry=RetryPolicy(
            max_attempts=settings.routing_max_attempts,
            backoff_s=settings.routing_retry_backoff_s,
            max_wait_s=settings.routing_retry_max_wait_s,
        ),
    )


async def _subscribe_and_ensure(client: Client, resolver: KeyResolver) -> None:
    """On every first connect: listen for key invalidations and make sure the USAGE stream exists.

    Failures are logged, not raised: a raise here would stop NatsConnection from ever
    reporting ready. nats-py re-subscribes by itself after reconnects.
    """
    try:
        await client.subscribe(KEY_INVALIDATE_SUBJECT, cb=resolver.on_invalidation)
    except nats.errors.Error as exc:
        log.error("could not subscribe to key invalidations: %s", exc)
    try:
        await ensure_usage_stream(client.jetstream())
    except (nats.errors.Error, JetStreamError, TimeoutError) as exc:
        log.error("could not ensure the USAGE stream (publisher retries it): %s", exc)


def _reconnects(connection: NatsConnection) -> int | None:
    try:
        return int(connection.client.stats["reconnects"])
    except ConnectionError:
        return None


async def _shutdown(state: ProxyState) -> None:
    log.info("proxy shutting down: flushing usage events")
    await state.publisher.close(state.settings.usage_flush_timeout_s)
    await state.tasks.drain()
    await state.guards.close()
    await state.nats.close()
    await state.redis.aclose()
    await state.http.aclose()
    log.info("proxy stopped")
