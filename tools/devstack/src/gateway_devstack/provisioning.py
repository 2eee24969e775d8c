"""Helpers of the end-to-end tests: wait for a condition, and provision a tenant that the proxy
serves (a priced model routed to the system's fake upstream, and a key)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gateway_devstack.seed import ControlClient
from gateway_devstack.system import GatewaySystem

T = TypeVar("T")

INPUT_PRICE = 2_500_000  # micro-USD per million tokens: $2.50 / 1M
OUTPUT_PRICE = 10_000_000


def eventually(probe: Callable[[], T | None], timeout: float, interval: float = 0.05, what: str = "") -> T:
    """Poll `probe` until it returns something other than None, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what or 'condition'} not met within {timeout} s")


@dataclass
class Tenant:
    """A provisioned tenant: its id, a key (id and secret) and the model it may call."""

    tenant_id: str
    key_id: str
    api_key: str
    model: str


def provision_tenant(admin: ControlClient, system: GatewaySystem, name: str) -> Tenant:
    """Through control's API: a tenant, a provider on the fake upstream, a model `name-<suffix>`
    priced at INPUT_PRICE / OUTPUT_PRICE and routed to it, and a key of the tenant."""
    suffix = uuid.uuid4().hex[:8]
    tenant = admin.post("/api/v1/tenants", {"name": f"{name}-{suffix}"})
    provider = admin.post(
        "/api/v1/providers",
        {
            "name": f"upstream-{suffix}",
            "type": "openai_compatible",
            "base_url": system.fake_upstream_url,
            "credentials": {"api_key": system.secrets.upstream_api_key},
        },
    )
    model = f"{name}-{suffix}"
    admin.post(
        "/api/v1/models",
        {
            "name": model,
            "pricing": {"input_micro_usd_per_mtok": INPUT_PRICE, "output_micro_usd_per_mtok": OUTPUT_PRICE},
        },
    )
    admin.post(
        "/api/v1/routes",
        {"model": model, "deployments": [{"provider_id": provider["id"], "upstream_model": "gpt-4o-mini"}]},
    )
    key = admin.post(f"/api/v1/tenants/{tenant['id']}/keys", {"name": name})
    return Tenant(tenant_id=str(tenant["id"]), key_id=str(key["id"]), api_key=key["key"], model=model)
