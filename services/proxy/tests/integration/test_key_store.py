"""The key store behind Redis: control's internal endpoint on a miss, and a flood of bad keys
that reaches neither Redis nor control more than once per digest per negative TTL.

Control is played by a small HTTP server in the test speaking `GET /internal/keys/{digest}`
exactly as control does (Bearer INTERNAL_TOKEN, protobuf KeyRecord or 404), and counting calls.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from gateway_common.apikeys import display_parts, generate_key, key_digest
from gateway_common.names import redis_key_record
from gateway_devstack.procs import free_port
from gateway_proto.v1.keys_pb2 import KeyRecord, TenantStatus

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

TOKEN = "internal-token-for-tests-0123456789"
CHAT = "/v1/chat/completions"


class ControlStub:
    """Serves key records by digest like control's internal endpoint; counts every call."""

    def __init__(self) -> None:
        self.records: dict[str, bytes] = {}
        self.calls: Counter[str] = Counter()
        self.unauthorized = 0
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._writers:  # keep-alive connections too: control is gone
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                _, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                digest = path.removeprefix("/internal/keys/")
                self.calls[digest] += 1
                if headers.get("authorization") != f"Bearer {TOKEN}":
                    self.unauthorized += 1
                    status, body = "401 Unauthorized", b""
                elif digest in self.records:
                    status, body = "200 OK", self.records[digest]
                else:
                    status, body = "404 Not Found", b""
                writer.write(
                    f"HTTP/1.1 {status}\r\ncontent-type: application/x-protobuf\r\n"
                    f"content-length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


@pytest.fixture
async def control() -> AsyncIterator[ControlStub]:
    stub = ControlStub()
    await stub.start()
    yield stub
    await stub.stop()


def new_record(pepper: str) -> tuple[str, KeyRecord]:
    key = generate_key()
    digest = key_digest(pepper.encode(), key)
    prefix, last4 = display_parts(key)
    record = KeyRecord(
        key_id=f"key-{digest[:8]}",
        digest=digest,
        tenant_id="tenant-1",
        prefix=prefix,
        last4=last4,
        tenant_status=TenantStatus.TENANT_STATUS_ACTIVE,
    )
    return key, record


async def redis_gets(h: Harness) -> int:
    stats = await h.redis.info("commandstats")
    return int(stats.get("cmdstat_get", {}).get("calls", 0))


async def test_keys_missing_from_redis_are_asked_of_control_once_and_never_written_back(
    harness: Harness, control: ControlStub
) -> None:
    assert harness.process is not None
    harness.process.env.update(CONTROL_URL=f"http://127.0.0.1:{control.port}", INTERNAL_TOKEN=TOKEN)
    harness.process.env["KEY_NEGATIVE_TTL_S"] = "5"
    await harness.publish_snapshot()
    harness.process.start()
    harness.process.wait_ready(timeout=60)
    await harness.wait_ready(timeout_s=30)

    # A valid key only control knows (Redis restarted empty): served at once, nothing written.
    key, record = new_record(harness.pepper)
    control.records[record.digest] = record.SerializeToString()
    async with harness.http() as http:
        for _ in range(5):
            ok = await http.post(
                CHAT,
                json={"model": "demo", "messages": [{"role": "user", "content": "x"}]},
                headers={"authorization": f"Bearer {key}"},
            )
            assert ok.status_code == 200
        assert control.calls[record.digest] == 1
        assert await harness.redis.exists(redis_key_record(record.digest)) == 0
        assert control.unauthorized == 0

        # A flood: 10 distinct well-formed unknown keys, 30 concurrent requests each.
        bad = [generate_key() for _ in range(10)]
        gets_before = await redis_gets(harness)
        started = time.monotonic()

        async def hit(bad_key: str) -> int:
            response = await http.get("/v1/models", headers={"authorization": f"Bearer {bad_key}"})
            return response.status_code

        statuses = await asyncio.gather(*(hit(k) for k in bad for _ in range(30)))
        assert set(statuses) == {401}
        flood_end = time.monotonic()
        assert flood_end - started < 5, "the flood outlasted the negative TTL"
        digests = [key_digest(harness.pepper.encode(), k) for k in bad]
        assert [control.calls[d] for d in digests] == [1] * 10
        assert await redis_gets(harness) - gets_before == 10

        # After the negative TTL each digest costs one lookup again, then is cached again.
        await asyncio.sleep(max(0.0, flood_end + 5.2 - time.monotonic()))
        statuses = await asyncio.gather(*(hit(k) for k in bad for _ in range(5)))
        assert set(statuses) == {401}
        assert [control.calls[d] for d in digests] == [2] * 10
        assert await redis_gets(harness) - gets_before == 20

        # Control down and Redis without the record: 503, never a 401 for a key that may be valid.
        await control.stop()
        unknown_key, _ = new_record(harness.pepper)
        down = await http.get("/v1/models", headers={"authorization": f"Bearer {unknown_key}"})
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "key_store_unavailable"
