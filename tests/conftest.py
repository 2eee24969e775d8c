"""End-to-end fixtures: the whole gateway on its own embedded stack, driven like a user would."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gateway_devstack.base import Stack
from gateway_devstack.seed import ControlClient
from gateway_devstack.settings import StackSettings
from gateway_devstack.stack import start_stack
from gateway_devstack.system import GatewaySystem, SystemPorts, SystemSecrets


@pytest.fixture(scope="session")
def e2e_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own, so other tests' clean-ups never touch the running system's data."""
    root = tmp_path_factory.mktemp("e2e-stack")
    with start_stack(StackSettings.from_env(root, os.environ, durable=False)) as stack:
        yield stack


@pytest.fixture(scope="session")
def system(e2e_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewaySystem]:
    """Proxy, control, accounting, health and a fake OpenAI upstream on free ports."""
    root: Path = tmp_path_factory.mktemp("e2e-system")
    base_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    gateway = GatewaySystem(
        root,
        e2e_stack.endpoints,
        SystemPorts.free(),
        SystemSecrets.generate(),
        base_env=base_env,
        extra_env={"LOG_LEVEL": "INFO"},
    )
    with gateway:
        yield gateway


@pytest.fixture(scope="session")
def admin(system: GatewaySystem) -> Iterator[ControlClient]:
    """Control's API, signed in as the bootstrap platform admin."""
    client = ControlClient(system.control_url, system.secrets.admin_email, system.secrets.admin_password)
    yield client
    client.close()


@pytest.fixture
def proxy_http(system: GatewaySystem) -> Iterator[httpx.Client]:
    """A raw HTTP client for the proxy, for requests the SDK cannot make (malformed JSON)."""
    with httpx.Client(base_url=system.proxy_url, timeout=30.0, trust_env=False) as client:
        yield client
