"""ConverseStream binary event-stream -> chat.completion.chunk translation."""

from __future__ import annotations

import struct
import zlib

import orjson
import pytest
from gateway_providers import DONE, Endpoint, StreamEvent, Usage, get_adapter
from gateway_providers.sse import SSEError


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """An AWS event-stream message, framed independently of the code under test."""
    raw_headers = b"".join(
        bytes([len(k)]) + k.encode() + b"\x07" + struct.pack(">H", len(v.encode())) + v.encode()
        for k, v in headers.items()
    )
    prelude = struct.pack(">II", 16 + len(raw_headers) + len(payload), len(raw_headers))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw_headers + payload
    return head + struct.pack(">I", zlib.crc32(head))


def event(kind: str, payload: dict[str, object]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, orjson.dumps(payload))


USAGE = {"inputTokens": 2, "outputTokens": 3, "totalTokens": 7, "cacheReadInputTokens": 2}
TEXT_STREAM = b"".join(
    [
        event("messageStart", {"role": "assistant"}),
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "echo: "}}),
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "héllo"}}),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": "end_turn"}),
        event("metadata", {"usage": USAGE, "metrics": {"latencyMs": 10}}),
    ]
)


def parse(stream: bytes, step: int | None = None) -> tuple[list[StreamEvent], object]:
    parser = get_adapter("bedrock").new_stream_parser(Endpoint.CHAT_COMPLETIONS, model_alias="my-model")
    step = step or len(stream)
    events = [e for i in range(0, len(stream), step) for e in parser.feed(stream[i : i + step])]
    return events, parser


@pytest.mark.parametrize("step", [None, 1, 7])
def test_text_stream_translates_at_any_split(step: int | None) -> None:
    events, parser = parse(TEXT_STREAM, step)
    assert events[-1].data is DONE
    chunks = [e.data for e in events[:-1] if isinstance(e.data, dict)]
    assert all(e.raw.startswith(b"data: ") and e.raw.endswith(b"\n\n") for e in events)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"  # type: ignore[index]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])  # type: ignore[index,union-attr]
    assert text == "echo: héllo"
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]  # type: ignore[index]
    assert finishes[-1] == "stop"
    assert all(f is None for f in finishes[:-1])
    assert {c["model"] for c in chunks} == {"my-model"}
    assert events[-2].is_usage_only
    usage = Usage(prompt_tokens=4, completion_tokens=3, cached_prompt_tokens=2)
    assert events[-2].usage == usage
    assert parser.usage == usage  # type: ignore[attr-defined]
    assert parser.saw_done  # type: ignore[attr-defined]


def test_tool_use_stream() -> None:
    stream = b"".join(
        [
            event("messageStart", {"role": "assistant"}),
            event(
                "contentBlockStart",
                {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t1", "name": "get_weather"}}},
            ),
            event(
                "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '{"city": '}}}
            ),
            event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '"Paris"}'}}}),
            event("contentBlockStop", {"contentBlockIndex": 0}),
            event("messageStop", {"stopReason": "tool_use"}),
            event("metadata", {"usage": USAGE}),
        ]
    )
    events, _ = parse(stream)
    calls = [
        call
        for e in events
        if isinstance(e.data, dict) and e.data["choices"]
        for call in e.data["choices"][0]["delta"].get("tool_calls", [])  # type: ignore[index,union-attr]
    ]
    assert calls[0] == {
        "index": 0,
        "id": "t1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert "".join(c["function"]["arguments"] for c in calls) == '{"city": "Paris"}'
    finish = [
        e.data["choices"][0]["finish_reason"]
        for e in events
        if isinstance(e.data, dict) and e.data["choices"]
    ]  # type: ignore[index]
    assert finish[-1] == "tool_calls"


def test_exception_message_becomes_an_error_event() -> None:
    stream = event("messageStart", {"role": "assistant"}) + frame(
        {
            ":exception-type": "throttlingException",
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        b'{"message": "slow down"}',
    )
    events, parser = parse(stream)
    error = events[-1].error
    assert error is not None
    assert (error.status, error.type, error.code, error.message, error.retryable) == (
        502,
        "rate_limit_error",
        "ThrottlingException",
        "slow down",
        False,
    )
    assert orjson.loads(events[-1].raw.removeprefix(b"data: "))["error"]["code"] == "ThrottlingException"
    assert not parser.saw_done  # type: ignore[attr-defined]


def test_corrupt_frame_is_an_sse_error() -> None:
    corrupt = bytearray(event("messageStart", {"role": "assistant"}))
    corrupt[-1] ^= 0xFF
    parser = get_adapter("bedrock").new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    with pytest.raises(SSEError):
        parser.feed(bytes(corrupt))


def test_stream_cut_before_metadata_is_not_done() -> None:
    events, parser = parse(
        TEXT_STREAM[: TEXT_STREAM.rindex(event("metadata", {"usage": USAGE, "metrics": {"latencyMs": 10}}))]
    )
    assert events[-1].data is not DONE
    assert not parser.saw_done  # type: ignore[attr-defined]
