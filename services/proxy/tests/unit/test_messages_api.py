"""The Messages API translation: requests to chat bodies, answers and streams back, error shapes."""

from __future__ import annotations

import httpx
import orjson
import pytest
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import Message, RawMessageStreamEvent
from gateway_proxy.errors import InvalidRequest
from gateway_proxy.messages_api.request import chat_request
from gateway_proxy.messages_api.response import message_from_completion, message_usage
from gateway_proxy.messages_api.shape import MessagesShape
from gateway_proxy.messages_api.stream import MessagesStream
from pydantic import TypeAdapter
from starlette.types import Message as ASGIMessage
from starlette.types import Receive, Scope, Send


def test_a_whole_conversation_translates_into_chat_messages() -> None:
    body = {
        "model": "claude",
        "max_tokens": 100,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "temperature": 0.2,
        "top_k": 5,
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "s"},
                    {"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "rain"}],
                    },
                    {"type": "text", "text": "and tomorrow?"},
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
                ],
            },
        ],
        "tools": [{"name": "weather", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "any"},
        "stream": True,
    }
    assert chat_request(body) == {
        "model": "claude",
        "max_tokens": 100,
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": "Let me look.",
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_1", "content": "rain"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "and tomorrow?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ],
            },
        ],
        "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
        "tool_choice": "required",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_an_assistant_turn_of_tool_calls_only_has_no_text() -> None:
    chat = chat_request(
        {
            "model": "m",
            "max_tokens": 5,
            "messages": [
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]}
            ],
        }
    )
    assert chat["messages"] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        }
    ]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"max_tokens": None}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": "10"}, "max_tokens"),
        ({"model": ""}, "model"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages.0.role"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages.0.content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]},
            "messages.0.content.0.type",
        ),
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, "messages.0.content.0.text"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}]},
            "messages.0.content.0.source.type",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}]},
            "messages.0.content.0.tool_use_id",
        ),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools.0.type"),
        ({"tools": [{"name": "f"}]}, "tools.0.input_schema"),
        ({"tool_choice": {"type": "sometimes"}}, "tool_choice.type"),
        ({"tool_choice": {"type": "tool"}}, "tool_choice.name"),
        ({"thinking": {"type": "enabled", "budget_tokens": 1024}}, "thinking"),
        ({"mcp_servers": [{"type": "url", "url": "https://x", "name": "x"}]}, "mcp_servers"),
        ({"temperature": "hot"}, "temperature"),
        ({"stop_sequences": [1]}, "stop_sequences.0"),
        ({"metadata": {"user_id": 7}}, "metadata.user_id"),
        ({"stream": "yes"}, "stream"),
    ],
)
def test_bad_or_unsupported_fields_are_refused_by_name(change: dict[str, object], param: str) -> None:
    body: dict[str, object] = {
        "model": "m",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    }
    body.update(change)
    with pytest.raises(InvalidRequest) as refused:
        chat_request(body)
    assert refused.value.param == param
    assert refused.value.status == 400


def test_count_tokens_bodies_need_no_max_tokens() -> None:
    chat = chat_request(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]}, needs_max_tokens=False
    )
    assert "max_tokens" not in chat


def test_a_completion_becomes_a_message_the_sdk_parses() -> None:
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": "Checking.",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"a": 1}'},
                        },
                        {
                            "id": "call_2",
                            "type": "function",
                            "function": {"name": "g", "arguments": "not json"},
                        },
                    ],
                },
            }
        ],
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 30, "cache_write_tokens": 20},
        },
    }
    message = Message.model_validate(message_from_completion(completion))
    assert message.id == "msg_chatcmpl-1"
    assert message.stop_reason == "tool_use"
    assert [block.type for block in message.content] == ["text", "tool_use", "tool_use"]
    assert message.content[1].input == {"a": 1}  # type: ignore[union-attr]
    assert message.content[2].input == {"arguments": "not json"}  # type: ignore[union-attr]
    assert (message.usage.input_tokens, message.usage.output_tokens) == (50, 7)
    assert (message.usage.cache_read_input_tokens, message.usage.cache_creation_input_tokens) == (30, 20)


@pytest.mark.parametrize(
    ("finish", "stop"), [("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "refusal")]
)
def test_finish_reasons_map_to_stop_reasons(finish: str, stop: str) -> None:
    completion = {"id": "x", "choices": [{"finish_reason": finish, "message": {"content": "a"}}]}
    assert message_from_completion(completion)["stop_reason"] == stop


def test_missing_usage_is_zero_not_an_error() -> None:
    assert message_usage({}) == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _chunk(delta: dict[str, object] | None = None, finish: str | None = None, **extra: object) -> bytes:
    payload: dict[str, object] = {
        "id": "chatcmpl-9",
        "model": "gpt-4o",
        "object": "chat.completion.chunk",
        **extra,
    }
    payload["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return b"data: " + orjson.dumps(payload) + b"\n\n"


STREAM = b"".join(
    [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "Hel"}),
        _chunk({"content": "lo"}),
        _chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "f", "arguments": ""},
                    }
                ]
            }
        ),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x":'}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": " 1}"}}]}),
        _chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "g", "arguments": "{}"},
                    }
                ]
            }
        ),
        _chunk({}, "tool_calls"),
        _chunk(None, usage={"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21}),
        b"data: [DONE]\n\n",
    ]
)


def _events(raw: bytes) -> list[tuple[str, dict[str, object]]]:
    events = []
    for block in raw.decode().split("\n\n"):
        if block:
            name_line, data_line = block.split("\n")
            events.append((name_line.removeprefix("event: "), orjson.loads(data_line.removeprefix("data: "))))
    return events


@pytest.mark.parametrize("piece", [1, 7, len(STREAM)])
def test_a_chat_stream_becomes_the_event_sequence_the_sdk_accumulates(piece: int) -> None:
    stream = MessagesStream()
    out = b"".join(stream.feed(STREAM[i : i + piece]) for i in range(0, len(STREAM), piece)) + stream.close()
    events = _events(out)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    adapter: TypeAdapter[RawMessageStreamEvent] = TypeAdapter(RawMessageStreamEvent)
    snapshot = None
    json_bufs: dict[int, bytes] = {}
    for _, payload in events:
        event = adapter.validate_python(payload)
        snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs=json_bufs)
    assert snapshot is not None
    assert snapshot.content[0].text == "Hello"  # type: ignore[union-attr]
    assert snapshot.content[1].input == {"x": 1}  # type: ignore[union-attr]
    assert (snapshot.content[2].name, snapshot.content[2].input) == ("g", {})  # type: ignore[union-attr]
    assert snapshot.stop_reason == "tool_use"
    assert (snapshot.usage.input_tokens, snapshot.usage.output_tokens) == (12, 9)


def test_an_error_event_ends_the_stream_as_a_messages_error() -> None:
    stream = MessagesStream()
    out = stream.feed(_chunk({"content": "partial"}))
    out += stream.feed(
        b'data: {"error":{"message":"The upstream stream was interrupted.","type":"server_error"}}\n\n'
    )
    out += stream.feed(_chunk({"content": "after the end"})) + stream.close()
    events = _events(out)
    assert [name for name, _ in events][-1] == "error"
    assert events[-1][1] == {
        "type": "error",
        "error": {"type": "api_error", "message": "The upstream stream was interrupted."},
    }
    assert b"after the end" not in out


def test_a_stream_that_stops_without_its_end_is_closed_with_an_error() -> None:
    stream = MessagesStream()
    stream.feed(_chunk({"content": "partial"}))
    assert _events(stream.close())[0][0] == "error"
    assert stream.close() == b""


async def _openai_error_app(scope: Scope, receive: Receive, send: Send) -> None:
    body = orjson.dumps(
        {"error": {"message": "Rate limit reached.", "type": "rate_limit_error", "param": None}}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", b"req-1"),
                (b"retry-after", b"3"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body[:10], "more_body": True})
    await send({"type": "http.response.body", "body": body[10:], "more_body": False})


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens", "/v1/messages/batches"])
async def test_errors_on_messages_paths_take_the_messages_shape(path: str) -> None:
    transport = httpx.ASGITransport(app=MessagesShape(_openai_error_app))
    async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
        response = await client.post(path)
    assert response.status_code == 429
    assert response.json() == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Rate limit reached."},
        "request_id": "req-1",
    }
    assert response.headers["retry-after"] == "3"
    assert response.headers["request-id"] == "req-1"
    assert int(response.headers["content-length"]) == len(response.content)


async def test_other_paths_pass_through_untouched() -> None:
    sent: list[ASGIMessage] = []

    async def record(message: ASGIMessage) -> None:
        sent.append(message)

    async def receive() -> ASGIMessage:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "path": "/v1/chat/completions", "method": "POST", "headers": []}
    await MessagesShape(_openai_error_app)(scope, receive, record)
    assert b"".join(m.get("body", b"") for m in sent).startswith(b'{"error"')
    assert (b"request-id", b"req-1") not in sent[0]["headers"]
