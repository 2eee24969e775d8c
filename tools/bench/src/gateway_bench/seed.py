"""What control would write for the bench: a snapshot (one model per upstream location) in NATS
KV and one virtual key in Redis. Keys, limits and usage events all stay on in the proxy."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from dataclasses import dataclass
from typing import Final

import nats
import redis.asyncio as aioredis
from gateway_common.apikeys import display_parts, generate_key, key_digest
from gateway_common.names import CONFIG_BUCKET, CONFIG_KEY, SNAPSHOT_SCHEMA_VERSION, redis_key_record
from gateway_common.nats import ensure_bucket
from gateway_common.sealing import DataPlaneKeys
from gateway_devstack.procs import free_port
from gateway_proto.v1.config_pb2 import (
    ConfigSnapshot,
    Deployment,
    Model,
    Provider,
    RateLimits,
    Route,
    RoutingStrategy,
)
from gateway_proto.v1.keys_pb2 import KeyRecord, TenantStatus
from gateway_proto.v1.pricing_pb2 import ModelPricing

# Model alias -> path prefix on the nginx upstream.
MODELS: Final = {"bench-sync": "/sync/v1", "bench-sse": "/sse/v1", "bench-slow": "/slow/v1"}
# Limits that make every request go through the rate-limit script without ever refusing.
NEVER_REFUSING: Final = RateLimits(rpm=10**9, tpm=10**12, max_parallel=10**6)
# Served by a deployment that refuses connections (tried first) and then by /sync/v1.
FAILOVER_MODEL: Final = "bench-failover"
PRICING: Final = ModelPricing(
    input_micro_usd_per_mtok=150_000, output_micro_usd_per_mtok=600_000, priced=True
)


@dataclass(frozen=True)
class Secrets:
    """The proxy's secrets for one bench run, and the virtual key wrk sends."""

    pepper: str
    dataplane_key: str
    virtual_key: str
    limited_key: str  # same tenant, with RPM/TPM/parallel limits high enough never to refuse


def new_secrets() -> Secrets:
    """Fresh random secrets (nothing here outlives the run)."""
    return Secrets(
        pepper=base64.b64encode(os.urandom(16)).decode(),
        dataplane_key=base64.b64encode(os.urandom(32)).decode(),
        virtual_key=generate_key(),
        limited_key=generate_key(),
    )


def build_snapshot(upstream_base: str, keys: DataPlaneKeys) -> ConfigSnapshot:
    """One provider, model, deployment and route per upstream location."""
    snapshot = ConfigSnapshot(revision=time.time_ns() // 1000, schema_version=SNAPSHOT_SCHEMA_VERSION)
    snapshot.created_at.GetCurrentTime()
    for index, (alias, prefix) in enumerate(MODELS.items()):
        provider_id, model_id, dep_id = f"prov-{index}", f"model-{index}", f"dep-{index}"
        snapshot.providers.append(
            Provider(
                id=provider_id,
                name=f"nginx-{alias}",
                type="openai",
                base_url=upstream_base + prefix,
                credentials=keys.seal({"api_key": "sk-upstream-bench"}, aad=provider_id),
            )
        )
        snapshot.models.append(Model(id=model_id, name=alias, owned_by="bench", pricing=PRICING))
        snapshot.deployments.append(
            Deployment(
                id=dep_id, model_id=model_id, provider_id=provider_id, upstream_model="gpt-4o-mini", weight=1
            )
        )
        snapshot.routes.append(
            Route(
                id=f"route-{index}",
                model_id=model_id,
                strategy=RoutingStrategy.ROUTING_STRATEGY_WEIGHTED,
                deployment_ids=[dep_id],
            )
        )
    _add_failover_model(snapshot, keys)
    return snapshot


def _add_failover_model(snapshot: ConfigSnapshot, keys: DataPlaneKeys) -> None:
    """`bench-failover`: priority 0 on a port nobody listens on, priority 1 on the sync upstream."""
    refused = "prov-refused"
    snapshot.providers.append(
        Provider(
            id=refused,
            name="refused",
            type="openai",
            base_url=f"http://127.0.0.1:{free_port()}/v1",
            credentials=keys.seal({"api_key": "sk-upstream-bench"}, aad=refused),
        )
    )
    snapshot.models.append(Model(id="model-failover", name=FAILOVER_MODEL, owned_by="bench", pricing=PRICING))
    snapshot.deployments.extend(
        [
            Deployment(
                id="dep-refused",
                model_id="model-failover",
                provider_id=refused,
                upstream_model="gpt-4o-mini",
                weight=1,
                priority=0,
            ),
            Deployment(
                id="dep-failover-sync",
                model_id="model-failover",
                provider_id="prov-0",
                upstream_model="gpt-4o-mini",
                weight=1,
                priority=1,
            ),
        ]
    )
    snapshot.routes.append(
        Route(
            id="route-failover",
            model_id="model-failover",
            deployment_ids=["dep-refused", "dep-failover-sync"],
        )
    )


async def seed(redis_url: str, nats_url: str, upstream_base: str, secrets: Secrets) -> None:
    """Publish the snapshot and store the key record."""
    keys = DataPlaneKeys.from_base64("dp1", secrets.dataplane_key)
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        js = nc.jetstream()
        await ensure_bucket(js, CONFIG_BUCKET, history=5)
        kv = await js.key_value(CONFIG_BUCKET)
        await kv.put(CONFIG_KEY, build_snapshot(upstream_base, keys).SerializeToString())
    finally:
        await nc.close()
    # The same key twice: without limits, and with limits that never refuse (the guards' cost).
    unlimited = _record(secrets.pepper, secrets.virtual_key, "key-bench", RateLimits())
    limited = _record(secrets.pepper, secrets.limited_key, "key-bench-limited", NEVER_REFUSING)
    client = aioredis.Redis.from_url(redis_url)
    try:
        for record in (unlimited, limited):
            await client.set(redis_key_record(record.digest), record.SerializeToString())
    finally:
        await client.aclose()


def _record(pepper: str, key: str, key_id: str, limits: RateLimits) -> KeyRecord:
    prefix, last4 = display_parts(key)
    return KeyRecord(
        key_id=key_id,
        digest=key_digest(pepper.encode(), key),
        tenant_id="tenant-bench",
        user_id="user-bench",
        name=key_id,
        prefix=prefix,
        last4=last4,
        tenant_status=TenantStatus.TENANT_STATUS_ACTIVE,
        key_limits=limits,
    )


def seed_sync(redis_url: str, nats_url: str, upstream_base: str, secrets: Secrets) -> None:
    """`seed` from synchronous code."""
    asyncio.run(seed(redis_url, nats_url, upstream_base, secrets))
