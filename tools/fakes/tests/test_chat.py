"""Chat completions through the official SDK: whole, streamed, tools, JSON mode."""

from __future__ import annotations

import json

import openai
import pytest
from gateway_fakes import FakeProcess

USER = [{"role": "user", "content": "hello there world"}]


def test_chat_sync(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "gpt-4o-mini"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "echo: hello there world"
    assert choice.message.refusal is None
    assert choice.finish_reason == "stop"
    assert completion.system_fingerprint
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (3, 4, 7)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 0


def test_token_detail_headers_and_content_override(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="o3-mini",
        messages=USER,
        extra_headers={
            "x-fake-content": "fixed reply",
            "x-fake-cached-tokens": "2",
            "x-fake-reasoning-tokens": "5",
        },
    )
    assert completion.choices[0].message.content == "fixed reply"
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (3, 7)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 2
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 5


def test_max_tokens_truncates_with_length(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        max_completion_tokens=2,
    )
    assert completion.choices[0].message.content == "echo: hello"
    assert completion.choices[0].finish_reason == "length"


def test_chat_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"x-fake-stream-chunks": "3"},
    )
    chunks = list(stream)
    assert all(chunk.object == "chat.completion.chunk" and chunk.model == "gpt-4o" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    content = [chunk.choices[0].delta.content for chunk in chunks[1:4]]
    assert len(content) == 3
    assert "".join(c or "" for c in content) == "echo: hello there world"
    assert chunks[4].choices[0].finish_reason == "stop"
    assert chunks[4].usage is None
    assert chunks[5].choices == []
    assert chunks[5].usage is not None
    assert chunks[5].usage.total_tokens == 7
    assert len(chunks) == 6


def test_stream_without_usage_has_no_usage_chunk(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
    assert all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == "echo: hello there world"


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}


def test_tool_call(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        tools=[WEATHER_TOOL],
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_")
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "hello there world", "days": 1}


def test_tool_result_ends_the_loop(client: openai.OpenAI) -> None:
    messages = [
        *USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=messages,
        tools=[WEATHER_TOOL],
    )
    assert completion.choices[0].message.content == "echo: sunny"
    assert completion.choices[0].finish_reason == "stop"


def test_tool_call_stream(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=USER,
            tools=[WEATHER_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            stream=True,
        )
    )
    opening = chunks[0].choices[0].delta.tool_calls
    assert opening is not None
    assert opening[0].id is not None
    assert opening[0].id.startswith("call_")
    assert opening[0].function is not None
    assert opening[0].function.name == "get_weather"
    arguments = ""
    for chunk in chunks[1:-1]:
        calls = chunk.choices[0].delta.tool_calls
        assert calls is not None
        assert calls[0].index == 0
        assert calls[0].function is not None
        arguments += calls[0].function.arguments or ""
    assert len(chunks) > 3
    assert json.loads(arguments) == {"city": "hello there world", "days": 1}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_json_mode(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        response_format={"type": "json_object"},
    )
    assert json.loads(completion.choices[0].message.content or "") == {"reply": "echo: hello there world"}


def test_invalid_bodies_get_openai_errors(client: openai.OpenAI, fake_openai: FakeProcess) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=[])
    assert info.value.code == "missing_required_parameter"
    assert info.value.param == "messages"
    assert fake_openai.requests()[0]["status"] == 400
