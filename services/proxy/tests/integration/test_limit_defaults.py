"""Rate-limit defaults from control's snapshot: a non-zero snapshot default overrides the
`DEFAULT_*` setting for that field, and the setting applies again when control clears it."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx
from gateway_proto.v1.config_pb2 import RateLimits

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

CHAT = "/v1/chat/completions"
BODY = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}


async def test_snapshot_default_overrides_the_env_default_and_falls_back(harness: Harness) -> None:
    assert harness.process is not None
    harness.process.env["DEFAULT_KEY_RPM"] = "50"
    snapshot = harness.snapshot()
    snapshot.default_key_limits.CopyFrom(RateLimits(rpm=2))
    await harness.publish_snapshot(snapshot)
    harness.process.start()
    harness.process.wait_ready(timeout=60)
    await harness.wait_ready(timeout_s=30)
    key, _ = await harness.create_key()  # no override of its own: the defaults apply
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=harness.base_url, timeout=30, trust_env=False) as http:
        responses = [await http.post(CHAT, json=BODY, headers=headers) for _ in range(3)]
        assert [r.status_code for r in responses] == [200, 200, 429]
        assert responses[0].headers["x-ratelimit-limit-requests"] == "2"
        refused = responses[2]
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert int(refused.headers["retry-after"]) >= 1
        assert len(harness.fake.requests(CHAT)) == 2

        # Control clears its default: the env's DEFAULT_KEY_RPM=50 is in force again.
        await harness.publish_snapshot(harness.snapshot())
        deadline = time.monotonic() + 15
        while True:
            response = await http.post(CHAT, json=BODY, headers=headers)
            if response.status_code == 200:
                break
            assert response.status_code == 429, response.text
            assert time.monotonic() < deadline, "the new snapshot's defaults were never applied"
            await asyncio.sleep(0.1)
        assert response.headers["x-ratelimit-limit-requests"] == "50"
