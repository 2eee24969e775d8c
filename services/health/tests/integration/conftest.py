"""Fixtures for the health service's integration tests: a fake OpenAI upstream, snapshot
publishing, and the health service itself as a real subprocess (Granian, one worker)."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import nats
import pytest
from gateway_common.names import CONFIG_BUCKET, CONFIG_KEY, HEALTH_BUCKET, SNAPSHOT_SCHEMA_VERSION
from gateway_common.nats import ensure_bucket
from gateway_common.sealing import DataPlaneKeys
from gateway_devstack.procs import ManagedProcess, free_port
from gateway_proto.v1.config_pb2 import ConfigSnapshot, Deployment, Provider
from gateway_proto.v1.health_pb2 import DeploymentHealth
from nats.aio.client import Client
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NoKeysError

FAKE_API_KEY = "sk-fake-upstream-good-key-0123456789"


@pytest.fixture(scope="session")
def dataplane_key_b64() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="session")
def dataplane_keys(dataplane_key_b64: str) -> DataPlaneKeys:
    return DataPlaneKeys.from_base64("dp1", dataplane_key_b64)


@pytest.fixture(scope="session")
def fake_openai(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (…/v1) of a fake OpenAI upstream accepting only FAKE_API_KEY."""
    port = free_port()
    proc = ManagedProcess(
        "fake-openai",
        [
            sys.executable,
            "-m",
            "gateway_fakes",
            "openai",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--api-key",
            FAKE_API_KEY,
        ],
        env=dict(os.environ),
        cwd=None,
        log_path=tmp_path_factory.mktemp("fake") / "fake-openai.log",
        ready_url=f"http://127.0.0.1:{port}/_fake/requests",
    )
    proc.start()
    try:
        proc.wait_ready(timeout=30)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.stop()


class HealthService:
    """A running `python -m gateway_health` and where to reach it."""

    def __init__(self, proc: ManagedProcess, http_port: int, grpc_port: int) -> None:
        self.proc = proc
        self.base_url = f"http://127.0.0.1:{http_port}"
        self.grpc_target = f"127.0.0.1:{grpc_port}"


StartHealth = Callable[..., HealthService]


@pytest.fixture
def start_health(nats_url: str, dataplane_key_b64: str, tmp_path: Path) -> Iterator[StartHealth]:
    """Start the health service with short intervals; every one started is stopped afterwards."""
    started: list[ManagedProcess] = []

    def start(wait: bool = True, **overrides: str) -> HealthService:
        http_port, grpc_port = free_port(), free_port()
        env = {
            **os.environ,
            "NATS_URL": nats_url,
            "DATAPLANE_KEY": dataplane_key_b64,
            "DATAPLANE_KEY_ID": "dp1",
            "HEALTH_PORT": str(http_port),
            "HEALTH_GRPC_PORT": str(grpc_port),
            "HEALTH_PROBE_INTERVAL_S": "0.3",
            "HEALTH_PROBE_TIMEOUT_S": "2",
            "HEALTH_COOLDOWN_S": "30",
            "HEALTH_VIEW_RESYNC_S": "2",
            # The tests written before HEALTH_HISTORY assert `recent` stays at the window's size.
            "HEALTH_HISTORY": "5",
            "INSTANCE_ID": f"health-test-{len(started)}",
            "LOG_LEVEL": "INFO",
            **overrides,
        }
        env.pop("GATEWAY_CONFIG_FILE", None)
        proc = ManagedProcess(
            f"health-{len(started)}",
            [sys.executable, "-m", "gateway_health"],
            env=env,
            cwd=tmp_path,
            log_path=tmp_path / f"health-{len(started)}.log",
            ready_url=f"http://127.0.0.1:{http_port}/healthz",
        )
        started.append(proc)
        proc.start()
        if wait:
            proc.wait_ready(timeout=30)
        return HealthService(proc, http_port, grpc_port)

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()


class SnapshotBuilder:
    """Builds ConfigSnapshots whose provider credentials are sealed like control seals them."""

    def __init__(self, keys: DataPlaneKeys) -> None:
        self.keys = keys

    def provider(
        self,
        provider_id: str,
        base_url: str,
        api_key: str = FAKE_API_KEY,
        settings: dict[str, str] | None = None,
        aad: str | None = None,
        provider_type: str = "openai",
    ) -> Provider:
        return Provider(
            id=provider_id,
            name=provider_id,
            type=provider_type,
            base_url=base_url,
            settings=settings or {},
            credentials=self.keys.seal({"api_key": api_key}, aad=aad or provider_id),
        )

    def snapshot(self, revision: int, providers: list[Provider]) -> ConfigSnapshot:
        """One deployment per provider: deployment id = "dep-" + provider id minus its "p-"."""
        deployments = [
            Deployment(
                id="dep-" + p.id.removeprefix("p-"),
                model_id="m1",
                provider_id=p.id,
                upstream_model="gpt-4o-mini",
            )
            for p in providers
        ]
        return ConfigSnapshot(
            revision=revision,
            schema_version=SNAPSHOT_SCHEMA_VERSION,
            providers=providers,
            deployments=deployments,
        )


@pytest.fixture(scope="session")
def snapshots(dataplane_keys: DataPlaneKeys) -> SnapshotBuilder:
    return SnapshotBuilder(dataplane_keys)


class Kv:
    """A test-side NATS client: publish snapshots, read the gateway_health bucket."""

    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self.js = nc.jetstream()

    async def publish(self, snapshot: ConfigSnapshot) -> None:
        await ensure_bucket(self.js, CONFIG_BUCKET, history=5)
        kv = await self.js.key_value(CONFIG_BUCKET)
        await kv.put(CONFIG_KEY, snapshot.SerializeToString())

    async def health(self, deployment_id: str) -> DeploymentHealth | None:
        try:
            kv = await self.js.key_value(HEALTH_BUCKET)
            entry = await kv.get(deployment_id)
        except (BucketNotFoundError, KeyNotFoundError):
            return None
        return DeploymentHealth.FromString(entry.value or b"")

    async def health_keys(self) -> set[str]:
        try:
            kv = await self.js.key_value(HEALTH_BUCKET)
            return set(await kv.keys())
        except (BucketNotFoundError, NoKeysError):
            return set()

    async def wait_health(
        self,
        deployment_id: str,
        predicate: Callable[[DeploymentHealth], bool],
        timeout: float = 15.0,
    ) -> DeploymentHealth:
        """Poll the bucket until the deployment's record satisfies `predicate`."""
        deadline = asyncio.get_running_loop().time() + timeout
        last: DeploymentHealth | None = None
        while asyncio.get_running_loop().time() < deadline:
            last = await self.health(deployment_id)
            if last is not None and predicate(last):
                return last
            await asyncio.sleep(0.1)
        raise AssertionError(f"{deployment_id}: condition not met within {timeout}s; last record: {last}")


@pytest.fixture
async def kv(nats_url: str) -> AsyncIterator[Kv]:
    nc = await nats.connect(nats_url)
    try:
        yield Kv(nc)
    finally:
        await nc.close()
