"""OpenAI stream parsing: usage from the final chunk, [DONE], alias rewriting, errors."""

from __future__ import annotations

import random

import orjson
from gateway_providers import DONE, Endpoint, Usage, get_adapter


def chunk(payload: dict[str, object]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def base(**extra: object) -> dict[str, object]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-2024-08-06",
        **extra,
    }


USAGE = {
    "prompt_tokens": 11,
    "completion_tokens": 5,
    "total_tokens": 16,
    "prompt_tokens_details": {"cached_tokens": 4},
    "completion_tokens_details": {"reasoning_tokens": 2},
}

STREAM = b"".join(
    [
        chunk(base(choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}}], usage=None)),
        chunk(base(choices=[{"index": 0, "delta": {"content": "héllo"}}], usage=None)),
        chunk(base(choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}], usage=None)),
        chunk(base(choices=[], usage=USAGE)),
        b"data: [DONE]\n\n",
    ]
)


def test_usage_comes_from_the_final_chunk() -> None:
    parser = get_adapter("openai").new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    events = parser.feed(STREAM)
    assert [event.usage for event in events] == [None, None, None, Usage(11, 5, 4, 2), None]
    assert [event.is_usage_only for event in events] == [False, False, False, True, False]
    assert events[-1].is_done
    assert events[-1].data is DONE
    assert parser.usage == Usage(11, 5, 4, 2)
    assert parser.saw_done
    assert b"".join(event.raw for event in events) == STREAM


def test_random_chunking_yields_same_events_and_usage() -> None:
    adapter = get_adapter("openai")
    expected = [event.raw for event in adapter.new_stream_parser(Endpoint.CHAT_COMPLETIONS).feed(STREAM)]
    for seed in range(200):
        rng = random.Random(seed)
        parser = adapter.new_stream_parser(Endpoint.CHAT_COMPLETIONS)
        raws: list[bytes] = []
        position = 0
        while position < len(STREAM):
            step = rng.randint(1, 23)
            raws.extend(event.raw for event in parser.feed(STREAM[position : position + step]))
            position += step
        assert raws == expected, f"seed {seed}"
        assert parser.usage == Usage(11, 5, 4, 2)


def test_stream_cut_short_is_visible() -> None:
    parser = get_adapter("openai").new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    parser.feed(STREAM[: STREAM.index(b"data: [DONE]")])
    assert not parser.saw_done
    assert parser.usage == Usage(11, 5, 4, 2)


def test_model_alias_rewrites_only_when_requested() -> None:
    adapter = get_adapter("openai")
    untouched = adapter.new_stream_parser(Endpoint.CHAT_COMPLETIONS).feed(STREAM)
    assert all(b"gpt-4o-2024-08-06" in event.raw for event in untouched[:-1])
    aliased = adapter.new_stream_parser(Endpoint.CHAT_COMPLETIONS, model_alias="smart").feed(STREAM)
    for event in aliased[:-1]:
        assert isinstance(event.data, dict)
        assert event.data["model"] == "smart"
        assert orjson.loads(event.raw.removeprefix(b"data: "))["model"] == "smart"
        assert event.raw.endswith(b"\n\n")
    assert aliased[-1].raw == b"data: [DONE]\n\n"


def test_comments_and_non_json_data_pass_through() -> None:
    events = (
        get_adapter("openai")
        .new_stream_parser(Endpoint.CHAT_COMPLETIONS)
        .feed(b": OPENROUTER PROCESSING\n\ndata: not json\n\n")
    )
    assert [(event.raw, event.data) for event in events] == [
        (b": OPENROUTER PROCESSING\n\n", None),
        (b"data: not json\n\n", None),
    ]


def test_mid_stream_error_is_reported_not_retryable() -> None:
    events = (
        get_adapter("openai")
        .new_stream_parser(Endpoint.CHAT_COMPLETIONS)
        .feed(chunk({"error": {"message": "overloaded", "type": "server_error", "code": None}}))
    )
    error = events[0].error
    assert error is not None
    assert (error.status, error.message, error.type, error.retryable) == (
        502,
        "overloaded",
        "server_error",
        False,
    )
