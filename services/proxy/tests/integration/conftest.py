"""Integration harness: the real embedded Redis + NATS, the fake OpenAI upstream and the proxy
as subprocesses, driven over HTTP with the official openai SDK.

The test writes what control would write: a ConfigSnapshot into NATS KV (providers sealed with
a per-test data-plane key) and KeyRecords into Redis, and publishes key invalidations.

Upstream faults are configured per provider in the snapshot: a provider setting
`header.x-fake-drop-after: 2` makes the adapter send that header to the fake, which then cuts
the stream. The client's own headers never reach the upstream, so this is the only way in.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anthropic
import httpx
import nats
import openai
import pytest
import redis.asyncio as aioredis
from gateway_common.apikeys import display_parts, generate_key, key_digest
from gateway_common.names import (
    CONFIG_BUCKET,
    CONFIG_KEY,
    KEY_INVALIDATE_SUBJECT,
    SNAPSHOT_SCHEMA_VERSION,
    USAGE_STREAM,
    redis_key_record,
)
from gateway_common.nats import ensure_bucket
from gateway_common.sealing import DataPlaneKeys
from gateway_devstack.base import Stack
from gateway_devstack.procs import ManagedProcess, free_port
from gateway_devstack.resets import flush_redis, purge_jetstream_async
from gateway_fakes.process import FakeProcess
from gateway_fakes.pytest_plugin import fake_openai, fake_openai_session  # noqa: F401 (fixtures)
from gateway_proto.v1.config_pb2 import (
    ConfigSnapshot,
    Deployment,
    Model,
    Provider,
    Route,
    RoutingStrategy,
)
from gateway_proto.v1.config_pb2 import Timeouts as TimeoutsProto
from gateway_proto.v1.keys_pb2 import KeyInvalidation, KeyRecord, TenantStatus
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import UsageEvent
from nats.aio.client import Client
from nats.js.errors import NotFoundError

PRICING = ModelPricing(input_micro_usd_per_mtok=150_000, output_micro_usd_per_mtok=600_000, priced=True)


@dataclass(frozen=True)
class FakeModel:
    """A model alias served by the fake, with the `x-fake-*` headers its provider sends."""

    name: str
    upstream_model: str = "gpt-4o-mini"
    fake_headers: dict[str, str] = field(default_factory=dict)
    timeouts: TimeoutsProto | None = None
    settings: dict[str, str] = field(default_factory=dict)  # other provider settings


# Every model of the standard test snapshot; each has its own provider so faults stay apart.
STANDARD_MODELS = (
    FakeModel("demo"),
    FakeModel("demo-drop", fake_headers={"x-fake-drop-after": "2", "x-fake-stream-chunks": "5"}),
    FakeModel("demo-429", fake_headers={"x-fake-status": "429", "x-fake-retry-after": "7"}),
    FakeModel("demo-500", fake_headers={"x-fake-status": "500"}),
    FakeModel(
        "demo-slow",
        fake_headers={"x-fake-stream-chunks": "30", "x-fake-chunk-delay-ms": "200"},
    ),
    FakeModel(
        "demo-idle",
        fake_headers={"x-fake-stream-chunks": "3", "x-fake-stall-after": "2"},
        timeouts=TimeoutsProto(stream_idle_ms=300),
    ),
    FakeModel(
        "demo-idle-early",
        fake_headers={"x-fake-stream-chunks": "3", "x-fake-stall-after": "1"},
        timeouts=TimeoutsProto(stream_idle_ms=300),
    ),
    FakeModel("secret-model"),
    # The fake picks its behaviour by upstream model name (usage kinds, image encodings).
    FakeModel("whisper-1", upstream_model="whisper-1"),
    FakeModel("gpt-image-1", upstream_model="gpt-image-1"),
    FakeModel("dall-e-2", upstream_model="dall-e-2"),
    FakeModel("omni-moderation-latest", upstream_model="omni-moderation-latest"),
    # A provider that is never asked for stream usage: the gateway must estimate the tokens.
    FakeModel("demo-nousage", settings={"stream_usage": "false"}),
    FakeModel(
        "demo-sync-timeout", fake_headers={"x-fake-delay-ms": "1500"}, timeouts=TimeoutsProto(sync_ms=300)
    ),
)


class Harness:
    """What a test needs around one proxy: its URL, the stores control would write, the fake."""

    def __init__(
        self, *, redis: aioredis.Redis, nc: Client, keys: DataPlaneKeys, pepper: str, fake: FakeProcess
    ) -> None:
        self.redis = redis
        self.nc = nc
        self.keys = keys
        self.pepper = pepper
        self.fake = fake
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.revision = time.time_ns() // 1000
        self.process: ManagedProcess | None = None
        self.pricing = PRICING
        self._clients: list[openai.AsyncOpenAI | anthropic.AsyncAnthropic] = []

    # --- control's side -------------------------------------------------------------------
    def snapshot(self, models: tuple[FakeModel, ...] = STANDARD_MODELS) -> ConfigSnapshot:
        """A snapshot routing each model to the fake through its own sealed provider."""
        self.revision += 1
        snapshot = ConfigSnapshot(revision=self.revision, schema_version=SNAPSHOT_SCHEMA_VERSION)
        snapshot.created_at.GetCurrentTime()
        for index, model in enumerate(models):
            provider_id, model_id, dep_id = f"prov-{index}", f"model-{index}", f"dep-{index}"
            snapshot.providers.append(
                Provider(
                    id=provider_id,
                    name=f"fake-{model.name}",
                    type="openai",
                    base_url=self.fake.base_url,
                    settings={
                        **{f"header.{k}": v for k, v in model.fake_headers.items()},
                        **model.settings,
                    },
                    credentials=self.keys.seal({"api_key": self.fake.api_key}, aad=provider_id),
                )
            )
            snapshot.models.append(
                Model(
                    id=model_id,
                    name=model.name,
                    owned_by="test",
                    created_unix=1_700_000_000,
                    pricing=PRICING,
                    timeouts=model.timeouts,
                )
            )
            snapshot.deployments.append(
                Deployment(
                    id=dep_id,
                    model_id=model_id,
                    provider_id=provider_id,
                    upstream_model=model.upstream_model,
                    weight=1,
                    priority=1,
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
        return snapshot

    async def publish_snapshot(self, snapshot: ConfigSnapshot | None = None) -> ConfigSnapshot:
        """Put a snapshot into NATS KV, as control's publisher does."""
        snapshot = snapshot or self.snapshot()
        js = self.nc.jetstream()
        await ensure_bucket(js, CONFIG_BUCKET, history=5)
        kv = await js.key_value(CONFIG_BUCKET)
        await kv.put(CONFIG_KEY, snapshot.SerializeToString())
        return snapshot

    async def create_key(self, **fields: object) -> tuple[str, KeyRecord]:
        """A new virtual key and its record in Redis (active tenant unless fields say otherwise)."""
        key = generate_key()
        digest = key_digest(self.pepper.encode(), key)
        prefix, last4 = display_parts(key)
        values: dict[str, object] = {
            "key_id": f"key-{digest[:8]}",
            "digest": digest,
            "tenant_id": "tenant-1",
            "user_id": "user-1",
            "name": "test key",
            "prefix": prefix,
            "last4": last4,
            "tenant_status": TenantStatus.TENANT_STATUS_ACTIVE,
        }
        values.update(fields)
        record = KeyRecord(**values)  # type: ignore[arg-type]
        await self.put_record(record)
        return key, record

    async def put_record(self, record: KeyRecord) -> None:
        await self.redis.set(redis_key_record(record.digest), record.SerializeToString())

    async def invalidate(self, record: KeyRecord) -> None:
        payload = KeyInvalidation(key_id=record.key_id, digest=record.digest).SerializeToString()
        await self.nc.publish(KEY_INVALIDATE_SUBJECT, payload)
        await self.nc.flush()

    async def usage_event(
        self, request_id: str, timeout_s: float = 10.0
    ) -> tuple[UsageEvent, dict[str, str]]:
        """The UsageEvent published with Nats-Msg-Id = request_id, and its headers."""
        js = self.nc.jetstream()
        deadline = time.monotonic() + timeout_s
        seen = 0
        while time.monotonic() < deadline:
            try:
                info = await js.stream_info(USAGE_STREAM)
            except NotFoundError:
                await asyncio.sleep(0.05)
                continue
            for seq in range(max(seen + 1, info.state.first_seq), info.state.last_seq + 1):
                raw = await js.get_msg(USAGE_STREAM, seq)
                seen = seq
                headers = dict(raw.headers or {})
                if headers.get("Nats-Msg-Id") == request_id and raw.data is not None:
                    event = UsageEvent()
                    event.ParseFromString(raw.data)
                    return event, headers
            await asyncio.sleep(0.05)
        raise AssertionError(f"no usage event for request {request_id} within {timeout_s}s")

    async def usage_count(self) -> int:
        try:
            info = await self.nc.jetstream().stream_info(USAGE_STREAM)
        except NotFoundError:
            return 0
        return int(info.state.messages)

    async def quiet_usage_count(self, timeout_s: float = 10.0) -> int:
        """The USAGE stream's message count once no event is on its way: the same in two reads
        0.2 s apart (longer than the publisher's linger), so that a count taken before a test's
        requests does not miss an earlier request's event still lingering in the proxy."""
        deadline = time.monotonic() + timeout_s
        count = await self.usage_count()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            again = await self.usage_count()
            if again == count:
                break
            count = again
        return count

    async def settled_usage_count(self, expected: int, timeout_s: float = 10.0) -> int:
        """The USAGE stream's message count once it reached `expected` (or the timeout passed),
        read again a moment later so that an extra event, if any, has landed too."""
        deadline = time.monotonic() + timeout_s
        while await self.usage_count() < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        return await self.usage_count()

    async def usage_events(self) -> list[UsageEvent]:
        """Every UsageEvent in the USAGE stream, oldest first."""
        js = self.nc.jetstream()
        info = await js.stream_info(USAGE_STREAM)
        events = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            raw = await js.get_msg(USAGE_STREAM, seq)
            if raw.data is not None:
                events.append(UsageEvent.FromString(raw.data))
        return events

    # --- the proxy ------------------------------------------------------------------------
    def client(self, key: str, **options: object) -> openai.AsyncOpenAI:
        """An SDK client for the proxy (closed when the test ends)."""
        client = openai.AsyncOpenAI(
            base_url=f"{self.base_url}/v1",
            api_key=key,
            max_retries=0,
            **options,  # type: ignore[arg-type]
        )
        self._clients.append(client)
        return client

    def anthropic_client(self, key: str, **options: object) -> anthropic.AsyncAnthropic:
        """An Anthropic SDK client for the proxy's Messages API (closed when the test ends)."""
        client = anthropic.AsyncAnthropic(
            base_url=self.base_url,
            api_key=key,
            max_retries=0,
            **options,  # type: ignore[arg-type]
        )
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.close()
        self._clients.clear()

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=10, trust_env=False)

    async def wait_ready(self, timeout_s: float = 15.0) -> None:
        """Wait until /readyz answers 200 (the proxy holds a snapshot and sees Redis and NATS)."""
        deadline = time.monotonic() + timeout_s
        async with self.http() as http:
            while time.monotonic() < deadline:
                if (await http.get("/readyz")).status_code == 200:
                    return
                await asyncio.sleep(0.05)
        raise AssertionError(f"proxy not ready within {timeout_s}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.process.log_tail() if self.process is not None else ""


def assert_openai_error(response: httpx.Response) -> None:
    """`response` carries OpenAI's error object: a message and a type, a `param` and a `code`."""
    error = response.json()["error"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["type"], str)
    assert error["type"]
    assert "param" in error
    assert "code" in error


@asynccontextmanager
async def open_harness(
    redis_url: str, nats_url: str, fake: FakeProcess, workdir: Path
) -> AsyncIterator[Harness]:
    """A Harness with its own Redis/NATS clients and a proxy process (not started yet)."""
    nc = await nats.connect(nats_url, connect_timeout=5)
    redis = aioredis.Redis.from_url(redis_url)
    dataplane_key = base64.b64encode(os.urandom(32)).decode()
    h = Harness(
        redis=redis,
        nc=nc,
        keys=DataPlaneKeys.from_base64("dp1", dataplane_key),
        pepper=base64.b64encode(os.urandom(16)).decode(),
        fake=fake,
    )
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "NATS_URL": nats_url,
        "KEY_PEPPER": h.pepper,
        "DATAPLANE_KEY": dataplane_key,
        "DATAPLANE_KEY_ID": "dp1",
        "PROXY_HOST": "127.0.0.1",
        "PROXY_PORT": str(h.port),
        "LOG_LEVEL": "INFO",
        "SNAPSHOT_POLL_INTERVAL_S": "0.5",
        "INSTANCE_ID": "proxy-test",
    }
    env.pop("GATEWAY_CONFIG_FILE", None)
    h.process = ManagedProcess(
        "proxy",
        [sys.executable, "-m", "gateway_proxy"],
        env,
        cwd=workdir,
        log_path=workdir / "proxy.log",
        ready_url=f"{h.base_url}/healthz",
    )
    try:
        yield h
    finally:
        await h.aclose()
        h.process.stop()
        await redis.aclose()
        await nc.close()


async def start_and_wait(h: Harness) -> None:
    """Start the proxy process and wait until /readyz says ready."""
    assert h.process is not None
    h.process.start()
    h.process.wait_ready(timeout=60)
    await h.wait_ready(timeout_s=30)


@pytest.fixture
async def harness(
    redis_url: str,
    nats_url: str,
    fake_openai: FakeProcess,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> AsyncIterator[Harness]:
    """A fresh Redis and NATS and a proxy of its own, started by the test (`start_and_wait`)."""
    async with open_harness(redis_url, nats_url, fake_openai, tmp_path) as h:
        yield h


@pytest.fixture(scope="module")
async def shared(
    stack: Stack,
    fake_openai_session: FakeProcess,  # noqa: F811 (the fixture imported above)
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Harness]:
    """One proxy for a whole test module, serving the standard snapshot.

    Starting a Granian worker takes seconds on a loaded machine, so tests that need no special
    state share this one; they stay apart through fresh keys and their own request ids.
    """
    flush_redis(stack.endpoints.redis_url)
    await purge_jetstream_async(stack.endpoints.nats_url)
    workdir = tmp_path_factory.mktemp("proxy")
    async with open_harness(
        stack.endpoints.redis_url, stack.endpoints.nats_url, fake_openai_session, workdir
    ) as h:
        await h.publish_snapshot()
        await start_and_wait(h)
        yield h


@pytest.fixture
async def running(shared: Harness) -> AsyncIterator[Harness]:
    """The module's shared proxy, with the fake's request log cleared for this test."""
    shared.fake.clear()
    yield shared
    await shared.aclose()
