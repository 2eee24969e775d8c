"""Idempotency-Key at the proxy: one upstream call and one usage event for any number of
duplicates, 409 while the first runs, 422 for another body, byte-identical stream replays."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

CHAT = "/v1/chat/completions"


def body(content: str, model: str = "demo-slow", **extra: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


async def test_parallel_duplicates_reach_the_provider_once_and_replay_the_first_answer(
    running: Harness,
) -> None:
    key, _ = await running.create_key()
    idem = uuid.uuid4().hex
    headers = {"authorization": f"Bearer {key}", "idempotency-key": f'"{idem}"'}
    usage_before = await running.quiet_usage_count()
    # demo-slow streams 30 events 200 ms apart: the first request runs ~6 s, the rest overlap it.
    request = body("only once", stream=True)
    async with running.http() as http:

        async def one() -> httpx.Response:
            return await http.post(CHAT, json=request, headers=headers, timeout=30)

        responses = await asyncio.gather(*(one() for _ in range(20)))
        statuses = Counter(r.status_code for r in responses)
        assert statuses == Counter({200: 1, 409: 19})
        assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
            "idempotency_key_in_use"
        }
        first = next(r for r in responses if r.status_code == 200)
        assert first.content.endswith(b"data: [DONE]\n\n")

        replay = await http.post(CHAT, json=request, headers=headers, timeout=30)
        assert replay.status_code == 200
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.headers["content-type"].startswith("text/event-stream")
        assert replay.content == first.content  # the same SSE byte sequence

        changed = await http.post(CHAT, json=body("something else", stream=True), headers=headers)
        assert changed.status_code == 422
        assert changed.json()["error"]["code"] == "idempotency_key_reused"

    assert len(running.fake.requests(CHAT)) == 1
    await asyncio.sleep(1.0)
    assert await running.usage_count() == usage_before + 1


async def test_sync_replay_is_identical_and_scoped_per_key(running: Harness) -> None:
    key, _ = await running.create_key()
    other_key, _ = await running.create_key()
    idem = uuid.uuid4().hex
    request = body("sync please", model="demo")
    async with running.http() as http:
        first = await http.post(
            CHAT, json=request, headers={"authorization": f"Bearer {key}", "idempotency-key": idem}
        )
        assert first.status_code == 200
        assert "idempotent-replayed" not in first.headers
        again = await http.post(
            CHAT, json=request, headers={"authorization": f"Bearer {key}", "idempotency-key": idem}
        )
        assert again.status_code == 200
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
        # Another API key with the same Idempotency-Key is another request.
        other = await http.post(
            CHAT, json=request, headers={"authorization": f"Bearer {other_key}", "idempotency-key": idem}
        )
        assert other.status_code == 200
        assert "idempotent-replayed" not in other.headers
    assert len(running.fake.requests(CHAT)) == 2
    stored = [k async for k in running.redis.scan_iter(match="gw:idem:*")]
    assert stored
    assert all(idem not in k.decode() for k in stored)  # the client's key is hashed


async def test_a_failed_first_attempt_is_not_stored_so_a_retry_runs(running: Harness) -> None:
    key, _ = await running.create_key()
    idem = uuid.uuid4().hex
    headers = {"authorization": f"Bearer {key}", "idempotency-key": idem}
    async with running.http() as http:
        failed = await http.post(CHAT, json=body("x", model="demo-500"), headers=headers)
        assert failed.status_code == 502
        # Routing re-tries a 500 once on the (only) deployment before giving up.
        per_request = len(running.fake.requests(CHAT))
        assert per_request == 2
        retried = await http.post(CHAT, json=body("x", model="demo-500"), headers=headers)
        assert retried.status_code == 502
        assert "idempotent-replayed" not in retried.headers
    assert len(running.fake.requests(CHAT)) == 2 * per_request
