"""One suite every adapter must pass, driven through the proxy with the official openai SDK.

Each test is parametrised by adapter and tags its (adapter, capability) cell; the matrix in
docs/providers/README.md is generated from these results (see conftest.py).
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from gateway_fakes.openai.embeddings import embedding_vector
from openai.types.chat import ChatCompletionChunk

from .conftest import ADAPTERS, ERROR_STATUSES, EXCHANGE_ADAPTERS, Gateway

ADAPTER_NAMES = [case.name for case in ADAPTERS]
CHAT_ADAPTERS = [case.name for case in ADAPTERS if "chat" in case.serves]
EMBEDDING_ADAPTERS = [case.name for case in ADAPTERS if "embeddings" in case.serves]
IMAGE_ADAPTERS = [case.name for case in ADAPTERS if "images" in case.serves]
STREAM_ERROR_ADAPTERS = [case.name for case in ADAPTERS if case.mid_stream_error]
CASES = {case.name: case for case in (*ADAPTERS, *EXCHANGE_ADAPTERS)}
# Translating adapters whose provider only returns float vectors (the gateway re-encodes them).
FLOAT_ONLY_EMBEDDINGS = [
    name
    for name in EMBEDDING_ADAPTERS
    if CASES[name].provider_type not in ("openai", "openai_compatible", "azure_openai")
]
HELLO = [{"role": "user", "content": "hello world"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def cell(request: pytest.FixtureRequest, adapter: str, capability: str) -> None:
    request.node.user_properties.append(("conformance", (adapter, capability)))


async def first_call(client: openai.AsyncOpenAI, adapter: str, model: str) -> object:
    """The adapter's first served operation: a chat completion, an embedding, or an image."""
    case = CASES[adapter]
    if "chat" in case.serves:
        return await client.chat.completions.create(model=model, messages=HELLO)  # type: ignore[arg-type]
    if "images" in case.serves:
        return await client.images.generate(model=model, prompt="hello world")
    return await client.embeddings.create(model=model, input="hello world", **case.embedding_options)  # type: ignore[arg-type]


@pytest.mark.parametrize("adapter", EMBEDDING_ADAPTERS)
@pytest.mark.parametrize("encoding", ["float", "sdk_default"])
async def test_embeddings(
    gateway: Gateway, adapter: str, encoding: str, request: pytest.FixtureRequest
) -> None:
    """`float` asks for floats; the SDK's default asks for base64 and decodes it (or takes floats)."""
    cell(request, adapter, "embeddings")
    case = CASES[adapter]
    options: dict[str, Any] = {"encoding_format": "float"} if encoding == "float" else {}
    texts = ["hello world", "x"] if case.embedding_batch else ["hello world"]
    async with gateway.client() as client:
        result = await client.embeddings.create(
            model=f"{adapter}-ok", input=texts, **options, **case.embedding_options
        )
    assert result.object == "list"
    assert [item.index for item in result.data] == list(range(len(texts)))
    for item, text in zip(result.data, texts, strict=True):
        assert item.embedding == pytest.approx(embedding_vector(text, case.embedding_dims))
    if case.reports_usage:
        assert result.usage.prompt_tokens == len(" ".join(texts).split())
    else:  # the provider counts nothing: the body says 0 and the gateway bills its own estimate
        assert result.usage.prompt_tokens == 0
    upstream = gateway.fakes[case.fake_kind].requests()[-1]
    assert upstream["status"] == 200


@pytest.mark.parametrize("adapter", FLOAT_ONLY_EMBEDDINGS)
async def test_embeddings_base64_from_a_float_only_provider(
    gateway: Gateway, adapter: str, request: pytest.FixtureRequest
) -> None:
    """A raw `encoding_format: base64` request gets OpenAI's base64 float32 even from float-only providers."""
    cell(request, adapter, "embeddings_base64")
    case = CASES[adapter]
    async with gateway.client() as client:
        raw = await client.embeddings.with_raw_response.create(
            model=f"{adapter}-ok", input="hello world", encoding_format="base64", **case.embedding_options
        )
    encoded = raw.http_response.json()["data"][0]["embedding"]
    assert isinstance(encoded, str)
    decoded = struct.unpack(f"<{case.embedding_dims}f", base64.b64decode(encoded))
    assert list(decoded) == pytest.approx(embedding_vector("hello world", case.embedding_dims))


@pytest.mark.parametrize("adapter", IMAGE_ADAPTERS)
async def test_images(gateway: Gateway, adapter: str, request: pytest.FixtureRequest) -> None:
    cell(request, adapter, "images")
    case = CASES[adapter]
    async with gateway.client() as client:
        result = await client.images.generate(model=f"{adapter}-ok", prompt="a red fox", size="1024x1024")
    assert result.data is not None
    assert len(result.data) == 1
    assert base64.b64decode(result.data[0].b64_json or "").startswith(b"\x89PNG")
    upstream = gateway.fakes[case.fake_kind].requests(case.chat_path)[-1]
    assert upstream["status"] == 200


# Titan refuses with an error status (mapped by parse_error); Stability answers 200 with a filter
# reason, which parse_response raises and the forwarder treats like an error status.
@pytest.mark.parametrize("adapter", IMAGE_ADAPTERS)
async def test_content_policy_refusal(gateway: Gateway, adapter: str, request: pytest.FixtureRequest) -> None:
    """A prompt the provider's filter refuses is the client's 400 `content_policy_violation`-style error."""
    cell(request, adapter, "content_policy")
    async with gateway.client() as client:
        with pytest.raises(openai.BadRequestError) as raised:
            await client.images.generate(model=f"{adapter}-ok", prompt="something forbidden")
    assert raised.value.status_code == 400
    assert "content filter" in raised.value.message.lower() or "filter reason" in raised.value.message.lower()


@pytest.mark.parametrize("adapter", [case.name for case in EXCHANGE_ADAPTERS])
async def test_short_lived_credentials(
    gateway: Gateway, adapter: str, request: pytest.FixtureRequest
) -> None:
    """Stored role / service-account credentials are exchanged (STS, OAuth) and the call succeeds."""
    cell(request, adapter, "sync")
    case = CASES[adapter]
    async with gateway.client() as client:
        completion = await client.chat.completions.create(model=f"{adapter}-ok", messages=HELLO)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "echo: hello world"
    assert gateway.last_upstream_request(case)["status"] == 200


@pytest.mark.parametrize("adapter", CHAT_ADAPTERS)
async def test_sync(gateway: Gateway, adapter: str, request: pytest.FixtureRequest) -> None:
    cell(request, adapter, "sync")
    async with gateway.client() as client:
        completion = await client.chat.completions.create(model=f"{adapter}-ok", messages=HELLO)  # type: ignore[arg-type]
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "echo: hello world"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (2, 3)
    assert completion.usage.total_tokens == 5
    # It really went through this adapter's wire format, to this adapter's fake.
    upstream = gateway.last_upstream_request(CASES[adapter])
    assert upstream["status"] == 200
    assert CASES[adapter].upstream_model_of(upstream) == CASES[adapter].upstream_model


@pytest.mark.parametrize("adapter", CHAT_ADAPTERS)
async def test_stream(gateway: Gateway, adapter: str, request: pytest.FixtureRequest) -> None:
    cell(request, adapter, "stream")
    async with gateway.client() as client:
        stream = await client.chat.completions.create(
            model=f"{adapter}-ok",
            messages=HELLO,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks: list[ChatCompletionChunk] = [chunk async for chunk in stream]
        plain = await client.chat.completions.create(model=f"{adapter}-ok", messages=HELLO, stream=True)  # type: ignore[arg-type]
        plain_chunks = [chunk async for chunk in plain]
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: hello world"
    with_choices = [c for c in chunks if c.choices]
    assert [c.choices[0].finish_reason for c in with_choices][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in with_choices[:-1])
    final = chunks[-1]
    assert final.choices == []
    assert final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (2, 3)
    # Without include_usage the usage chunk is not forwarded.
    assert all(c.choices for c in plain_chunks)
    assert "".join(c.choices[0].delta.content or "" for c in plain_chunks) == "echo: hello world"


# Fakes whose stream error comes after the first content (the others fail right after opening).
ERRORS_AFTER_CONTENT = frozenset({"vertex_gemini"})


@pytest.mark.parametrize("adapter", STREAM_ERROR_ADAPTERS)
async def test_stream_error_is_an_error_status_or_an_error_event_after_content(
    gateway: Gateway, adapter: str, request: pytest.FixtureRequest
) -> None:
    """An upstream failure in a stream is never a silent end, and never a 200 that breaks before
    anything was delivered: an error event before any content (Anthropic's and Bedrock's fakes)
    is answered as an error status — routing could still fail over, here there is no other
    deployment; after content (Vertex's fake) it reaches the client as OpenAI's SSE error event."""
    cell(request, adapter, "stream_error")
    seen: list[ChatCompletionChunk] = []
    async with gateway.client() as client:
        if adapter not in ERRORS_AFTER_CONTENT:
            with pytest.raises(openai.APIStatusError) as refused:
                await client.chat.completions.create(
                    model=f"{adapter}-streamerr", messages=HELLO, stream=True
                )  # type: ignore[arg-type]
            assert refused.value.status_code >= 500
            assert refused.value.message
            return
        stream = await client.chat.completions.create(
            model=f"{adapter}-streamerr", messages=HELLO, stream=True
        )  # type: ignore[arg-type]
        with pytest.raises(openai.APIError) as info:
            await _drain(stream, seen)
    assert info.value.message
    assert any(c.choices and c.choices[0].delta.content for c in seen)  # content came first
    assert all(c.choices[0].finish_reason is None for c in seen if c.choices)


async def _drain(stream: AsyncIterator[ChatCompletionChunk], into: list[ChatCompletionChunk]) -> None:
    async for chunk in stream:
        into.append(chunk)


@pytest.mark.parametrize("adapter", CHAT_ADAPTERS)
@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
async def test_tools_round_trip(
    gateway: Gateway, adapter: str, stream: bool, request: pytest.FixtureRequest
) -> None:
    cell(request, adapter, "tools")
    messages: list[dict[str, object]] = [{"role": "user", "content": "Paris"}]
    async with gateway.client() as client:
        if stream:
            chunks = await client.chat.completions.create(
                model=f"{adapter}-ok",
                messages=messages,
                tools=TOOLS,
                tool_choice="required",
                stream=True,  # type: ignore[arg-type]
            )
            name, arguments, call_id, finish = "", "", "", None
            async for chunk in chunks:
                for delta_call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                    call_id = delta_call.id or call_id
                    if delta_call.function is not None:
                        name += delta_call.function.name or ""
                        arguments += delta_call.function.arguments or ""
                if chunk.choices and chunk.choices[0].finish_reason:
                    finish = chunk.choices[0].finish_reason
            assert finish == "tool_calls"
        else:
            first = await client.chat.completions.create(
                model=f"{adapter}-ok",
                messages=messages,
                tools=TOOLS,
                tool_choice="required",  # type: ignore[arg-type]
            )
            assert first.choices[0].finish_reason == "tool_calls"
            tool_calls = first.choices[0].message.tool_calls
            assert tool_calls is not None
            call = tool_calls[0]
            assert call.type == "function"
            name, arguments, call_id = call.function.name, call.function.arguments, call.id
        assert name == "get_weather"
        assert json.loads(arguments) == {"city": "Paris"}
        assert call_id
        messages += [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
                ],
            },
            {"role": "tool", "tool_call_id": call_id, "content": "sunny"},
        ]
        second = await client.chat.completions.create(model=f"{adapter}-ok", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    assert second.choices[0].message.content == "echo: sunny"
    assert second.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("adapter", CHAT_ADAPTERS)
async def test_cached_tokens(gateway: Gateway, adapter: str, request: pytest.FixtureRequest) -> None:
    cell(request, adapter, "cached_tokens")
    async with gateway.client() as client:
        completion = await client.chat.completions.create(
            model=f"{adapter}-cached", messages=[{"role": "user", "content": "one two three four"}]
        )
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens == 4  # cached (and cache-written) tokens are part of the prompt
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 2


@pytest.mark.parametrize("adapter", CHAT_ADAPTERS)
@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
async def test_finish_reason_length(
    gateway: Gateway, adapter: str, stream: bool, request: pytest.FixtureRequest
) -> None:
    cell(request, adapter, "finish_reason")
    async with gateway.client() as client:
        if stream:
            chunks = await client.chat.completions.create(
                model=f"{adapter}-ok",
                messages=HELLO,
                max_tokens=2,
                stream=True,  # type: ignore[arg-type]
            )
            finishes = [
                c.choices[0].finish_reason async for c in chunks if c.choices and c.choices[0].finish_reason
            ]
            assert finishes == ["length"]
        else:
            completion = await client.chat.completions.create(
                model=f"{adapter}-ok", messages=HELLO, max_tokens=2
            )  # type: ignore[arg-type]
            assert completion.choices[0].finish_reason == "length"
            assert completion.choices[0].message.content == "echo: hello"


@pytest.mark.parametrize("adapter", ADAPTER_NAMES)
@pytest.mark.parametrize("upstream_status", sorted(ERROR_STATUSES))
async def test_upstream_errors(
    gateway: Gateway, adapter: str, upstream_status: int, request: pytest.FixtureRequest
) -> None:
    cell(request, adapter, f"error_{upstream_status}")
    async with gateway.client() as client:
        with pytest.raises(openai.APIStatusError) as info:
            await first_call(client, adapter, f"{adapter}-e{upstream_status}")
    error = info.value
    assert error.status_code == ERROR_STATUSES[upstream_status]
    body = error.response.json()
    assert set(body["error"]) >= {"message", "type", "param", "code"}
    assert body["error"]["message"]
    if upstream_status == 429:
        assert error.response.headers.get("retry-after") == "7"


@pytest.mark.parametrize("adapter", ADAPTER_NAMES)
async def test_upstream_timeout(gateway: Gateway, adapter: str, request: pytest.FixtureRequest) -> None:
    cell(request, adapter, "error_timeout")
    async with gateway.client() as client:
        with pytest.raises(openai.APIStatusError) as info:
            await first_call(client, adapter, f"{adapter}-timeout")
    assert info.value.status_code == 504
    assert info.value.response.json()["error"]["type"] == "timeout_error"


@pytest.mark.parametrize("adapter", ADAPTER_NAMES)
async def test_fake_rejects_wrong_upstream_credentials(
    gateway: Gateway, adapter: str, request: pytest.FixtureRequest
) -> None:
    """A wrong provider key is refused by the fake, so passing tests prove the adapter's auth."""
    cell(request, adapter, "wrong_auth")
    async with gateway.client() as client:
        with pytest.raises(openai.APIStatusError) as info:
            await first_call(client, adapter, f"{adapter}-badauth")
    assert info.value.status_code == 502
    assert info.value.response.json()["error"]["code"] == "upstream_authentication_failed"


async def test_request_the_provider_cannot_express_is_a_400_that_reaches_no_upstream(
    gateway: Gateway,
) -> None:
    case = CASES["anthropic"]
    before = len(gateway.fakes[case.fake_kind].requests(case.chat_path))
    async with gateway.client() as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="anthropic-ok", messages=HELLO, n=2)  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    assert len(gateway.fakes[case.fake_kind].requests(case.chat_path)) == before
