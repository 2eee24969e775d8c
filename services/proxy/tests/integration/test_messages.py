"""The Anthropic Messages API through the proxy, driven with the official anthropic SDK.

The models behind it are the standard snapshot's OpenAI-compatible fakes: every Messages request
travels the chat completions pipeline and comes back in the Messages API's shapes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anthropic
import pytest

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


async def test_a_message_is_answered_billed_and_forwarded_as_a_chat_request(running: Harness) -> None:
    key, record = await running.create_key()
    client = running.anthropic_client(key)
    raw = await client.messages.with_raw_response.create(
        model="demo",
        max_tokens=64,
        system="You are terse.",
        messages=[{"role": "user", "content": "hello there"}],
        stop_sequences=["END"],
        metadata={"user_id": "end-user-7"},
    )
    message = await raw.parse()
    assert message.type == "message"
    assert message.role == "assistant"
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "echo: hello there"
    assert message.stop_reason == "end_turn"
    assert message.id.startswith("msg_")
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0
    request_id = raw.headers["x-request-id"]
    assert raw.headers["request-id"] == request_id

    (forwarded,) = running.fake.requests("/v1/chat/completions")
    body = forwarded["body"]
    assert isinstance(body, dict)
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hello there"},
    ]
    assert (body["max_tokens"], body["stop"], body["user"]) == (64, ["END"], "end-user-7")

    event, _ = await running.usage_event(request_id)
    assert (event.key_id, event.model, event.endpoint) == (record.key_id, "demo", "chat.completions")
    assert event.status_code == 200
    assert event.usage.prompt_tokens == message.usage.input_tokens
    assert event.usage.completion_tokens == message.usage.output_tokens


async def test_a_streamed_message_arrives_as_messages_events_with_its_usage(running: Harness) -> None:
    key, _ = await running.create_key()
    client = running.anthropic_client(key)
    async with client.messages.stream(
        model="demo", max_tokens=64, messages=[{"role": "user", "content": "stream this please"}]
    ) as stream:
        texts = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
        request_id = stream.response.headers["x-request-id"]
    assert len(texts) > 1  # delta by delta, not one block at the end
    assert "".join(texts) == "echo: stream this please"
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens > 0

    (forwarded,) = running.fake.requests("/v1/chat/completions")
    body = forwarded["body"]
    assert isinstance(body, dict)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    event, _ = await running.usage_event(request_id)
    assert event.stream
    assert event.usage.prompt_tokens == final.usage.input_tokens
    assert event.usage.completion_tokens == final.usage.output_tokens


@pytest.mark.parametrize("stream", [False, True])
async def test_tool_use_round_trip(running: Harness, stream: bool) -> None:
    key, _ = await running.create_key()
    client = running.anthropic_client(key)
    question = {"role": "user", "content": "What is the weather in Oslo?"}
    if stream:
        async with client.messages.stream(
            model="demo",
            max_tokens=128,
            tools=[WEATHER_TOOL],
            tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
            messages=[question],
        ) as events:
            first = await events.get_final_message()
    else:
        first = await client.messages.create(
            model="demo",
            max_tokens=128,
            tools=[WEATHER_TOOL],
            tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
            messages=[question],
        )
    assert first.stop_reason == "tool_use"
    (call,) = [block for block in first.content if block.type == "tool_use"]
    assert call.name == "get_weather"
    assert isinstance(call.input, dict)
    assert isinstance(call.input["city"], str)  # shaped by the tool's schema, parsed from JSON

    second = await client.messages.create(
        model="demo",
        max_tokens=128,
        tools=[WEATHER_TOOL],
        messages=[
            question,
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "rain, 4 degrees"}],
            },
        ],
    )
    assert second.content[0].text == "echo: rain, 4 degrees"

    forwarded = running.fake.requests("/v1/chat/completions")
    first_body, second_body = (entry["body"] for entry in forwarded)
    assert isinstance(first_body, dict)
    assert isinstance(second_body, dict)
    assert first_body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert first_body["parallel_tool_calls"] is False
    assert first_body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": WEATHER_TOOL["input_schema"],
                "description": "The weather in a city.",
            },
        }
    ]
    assistant, tool = second_body["messages"][1:]
    assert assistant["tool_calls"][0]["id"] == call.id
    assert tool == {"role": "tool", "tool_call_id": call.id, "content": "rain, 4 degrees"}


async def test_images_are_forwarded_as_image_parts(running: Harness) -> None:
    key, _ = await running.create_key()
    client = running.anthropic_client(key)
    await client.messages.create(
        model="demo",
        max_tokens=16,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"},
                    },
                ],
            }
        ],
    )
    (forwarded,) = running.fake.requests("/v1/chat/completions")
    body = forwarded["body"]
    assert isinstance(body, dict)
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}},
    ]


def _error_body(error: anthropic.APIStatusError) -> dict[str, Any]:
    """The JSON body the SDK kept from an error answer."""
    assert isinstance(error.body, dict)
    return error.body


async def test_refusals_are_messages_errors_and_cost_nothing(running: Harness) -> None:
    key, _ = await running.create_key()
    before = await running.quiet_usage_count()
    client = running.anthropic_client(key)
    ask = {"max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}

    with pytest.raises(anthropic.AuthenticationError) as denied:
        await running.anthropic_client("sk-gw-not-a-key").messages.create(model="demo", **ask)
    body = _error_body(denied.value)
    assert body["type"] == "error"
    assert body["error"]["type"] == "authentication_error"
    assert body["error"]["message"]
    assert body["request_id"] == denied.value.response.headers["x-request-id"]

    with pytest.raises(anthropic.NotFoundError) as missing:
        await client.messages.create(model="no-such-model", **ask)
    assert _error_body(missing.value)["error"]["type"] == "not_found_error"

    async with running.http() as http:
        no_max = await http.post(
            "/v1/messages",
            json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
            headers={"x-api-key": key},
        )
    assert no_max.status_code == 400
    assert no_max.json()["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in no_max.json()["error"]["message"]

    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}
    with pytest.raises(anthropic.BadRequestError) as unsupported:
        await client.messages.create(
            model="demo",
            max_tokens=16,
            messages=[{"role": "user", "content": [document]}],
        )
    assert "messages.0.content.0.type" in _error_body(unsupported.value)["error"]["message"]

    async with running.http() as http:
        broken = await http.post(
            "/v1/messages",
            content=b"{not json",
            headers={"x-api-key": key, "content-type": "application/json"},
        )
    assert broken.status_code == 400
    assert broken.json()["type"] == "error"
    assert broken.json()["error"]["type"] == "invalid_request_error"
    assert int(broken.headers["content-length"]) == len(broken.content)

    assert running.fake.requests("/v1/chat/completions") == []
    assert await running.settled_usage_count(before) == before


async def _stream_text(client: anthropic.AsyncAnthropic, model: str, prompt: str, into: list[str]) -> None:
    """Stream a reply, appending each text delta to `into` as it arrives."""
    async with client.messages.stream(
        model=model, max_tokens=64, messages=[{"role": "user", "content": prompt}]
    ) as stream:
        async for text in stream.text_stream:
            into.append(text)


async def test_a_stream_cut_by_the_upstream_raises_in_the_sdk_and_is_billed(running: Harness) -> None:
    key, _ = await running.create_key()
    client = running.anthropic_client(key)
    texts: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as failed:
        await _stream_text(client, "demo-drop", "one two three four five", texts)
    assert texts  # the events before the cut arrived
    assert "interrupted" in str(failed.value)
    event, _ = await running.usage_event(failed.value.response.headers["x-request-id"])
    assert event.error_code == "upstream_stream_interrupted"


async def test_count_tokens_counts_without_reaching_an_upstream(running: Harness) -> None:
    key, _ = await running.create_key()
    before = await running.quiet_usage_count()
    client = running.anthropic_client(key)
    short = await client.messages.count_tokens(model="demo", messages=[{"role": "user", "content": "hi"}])
    longer = await client.messages.count_tokens(
        model="demo",
        system="You answer questions about the weather.",
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "What is the weather like in Oslo this week? " * 20}],
    )
    assert 0 < short.input_tokens < longer.input_tokens
    with pytest.raises(anthropic.NotFoundError):
        await client.messages.count_tokens(
            model="secret-model-x", messages=[{"role": "user", "content": "hi"}]
        )
    assert running.fake.requests("/v1/chat/completions") == []
    assert await running.settled_usage_count(before) == before


async def test_unknown_paths_under_messages_answer_in_the_messages_shape(running: Harness) -> None:
    key, _ = await running.create_key()
    async with running.http() as http:
        response = await http.get("/v1/messages/batches", headers={"x-api-key": key})
        wrong_method = await http.get("/v1/messages", headers={"x-api-key": key})
        openai_path = await http.get("/v1/nothing-here", headers={"x-api-key": key})
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["type"] == "error"
    assert "type" not in openai_path.json()  # other paths keep OpenAI's shape
    assert openai_path.json()["error"]["code"] == "unknown_url"
