"""The Anthropic Messages API in front of every chat adapter, driven with the official anthropic SDK.

A Messages request becomes a chat request inside the gateway, so each adapter serves it in its
own wire format; these tests check what an Anthropic SDK user sees: the text, the stop reason
and the usage (cache reads and writes apart from `input_tokens`), synchronous and streamed.
"""

from __future__ import annotations

import pytest

from .conftest import ADAPTERS, Gateway

CHAT_ADAPTERS = [case.name for case in ADAPTERS if "chat" in case.serves]
CASES = {case.name: case for case in ADAPTERS}


@pytest.mark.parametrize("adapter", CHAT_ADAPTERS)
async def test_message(gateway: Gateway, adapter: str) -> None:
    async with gateway.anthropic_client() as client:
        message = await client.messages.create(
            model=f"{adapter}-ok", max_tokens=32, messages=[{"role": "user", "content": "hello world"}]
        )
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "echo: hello world"  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (2, 3)
    upstream = gateway.last_upstream_request(CASES[adapter])
    assert upstream["status"] == 200
    assert CASES[adapter].upstream_model_of(upstream) == CASES[adapter].upstream_model


@pytest.mark.parametrize("adapter", CHAT_ADAPTERS)
async def test_streamed_message(gateway: Gateway, adapter: str) -> None:
    async with (
        gateway.anthropic_client() as client,
        client.messages.stream(
            model=f"{adapter}-ok", max_tokens=32, messages=[{"role": "user", "content": "hello world"}]
        ) as stream,
    ):
        texts = [text async for text in stream.text_stream]
        message = await stream.get_final_message()
    assert "".join(texts) == "echo: hello world"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (2, 3)


@pytest.mark.parametrize("adapter", CHAT_ADAPTERS)
@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
async def test_cache_counts_stay_apart_from_input_tokens(
    gateway: Gateway, adapter: str, stream: bool
) -> None:
    ask = {
        "model": f"{adapter}-cached",
        "max_tokens": 32,
        "messages": [{"role": "user", "content": "one two three four"}],
    }
    async with gateway.anthropic_client() as client:
        if stream:
            async with client.messages.stream(**ask) as events:  # type: ignore[arg-type]
                message = await events.get_final_message()
        else:
            message = await client.messages.create(**ask)  # type: ignore[arg-type]
    usage = message.usage
    written = int(CASES[adapter].cache_headers.get("x-fake-cache-write-tokens", "0"))
    assert usage.cache_read_input_tokens == 2
    assert usage.cache_creation_input_tokens == written
    assert usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens == 4
