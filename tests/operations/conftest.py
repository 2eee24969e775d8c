"""One gateway with tracing on, exporting to an OTLP receiver on loopback, for the telemetry tests.

Its secrets carry a canary (the provider credential, and so the fake upstream's key) and its
services log at DEBUG, so the log scan sees everything a service could write.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from gateway_devstack.base import Stack
from gateway_devstack.otlp_receiver import OtlpReceiver
from gateway_devstack.procs import free_port
from gateway_devstack.seed import ControlClient, DemoSeed, seed_demo
from gateway_devstack.settings import StackSettings
from gateway_devstack.stack import start_stack
from gateway_devstack.system import GatewaySystem, SystemPorts, SystemSecrets

CANARY = "canary" + secrets.token_hex(8)


@pytest.fixture(scope="package")
def otlp() -> Iterator[OtlpReceiver]:
    """The OTLP/HTTP receiver the services export their spans to."""
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="package")
def telemetry_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Postgres, Valkey and NATS of their own."""
    root = tmp_path_factory.mktemp("telemetry-stack")
    with start_stack(StackSettings.from_env(root, os.environ, durable=False)) as stack:
        yield stack


@pytest.fixture(scope="package")
def traced_system(
    telemetry_stack: Stack, otlp: OtlpReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewaySystem]:
    """The four services and the fake upstream, tracing to `otlp`, logging at DEBUG."""
    root: Path = tmp_path_factory.mktemp("telemetry-system")
    base_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    system_secrets = dataclasses.replace(
        SystemSecrets.generate(), upstream_api_key=f"sk-fake-upstream-{CANARY}-provider"
    )
    gateway = GatewaySystem(
        root,
        telemetry_stack.endpoints,
        SystemPorts.free(),
        system_secrets,
        base_env=base_env,
        extra_env={
            "LOG_LEVEL": "DEBUG",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
            # Export within a fraction of a second instead of the default 5 s.
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "USAGE_SPOOL_DIR": str(root / "usage-spool"),
            # Two workers: /metrics must still count every request (multiprocess metrics).
            "PROXY_WORKERS": "2",
        },
    )
    with gateway:
        yield gateway


@pytest.fixture(scope="package")
def traced_admin(traced_system: GatewaySystem) -> Iterator[ControlClient]:
    """Control's API as the bootstrap admin."""
    client = ControlClient(
        traced_system.control_url, traced_system.secrets.admin_email, traced_system.secrets.admin_password
    )
    yield client
    client.close()


@pytest.fixture(scope="package")
def demo(traced_system: GatewaySystem, traced_admin: ControlClient) -> DemoSeed:
    """Tenant, provider (with the canary credential), model `demo` and a key."""
    state = traced_system.root / "seed.json"
    return seed_demo(
        traced_admin, traced_system.fake_upstream_url, traced_system.secrets.upstream_api_key, state
    )


@pytest.fixture(scope="package")
def dead_model(traced_system: GatewaySystem, traced_admin: ControlClient, demo: DemoSeed) -> str:
    """A model whose provider (credential: the canary) listens nowhere, once the proxy serves it."""
    admin = traced_admin
    suffix = uuid.uuid4().hex[:8]
    provider = admin.post(
        "/api/v1/providers",
        {
            "name": f"dead-{suffix}",
            "type": "openai_compatible",
            "base_url": f"http://127.0.0.1:{free_port()}/v1",
            "credentials": {"api_key": f"sk-dead-{CANARY}-credential"},
        },
    )
    model = f"dead-{suffix}"
    admin.post(
        "/api/v1/models",
        {"name": model, "pricing": {"input_micro_usd_per_mtok": 1, "output_micro_usd_per_mtok": 1}},
    )
    admin.post(
        "/api/v1/routes",
        {"model": model, "deployments": [{"provider_id": provider["id"], "upstream_model": "gpt-4o-mini"}]},
    )
    with openai.OpenAI(base_url=traced_system.proxy_url, api_key=demo.api_key, max_retries=0) as sdk:
        wait_until_served(sdk, model)
    return model


@pytest.fixture
def client(traced_system: GatewaySystem, demo: DemoSeed) -> Iterator[openai.OpenAI]:
    """The official SDK with the demo key, once the proxy serves the key and the model."""
    sdk = openai.OpenAI(base_url=traced_system.proxy_url, api_key=demo.api_key, max_retries=0, timeout=30.0)
    wait_until_served(sdk, demo.model)
    yield sdk
    sdk.close()


def wait_until_served(sdk: openai.OpenAI, model: str, timeout: float = 20.0) -> None:
    """The proxy learns new keys and models asynchronously (Redis, NATS KV)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if model in [m.id for m in sdk.models.list()]:
                return
        except openai.APIStatusError as exc:
            if exc.status_code not in (401, 403, 404, 503):
                raise
        time.sleep(0.1)
    raise AssertionError(f"the proxy did not serve {model} within {timeout} s")
