"""The SSE splitter must give the same events however the byte stream is chunked."""

from __future__ import annotations

import random

import pytest
from gateway_providers.sse import SSEError, SSESplitter

STREAM = (
    b": keep-alive\n\n"
    b'data: {"text": "h\xc3\xa9llo \xf0\x9f\x91\x8b"}\n\n'
    b"event: delta\r\n"
    b'data: {"a":\r\n'
    b"data: 1}\r\n\r\n"
    b"\n\n"  # stray blank lines between events are not events
    b"data: lone-cr\r\r"
    b"data: [DONE]\n\n"
)
EXPECTED_DATA = [None, '{"text": "héllo 👋"}', '{"a":\n1}', "lone-cr", "[DONE]"]


def split_randomly(data: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(data)), rng.randint(1, min(40, len(data) - 1))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def feed_all(chunks: list[bytes]) -> list[tuple[bytes, str | None, str | None]]:
    splitter = SSESplitter()
    events = [event for chunk in chunks for event in splitter.feed(chunk)]
    assert splitter.pending_bytes == 0
    return [(event.raw, event.event, event.data) for event in events]


def test_whole_stream_at_once() -> None:
    events = feed_all([STREAM])
    assert [data for _, _, data in events] == EXPECTED_DATA
    assert [name for _, name, _ in events] == [None, None, "delta", None, None]
    assert events[2][0] == b'event: delta\r\ndata: {"a":\r\ndata: 1}\r\n\r\n'
    assert events[3][0] == b"data: lone-cr\r\r"


def test_random_chunk_boundaries_give_identical_events() -> None:
    expected = feed_all([STREAM])
    for seed in range(500):
        assert feed_all(split_randomly(STREAM, random.Random(seed))) == expected, f"seed {seed}"


LF_STREAM = (
    b"\n: keep-alive\n\n"
    b'data: {"text": "h\xc3\xa9llo"}\n\n'
    b"\n\n"
    b"event: delta\n"
    b'data: {"a":\n'
    b"data: 1}\n\n"
    b"data: [DONE]\n\n"
)


def test_lf_only_streams_split_anywhere_give_the_line_by_line_events() -> None:
    """LF-only buffers take the whole-event fast path; a CR anywhere forces the line-by-line one."""
    expected = [(b": keep-alive\n\n", None, None)] + [
        (raw, name, data) for raw, name, data in feed_all([LF_STREAM.replace(b"\n", b"\r\n")])[1:]
    ]
    expected = [(raw.replace(b"\r\n", b"\n"), name, data) for raw, name, data in expected]
    assert [data for _, _, data in expected] == [None, '{"text": "héllo"}', '{"a":\n1}', "[DONE]"]
    assert feed_all([LF_STREAM]) == expected
    for seed in range(300):
        assert feed_all(split_randomly(LF_STREAM, random.Random(seed))) == expected, f"seed {seed}"


def test_one_byte_at_a_time() -> None:
    assert feed_all([STREAM[i : i + 1] for i in range(len(STREAM))]) == feed_all([STREAM])


def test_raw_bytes_concatenate_to_the_input_minus_stray_blank_lines() -> None:
    raw = b"".join(event for event, _, _ in feed_all([STREAM]))
    assert raw == STREAM.replace(b"\r\n\r\n\n\n", b"\r\n\r\n")


def test_cr_at_chunk_end_waits_for_possible_lf() -> None:
    splitter = SSESplitter()
    assert splitter.feed(b"data: x\r\n\r") == []
    events = splitter.feed(b"\n")
    assert [event.raw for event in events] == [b"data: x\r\n\r\n"]


def test_incomplete_trailing_event_is_not_emitted() -> None:
    splitter = SSESplitter()
    assert [e.data for e in splitter.feed(b"data: a\n\ndata: b\n")] == ["a"]
    assert splitter.pending_bytes == len(b"data: b\n")


def test_leading_bom_is_ignored_even_when_split() -> None:
    splitter = SSESplitter()
    assert splitter.feed(b"\xef\xbb") == []
    events = splitter.feed(b"\xbfdata: x\n\n")
    assert [(e.raw, e.data) for e in events] == [(b"data: x\n\n", "x")]


def test_field_without_space_and_data_without_value() -> None:
    events = SSESplitter().feed(b"data:x\ndata\n\n")
    assert events[0].data == "x\n"


def test_oversized_event_is_refused() -> None:
    splitter = SSESplitter(max_event_bytes=16)
    with pytest.raises(SSEError):
        splitter.feed(b"data: " + b"x" * 32)
