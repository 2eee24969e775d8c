"""Fixtures for control's integration tests: the real service as a subprocess on the real stack.

`start_control(...)` runs `python -m gateway_control serve` (Granian) on a free port against
the session's Postgres (a fresh database), Valkey and NATS, and waits until /readyz says ready
(or only /healthz, for fault tests). Every process it started is stopped after the test.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
import pytest
import redis.asyncio as aioredis
from gateway_common.names import CONFIG_BUCKET, CONFIG_KEY, redis_key_record
from gateway_devstack.procs import ManagedProcess, free_port
from gateway_proto.v1.config_pb2 import ConfigSnapshot
from gateway_proto.v1.keys_pb2 import KeyRecord
from nats.js.errors import BucketNotFoundError, KeyNotFoundError

from .fake_accounting import accounting  # noqa: F401  (a fixture: a real gRPC AccountingService)

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct-horse-battery-staple"
CANARY_CREDENTIAL = "sk-canary-9f2d41c6b7e84d0a"


@dataclass
class ControlInstance:
    """A running control service and the secrets it was configured with."""

    base_url: str
    process: ManagedProcess
    env: dict[str, str]
    responses: list[bytes] = field(default_factory=list)
    admin_email: str = ADMIN_EMAIL
    canary: str = CANARY_CREDENTIAL

    @property
    def pepper(self) -> bytes:
        return self.env["KEY_PEPPER"].encode()

    @property
    def internal_token(self) -> str:
        return self.env["INTERNAL_TOKEN"]

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        """An HTTP client that records every response body (to search them for secrets)."""
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}

        async def keep(response: httpx.Response) -> None:
            self.responses.append(await response.aread())

        return httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=10.0,
            trust_env=False,
            event_hooks={"response": [keep]},
        )

    async def login(self) -> str:
        """A fresh access token for the bootstrap admin."""
        async with self.client() as client:
            response = await client.post(
                "/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


StartControl = Callable[..., ControlInstance]


@dataclass
class DataPlaneProbe:
    """Looks at what control published: the snapshot in NATS KV and key records in Redis."""

    nats_url: str
    redis_url: str

    async def snapshot(self) -> tuple[ConfigSnapshot, bytes] | None:
        """The snapshot in KV now (with its raw bytes), or None."""
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            try:
                entry = await (await js.key_value(CONFIG_BUCKET)).get(CONFIG_KEY)
            except (BucketNotFoundError, KeyNotFoundError):
                return None
        finally:
            await nc.close()
        if not entry.value:
            return None
        snapshot = ConfigSnapshot()
        snapshot.ParseFromString(entry.value)
        return snapshot, entry.value

    async def wait_for_snapshot(
        self, predicate: Callable[[ConfigSnapshot], bool], timeout: float = 10.0
    ) -> tuple[ConfigSnapshot, bytes]:
        """The first snapshot in KV for which `predicate` holds (fails after `timeout` s)."""
        deadline = time.monotonic() + timeout
        while True:
            found = await self.snapshot()
            if found is not None and predicate(found[0]):
                return found
            assert time.monotonic() < deadline, f"no matching config snapshot in NATS KV (last: {found})"
            await asyncio.sleep(0.1)

    async def key_record(self, digest: str) -> tuple[KeyRecord | None, int]:
        """The KeyRecord in Redis for a digest (None when absent) and its TTL."""
        client = aioredis.Redis.from_url(self.redis_url)
        try:
            raw = await client.get(redis_key_record(digest))
            ttl = await client.ttl(redis_key_record(digest))
        finally:
            await client.aclose()
        if raw is None:
            return None, ttl
        record = KeyRecord()
        record.ParseFromString(raw)
        return record, ttl


@pytest.fixture
def probe(nats_url: str, redis_url: str) -> DataPlaneProbe:
    """A DataPlaneProbe on the test's NATS and Redis."""
    return DataPlaneProbe(nats_url, redis_url)


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def control_env(fresh_database_url: str, redis_url: str, nats_url: str) -> dict[str, str]:
    """Settings for a control instance on the test's database, Redis and NATS."""
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH")}
    return {
        **inherited,
        "DATABASE_URL": fresh_database_url,
        "REDIS_URL": redis_url,
        "NATS_URL": nats_url,
        "KEY_PEPPER": "test-pepper-" + os.urandom(8).hex(),
        "DATAPLANE_KEY": _key(),
        "DATAPLANE_KEY_ID": "dp-test",
        "MASTER_KEY": _key(),
        "MASTER_KEY_ID": "mk-test",
        "INTERNAL_TOKEN": "internal-" + os.urandom(12).hex(),
        "JWT_SECRET": os.urandom(32).hex(),
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        # Nothing listens here unless a test starts its own accounting server.
        "ACCOUNTING_GRPC_TARGET": f"127.0.0.1:{free_port()}",
        "KEY_RECONCILE_INTERVAL_S": "0.5",
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def start_control(control_env: dict[str, str], tmp_path: Path) -> Iterator[StartControl]:
    """Start control subprocesses; `wait_for` is "readyz" (default) or "healthz"."""
    started: list[ManagedProcess] = []

    def start(wait_for: str = "readyz", **overrides: str) -> ControlInstance:
        # A test may pick the port (CONTROL_PORT=...) when another server must know it in advance.
        port = int(overrides.pop("CONTROL_PORT", "0")) or free_port()
        env = {**control_env, **overrides, "CONTROL_PORT": str(port)}
        base_url = f"http://127.0.0.1:{port}"
        process = ManagedProcess(
            name="control",
            argv=[sys.executable, "-m", "gateway_control", "serve"],
            env=env,
            cwd=tmp_path,
            log_path=tmp_path / f"control-{port}.log",
            ready_url=f"{base_url}/{wait_for}",
        )
        started.append(process)
        process.start()
        process.wait_ready(timeout=60)
        return ControlInstance(base_url=base_url, process=process, env=env)

    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture
def control(start_control: StartControl) -> ControlInstance:
    """One ready control instance."""
    return start_control()
