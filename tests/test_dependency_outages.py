"""Every service started while one of its dependencies is down: it reports not-ready naming the
dependency (in /readyz and in a log line), and becomes ready by itself when the dependency returns."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import pytest
from gateway_common.names import CONFIG_BUCKET, CONFIG_KEY, SNAPSHOT_SCHEMA_VERSION
from gateway_devstack.base import Stack
from gateway_devstack.settings import StackSettings
from gateway_devstack.stack import start_stack
from gateway_devstack.system import GatewaySystem, SystemPorts, SystemSecrets
from gateway_proto.v1.config_pb2 import ConfigSnapshot


@dataclass(frozen=True)
class Dependency:
    name: str
    stop: Callable[[Stack], None]
    start: Callable[[Stack], None]


POSTGRES = Dependency("postgres", lambda s: s.stop_postgres(), lambda s: s.start_postgres())
REDIS = Dependency("redis", lambda s: s.stop_redis(), lambda s: s.start_redis())
NATS = Dependency("nats", lambda s: s.stop_nats(), lambda s: s.start_nats())

CASES = [
    ("proxy", REDIS),
    ("proxy", NATS),
    ("control", POSTGRES),
    ("control", REDIS),
    ("control", NATS),
    ("accounting", POSTGRES),
    ("accounting", NATS),
    ("health", NATS),
]


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own: these tests stop and start its servers."""
    with start_stack(
        StackSettings.from_env(tmp_path_factory.mktemp("outage-stack"), {}, durable=False)
    ) as stack:
        yield stack


async def _put_snapshot(nats_url: str) -> None:
    """A minimal valid config, so the data-plane services can become ready without control."""
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        kv = await js.create_key_value(bucket=CONFIG_BUCKET, history=5)
        snapshot = ConfigSnapshot(revision=1, schema_version=SNAPSHOT_SCHEMA_VERSION)
        await kv.put(CONFIG_KEY, snapshot.SerializeToString())
    finally:
        await client.close()


def _readyz(url: str) -> tuple[int, dict[str, bool]]:
    try:
        response = httpx.get(url, timeout=2.0, trust_env=False)
    except httpx.TransportError:
        return 0, {}
    checks = response.json().get("checks", {})
    return response.status_code, {str(k): bool(v) for k, v in checks.items()}


@pytest.mark.e2e
@pytest.mark.parametrize(("service", "dependency"), CASES, ids=[f"{s}-{d.name}" for s, d in CASES])
def test_service_started_while_dependency_is_down_recovers_by_itself(
    service: str, dependency: Dependency, outage_stack: Stack, tmp_path: Path
) -> None:
    asyncio.run(_put_snapshot(outage_stack.endpoints.nats_url))
    base_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    system = GatewaySystem(
        tmp_path, outage_stack.endpoints, SystemPorts.free(), SystemSecrets.generate(), base_env=base_env
    )
    process = system.service_process(service)
    dependency.stop(outage_stack)
    try:
        process.start()
        process.wait_ready(60)  # alive even though a dependency is down
        status, checks = 0, {}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and checks.get(dependency.name) is not False:
            status, checks = _readyz(system.readyz_url(service))
            time.sleep(0.2)
        assert status == 503, checks
        assert checks[dependency.name] is False
        assert f"dependency NOT ready: {dependency.name}" in process.log_path.read_text()
    finally:
        dependency.start(outage_stack)
    try:
        deadline = time.monotonic() + 30
        while (status := _readyz(system.readyz_url(service))[0]) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status == 200, (
            f"{service} did not recover: {_readyz(system.readyz_url(service))}\n{process.log_tail()}"
        )
        assert process.is_running()
    finally:
        process.stop()
