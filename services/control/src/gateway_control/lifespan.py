"""The app lifespan: builds ControlState, runs the background tasks, and shuts down in order.

Nothing here waits for a dependency: the pool, Redis and NATS connect in the background, so
the service starts (and answers /readyz with 503) while any of them is down. Background tasks:

- schema: migrations (retried until Postgres is reachable), then the bootstrap admin and the
  bootstrap file (BOOTSTRAP_FILE or the `bootstrap:` section; an invalid one keeps control not-ready);
- publisher: debounced ConfigSnapshot publishing (plus one at startup);
- key records: the Redis reconciler.

On shutdown the tasks are asked to stop (the publisher flushes a pending snapshot), then NATS
is drained and Redis, the pool and the gRPC channel are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import psycopg
from gateway_common.names import CONFIG_BUCKET
from gateway_common.nats import NatsConnection, ensure_bucket
from gateway_common.readiness import Readiness
from gateway_common.redis import connect_redis
from gateway_common.sealing import DataPlaneKeys
from litestar import Litestar
from nats.aio.client import Client
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway_control.bootstrap.run import apply_at_startup
from gateway_control.clients.accounting import AccountingClient
from gateway_control.clients.health import HealthClient
from gateway_control.database import Database
from gateway_control.domain.auth.services import bootstrap_platform_admin
from gateway_control.migrate import MigrationsFailedError, migrate_with_retry
from gateway_control.oidc.client import OidcClients
from gateway_control.publishing.key_cache import KeyRecordPublisher
from gateway_control.publishing.publisher import ConfigPublisher
from gateway_control.publishing.snapshot_store import BUCKET_HISTORY
from gateway_control.security.envelope import EnvelopeCipher
from gateway_control.security.login_limits import LoginRateLimiter
from gateway_control.security.passwords import PasswordHashing
from gateway_control.security.tokens import AccessTokens
from gateway_control.settings import ControlSettings
from gateway_control.state import STATE_KEY, ControlState

log = logging.getLogger(__name__)

SETTINGS_KEY = "settings"
_STOP_GRACE_S = 10.0


def _build_state(settings: ControlSettings, db: Database, redis: Redis, nats: NatsConnection) -> ControlState:
    schema_ready = asyncio.Event()
    envelope = EnvelopeCipher(settings.master_key_id, settings.master_keys)
    dataplane = DataPlaneKeys.from_base64(
        settings.dataplane_key_id, settings.dataplane_key.get_secret_value()
    )
    control = ControlState(
        settings=settings,
        db=db,
        redis=redis,
        nats=nats,
        accounting=AccountingClient(settings.accounting_grpc_target, settings.grpc_timeout_s),
        health=HealthClient(settings.health_grpc_target, settings.grpc_timeout_s),
        passwords=PasswordHashing(),
        login_limits=LoginRateLimiter(
            redis,
            per_email=settings.login_max_failures_per_email,
            per_ip=settings.login_max_failures_per_ip,
            window_s=settings.login_failure_window_s,
        ),
        tokens=AccessTokens(
            settings.jwt_secret.get_secret_value(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_s=settings.jwt_access_ttl_s,
        ),
        envelope=envelope,
        publisher=ConfigPublisher(
            db,
            nats,
            envelope,
            dataplane,
            schema_ready=schema_ready,
            debounce_s=settings.publish_debounce_ms / 1000,
            allow_unpriced_models=settings.allow_unpriced_models,
        ),
        key_records=KeyRecordPublisher(
            db,
            redis,
            nats,
            revoked_ttl_s=settings.revoked_key_ttl_s,
            reconcile_interval_s=settings.key_reconcile_interval_s,
            schema_ready=schema_ready,
        ),
        oidc=OidcClients(
            settings.oidc_providers,
            settings.public_url,
            timeout_s=settings.oidc_http_timeout_s,
            leeway_s=settings.oidc_clock_skew_s,
        ),
        readiness=Readiness(),
        schema_ready=schema_ready,
    )
    control.readiness.add("postgres", db.ping)
    control.readiness.add("redis", lambda: _redis_ok(redis))
    control.readiness.add("nats", lambda: _true_if(nats.connected))
    control.readiness.add("migrations", lambda: _true_if(schema_ready.is_set()))
    return control


async def _redis_ok(redis: Redis) -> bool:
    try:
        return bool(await redis.ping())
    except (RedisError, OSError):
        return False


async def _true_if(value: bool) -> bool:
    return value


async def prepare_schema(control: ControlState, stopping: asyncio.Event) -> None:
    """Migrate (retrying until Postgres is reachable), bootstrap the admin, then mark ready."""
    settings = control.settings
    try:
        await migrate_with_retry(settings, stopping, deadline_s=None)
    except MigrationsFailedError as exc:
        log.critical("migrations cannot be applied; control stays not-ready: %s", exc)
        return
    except psycopg.OperationalError:
        return  # stopping while Postgres was still unreachable
    while settings.admin_email and not stopping.is_set():
        try:
            await bootstrap_platform_admin(
                control.db,
                control.passwords,
                settings.admin_email,
                settings.admin_password.get_secret_value(),
            )
            break
        except psycopg.OperationalError as exc:
            log.warning("bootstrap admin not created yet, retrying: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), 1.0)
        except psycopg.Error as exc:
            log.critical("the bootstrap admin cannot be created; control stays not-ready: %s", exc)
            return
    if not await apply_at_startup(control, stopping):
        return
    control.schema_ready.set()
    log.info("schema ready")
    control.publisher.request("startup")


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Own every connection and background task of the app for its lifetime."""
    settings: ControlSettings = app.state[SETTINGS_KEY]
    async with AsyncExitStack() as stack:
        db = Database(
            settings.database_url, min_size=settings.db_pool_min_size, max_size=settings.db_pool_max_size
        )
        await db.open()
        stack.push_async_callback(db.close)
        redis = connect_redis(settings.redis_url)
        stack.push_async_callback(redis.aclose)
        holder: list[ControlState] = []

        async def on_nats_connect(client: Client) -> None:
            await ensure_bucket(
                client.jetstream(),
                CONFIG_BUCKET,
                history=BUCKET_HISTORY,
                replicas=settings.nats_stream_replicas,
            )
            if holder:
                holder[0].publisher.request("nats connected")

        nats = NatsConnection(
            settings.nats_url,
            name=f"control-{settings.instance_id or 'main'}",
            on_connect=on_nats_connect,
            stream_replicas=settings.nats_stream_replicas,
        )
        nats.start()
        stack.push_async_callback(nats.close)
        control = _build_state(settings, db, redis, nats)
        holder.append(control)
        stack.push_async_callback(control.accounting.close)
        stack.push_async_callback(control.health.close)
        stack.push_async_callback(control.oidc.aclose)
        app.state[STATE_KEY] = control

        stopping = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            background = [
                tasks.create_task(prepare_schema(control, stopping), name="control-schema"),
                tasks.create_task(control.publisher.run(stopping), name="control-publisher"),
                tasks.create_task(control.key_records.run(stopping), name="control-key-records"),
            ]
            try:
                yield
            finally:
                stopping.set()
                _done, pending = await asyncio.wait(background, timeout=_STOP_GRACE_S)
                for task in pending:
                    log.warning(
                        "background task did not stop in time; cancelling", extra={"task": task.get_name()}
                    )
                    task.cancel()
