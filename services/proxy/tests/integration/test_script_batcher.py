"""ScriptBatcher against a real Valkey: every call applied and answered, in few round trips,
through a script flush; a dead Redis fails the waiting calls and only logs the others."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import redis.asyncio as aioredis
from gateway_devstack.procs import free_port
from gateway_devstack.resets import flush_redis
from gateway_proxy.script_batcher import ScriptBatcher
from redis.exceptions import RedisError

ADD = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


@pytest.fixture
async def redis(redis_url: str) -> aioredis.Redis:
    flush_redis(redis_url)
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def _counting_pipelines(batcher: ScriptBatcher) -> list[int]:
    """Record the size of each pipeline the batcher sends (a spy around its send)."""
    sizes: list[int] = []
    send = batcher._pipeline

    async def spy(batch: list[Any]) -> list[object]:
        sizes.append(len(batch))
        return await send(batch)

    batcher._pipeline = spy  # type: ignore[method-assign]
    return sizes


async def test_every_queued_call_is_applied_in_batches(redis: aioredis.Redis) -> None:
    await redis.script_load(ADD)
    batcher = ScriptBatcher(redis, max_batch=128)
    add = batcher.script(ADD)
    sizes = _counting_pipelines(batcher)
    for index in range(300):
        batcher.submit(add, ["gw:test:sum"], [index])
    assert batcher.pending == 300
    await batcher.flush()
    assert batcher.pending == 0
    assert int(await redis.get("gw:test:sum")) == sum(range(300))
    assert sizes == [128, 128, 44]


async def test_a_flushed_script_is_loaded_again(redis: aioredis.Redis) -> None:
    batcher = ScriptBatcher(redis)
    add = batcher.script(ADD)
    await redis.script_flush()
    sizes = _counting_pipelines(batcher)
    batcher.submit(add, ["gw:test:sum"], [5])
    batcher.submit(add, ["gw:test:sum"], [7])
    await batcher.flush()
    assert int(await redis.get("gw:test:sum")) == 12
    assert sizes == [2, 2]  # refused for the missing script, then sent again once loaded


async def test_concurrent_calls_get_their_own_answers_in_shared_round_trips(redis: aioredis.Redis) -> None:
    batcher = ScriptBatcher(redis)
    add = batcher.script(ADD)
    sizes = _counting_pipelines(batcher)
    answers = await asyncio.gather(*(batcher.call(add, [f"gw:test:{n % 3}"], [n]) for n in range(150)))
    for _ in range(50):
        batcher.submit(add, ["gw:test:released"], [1])
    await batcher.aclose()
    running = {0: 0, 1: 0, 2: 0}
    expected = []
    for n in range(150):
        running[n % 3] += n
        expected.append(running[n % 3])
    assert answers == expected  # each caller got its own call's answer, in order per key
    assert int(await redis.get("gw:test:released")) == 50
    assert sum(sizes) == 200
    assert len(sizes) < 200  # batched, not one round trip per call


async def test_a_caller_that_stops_waiting_leaves_the_others_answered(redis: aioredis.Redis) -> None:
    batcher = ScriptBatcher(redis)
    add = batcher.script(ADD)
    impatient = asyncio.create_task(batcher.call(add, ["gw:test:sum"], [1]))
    patient = asyncio.create_task(batcher.call(add, ["gw:test:sum"], [2]))
    impatient.cancel()
    assert await patient in (2, 3)  # the cancelled call may still have run
    await batcher.aclose()


async def test_an_unreachable_redis_fails_the_waiting_calls_and_logs_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = aioredis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.1)
    batcher = ScriptBatcher(dead, timeout_s=0.2)
    add = batcher.script(ADD)
    batcher.submit(add, ["gw:test:sum"], [1])
    with caplog.at_level(logging.WARNING, logger="gateway_proxy.script_batcher"):
        async with asyncio.timeout(2):
            with pytest.raises((RedisError, OSError)):
                await batcher.call(add, ["gw:test:sum"], [1])
            await batcher.aclose()
    assert batcher.pending == 0
    assert "could not send 1 rate-limit releases" in caplog.text
    await dead.aclose()
