"""A key's TPM limit through the proxy: the rough pre-call charge (one token per four UTF-8 bytes
plus max_tokens), a refusal before the provider is called, and the move to the provider's usage
when the response ends."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import openai
import pytest
from gateway_proto.v1.config_pb2 import RateLimits

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

CHAT = "/v1/chat/completions"
LIMIT = 100
WORDS = "word " * 40  # 200 bytes: 50 rough tokens; the fake counts 40 (one per word)
ESTIMATE = 3 + 3 + 50 + 30  # reply primer, one message's framing, the text, max_tokens=30
SMALL_ESTIMATE = 3 + 3 + 1  # "hi": 2 bytes, rounded up to one token


async def wait_for_window_sum(h: Harness, key_id: str, expected: int, timeout_s: float = 10.0) -> None:
    """Until the key's TPM running sum is `expected` (the release runs after the response ends)."""
    deadline = time.monotonic() + timeout_s
    while (found := int(await h.redis.get(f"gw:rl:k:{key_id}:tps") or 0)) != expected:
        assert time.monotonic() < deadline, f"TPM window holds {found} tokens, never {expected}"
        await asyncio.sleep(0.02)


async def test_tpm_charges_a_rough_estimate_refuses_before_the_provider_and_reconciles(
    running: Harness,
) -> None:
    key, record = await running.create_key(key_limits=RateLimits(tpm=LIMIT))
    client = running.client(key)
    messages: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": WORDS}]

    first = await client.chat.completions.with_raw_response.create(
        model="demo", messages=messages, max_tokens=30
    )
    assert first.headers["x-ratelimit-limit-tokens"] == str(LIMIT)
    assert first.headers["x-ratelimit-remaining-tokens"] == str(LIMIT - ESTIMATE)
    usage = first.parse().usage
    assert usage is not None
    actual = usage.total_tokens
    assert actual != ESTIMATE  # otherwise the reconciliation below would show nothing
    await wait_for_window_sum(running, record.key_id, actual)

    # The same request again does not fit beside the first one's usage: refused, never forwarded.
    with pytest.raises(openai.RateLimitError) as refused:
        await client.chat.completions.create(model="demo", messages=messages, max_tokens=30)
    assert refused.value.code == "rate_limit_exceeded"
    assert int(refused.value.response.headers["retry-after"]) >= 1
    assert len(running.fake.requests(CHAT)) == 1

    # A small one fits in what the first one's usage left, not in what its estimate would have.
    small = await client.chat.completions.with_raw_response.create(
        model="demo", messages=[{"role": "user", "content": "hi"}]
    )
    assert small.headers["x-ratelimit-remaining-tokens"] == str(LIMIT - actual - SMALL_ESTIMATE)
    assert len(running.fake.requests(CHAT)) == 2
