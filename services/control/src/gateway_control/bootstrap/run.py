"""Running the bootstrap: at startup (from BOOTSTRAP_FILE or the `bootstrap:` section) and from the CLI.

The file's secrets are environment variable references: the process environment is the secret
store the file points into, so it is read here (and by the CLI) rather than through the settings.
After a CLI run the changes are published from this process (snapshot and key records); at
startup the app's own publisher does it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import nats.errors
import psycopg
from gateway_common.names import CONFIG_BUCKET
from gateway_common.nats import NatsConnection, ensure_bucket
from gateway_common.redis import connect_redis
from gateway_common.sealing import DataPlaneKeys
from nats.aio.client import Client
from redis.exceptions import RedisError

from gateway_control.bootstrap.apply import BootstrapDeps, apply_spec, publish_key_records
from gateway_control.bootstrap.context import BootstrapResult
from gateway_control.bootstrap.spec import BootstrapError, BootstrapSpec, load_spec_file, parse_spec
from gateway_control.database import Database
from gateway_control.publishing.key_cache import KeyRecordPublisher
from gateway_control.publishing.publisher import ConfigPublisher
from gateway_control.publishing.snapshot_store import BUCKET_HISTORY
from gateway_control.security.envelope import EnvelopeCipher
from gateway_control.security.passwords import PasswordHashing
from gateway_control.settings import ControlSettings
from gateway_control.state import ControlState

log = logging.getLogger(__name__)

_NATS_WAIT_S = 10.0


class PublishFailedError(RuntimeError):
    """The bootstrap committed but its changes could not be published to NATS or Redis."""


def configured_spec(settings: ControlSettings) -> BootstrapSpec | None:
    """The spec of BOOTSTRAP_FILE or the inline `bootstrap:` section; None when neither is set."""
    if settings.bootstrap_file:
        return load_spec_file(Path(settings.bootstrap_file))
    if settings.bootstrap:
        return parse_spec(settings.bootstrap)
    return None


async def apply_at_startup(control: ControlState, stopping: asyncio.Event) -> bool:
    """Apply the configured bootstrap spec (retrying while Postgres is away); False when it is invalid."""
    settings = control.settings
    try:
        spec = configured_spec(settings)
        if spec is None:
            return True
        # The file names environment variables; the process environment holds their values.
        deps = BootstrapDeps(control.envelope, control.passwords, settings.key_pepper_bytes, os.environ)
        while not stopping.is_set():
            try:
                result = await apply_spec(control.db, spec, deps)
                break
            except psycopg.OperationalError as exc:
                log.warning("bootstrap file not applied yet, retrying: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), 1.0)
        else:
            return False
    except (BootstrapError, psycopg.Error) as exc:
        log.critical("the bootstrap file cannot be applied; control stays not-ready: %s", exc)
        return False
    # The startup snapshot follows schema_ready; key records are written now.
    await publish_key_records(result, control.key_records)
    return True


def bootstrap_deps(settings: ControlSettings, environ: Mapping[str, str]) -> BootstrapDeps:
    """The cipher, hashing and pepper built from the settings, plus the environment secrets come from."""
    return BootstrapDeps(
        envelope=EnvelopeCipher(settings.master_key_id, settings.master_keys),
        passwords=PasswordHashing(),
        pepper=settings.key_pepper_bytes,
        environ=environ,
    )


async def publish_result(settings: ControlSettings, db: Database, result: BootstrapResult) -> int | None:
    """Publish a run's changes from a process without the app (the CLI); the new revision, if any."""
    if not (result.config_changed or result.tenant_ids or result.key_digests):
        return None

    async def on_connect(client: Client) -> None:
        await ensure_bucket(
            client.jetstream(), CONFIG_BUCKET, history=BUCKET_HISTORY, replicas=settings.nats_stream_replicas
        )

    deps = bootstrap_deps(settings, {})
    connection = NatsConnection(
        settings.nats_url,
        name="control-bootstrap",
        on_connect=on_connect,
        stream_replicas=settings.nats_stream_replicas,
    )
    redis = connect_redis(settings.redis_url)
    ready = asyncio.Event()
    ready.set()
    connection.start()
    try:
        await connection.wait_connected(_NATS_WAIT_S)
        revision = None
        if result.config_changed:
            publisher = ConfigPublisher(
                db,
                connection,
                deps.envelope,
                DataPlaneKeys.from_base64(
                    settings.dataplane_key_id, settings.dataplane_key.get_secret_value()
                ),
                schema_ready=ready,
                debounce_s=0,
                allow_unpriced_models=settings.allow_unpriced_models,
            )
            revision = await publisher.publish_now("bootstrap")
        key_records = KeyRecordPublisher(
            db,
            redis,
            connection,
            revoked_ttl_s=settings.revoked_key_ttl_s,
            reconcile_interval_s=1,
            schema_ready=ready,
        )
        await publish_key_records(result, key_records)
        return revision
    except (TimeoutError, nats.errors.Error, RedisError, OSError, psycopg.Error, RuntimeError) as exc:
        raise PublishFailedError(str(exc) or type(exc).__name__) from exc
    finally:
        await connection.close()
        await redis.aclose()
