"""Anthropic Messages SSE -> chat.completion.chunk translation."""

from __future__ import annotations

import orjson
import pytest
from gateway_providers import DONE, Endpoint, StreamEvent, Usage, get_adapter


def sse(kind: str, payload: dict[str, object]) -> bytes:
    return f"event: {kind}\n".encode() + b"data: " + orjson.dumps({"type": kind, **payload}) + b"\n\n"


START = sse(
    "message_start",
    {
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-opus-4-6",
            "stop_reason": None,
            "usage": {"input_tokens": 7, "output_tokens": 1, "cache_read_input_tokens": 4},
        }
    },
)
TEXT_STREAM = b"".join(
    [
        START,
        sse("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        sse("ping", {}),
        sse("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Hel"}}),
        sse("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "lo é"}}),
        sse("content_block_stop", {"index": 0}),
        sse(
            "message_delta",
            {"delta": {"stop_reason": "max_tokens", "stop_sequence": None}, "usage": {"output_tokens": 3}},
        ),
        sse("message_stop", {}),
    ]
)


def feed_all(stream: bytes, step: int) -> list[StreamEvent]:
    parser = get_adapter("anthropic").new_stream_parser(Endpoint.CHAT_COMPLETIONS, model_alias="smart")
    events: list[StreamEvent] = []
    for start in range(0, len(stream), step):
        events.extend(parser.feed(stream[start : start + step]))
    assert parser.saw_done
    assert parser.usage == Usage(prompt_tokens=11, completion_tokens=3, cached_prompt_tokens=4)
    return events


@pytest.mark.parametrize("step", [1, 7, 10_000])
def test_text_stream_translates_in_order_whatever_the_chunking(step: int) -> None:
    events = feed_all(TEXT_STREAM, step)
    assert events[-1].is_done
    assert events[-1].raw == b"data: [DONE]\n\n"
    chunks = [e.data for e in events[:-1]]
    assert all(isinstance(c, dict) and c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(isinstance(c, dict) and c["model"] == "smart" and c["id"] == "msg_1" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks[:-1] if isinstance(c, dict)]
    assert deltas == [
        {"role": "assistant", "content": "", "refusal": None},
        {"content": "Hel"},
        {"content": "lo é"},
        {},
    ]
    finish = chunks[-2]
    assert isinstance(finish, dict)
    assert finish["choices"][0]["finish_reason"] == "length"
    usage_event = events[-2]
    assert usage_event.is_usage_only
    assert isinstance(usage_event.data, dict)
    assert usage_event.data["usage"]["prompt_tokens"] == 11  # type: ignore[index]
    # Every forwarded event is a valid OpenAI SSE event.
    for event in events:
        assert event.raw.startswith(b"data: ")
        assert event.raw.endswith(b"\n\n")
        if event.data is not DONE:
            assert orjson.loads(event.raw[len(b"data: ") :]) == event.data


def test_tool_use_stream_becomes_tool_call_deltas() -> None:
    stream = b"".join(
        [
            START,
            sse("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
            sse("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
            sse("content_block_stop", {"index": 0}),
            sse(
                "content_block_start",
                {
                    "index": 1,
                    "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
                },
            ),
            sse(
                "content_block_delta",
                {"index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"a":'}},
            ),
            sse(
                "content_block_delta",
                {"index": 1, "delta": {"type": "input_json_delta", "partial_json": " 1}"}},
            ),
            sse("content_block_stop", {"index": 1}),
            sse("message_delta", {"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 3}}),
            sse("message_stop", {}),
        ]
    )
    events = feed_all(stream, 50)
    deltas = [e.data["choices"][0]["delta"] for e in events if isinstance(e.data, dict) and e.data["choices"]]  # type: ignore[index]
    assert deltas[2] == {
        "tool_calls": [
            {"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": ""}}
        ]
    }
    assert deltas[3:5] == [
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": " 1}"}}]},
    ]
    assert events[-3].data["choices"][0]["finish_reason"] == "tool_calls"  # type: ignore[index]


def test_error_event_carries_a_provider_error_and_no_done() -> None:
    parser = get_adapter("anthropic").new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    events = parser.feed(
        START + sse("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})
    )
    assert len(events) == 2
    error = events[1].error
    assert error is not None
    assert (error.status, error.type, error.code, error.retryable) == (
        502,
        "server_error",
        "overloaded_error",
        False,
    )
    assert orjson.loads(events[1].raw[len(b"data: ") :])["error"]["message"] == "Overloaded"
    assert not parser.saw_done


def test_cut_stream_is_not_done() -> None:
    parser = get_adapter("anthropic").new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    parser.feed(TEXT_STREAM[: len(TEXT_STREAM) // 2])
    assert not parser.saw_done
    assert parser.usage == Usage(prompt_tokens=11, completion_tokens=0, cached_prompt_tokens=4)
