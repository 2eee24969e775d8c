"""A provider that answers anything: generated responses, and what the client and accounting get.

The provider is a raw HTTP server in the test that answers each request with bytes Hypothesis
generated, written in pieces, and then hangs up:
- streams: valid chunks, usage chunks with any counts (negative, past int64, strings), error
  events, `[DONE]`, comments, other SSE fields, data that is not JSON, CRLF line ends, and
  streams cut anywhere;
- sync answers: completions with any usage, JSON that is not a completion, bytes that are not
  JSON, truncated bodies, error statuses with or without OpenAI's error body, three framings.

For each request:
- the client gets a 200, or an error in OpenAI's shape with an `x-request-id`;
- a 200 stream ends with `[DONE]` or with an SSE error event: never a silent truncation;
- accounting gets exactly one usage event for each request the provider saw, none for the
  others, and every count in those events is one a request can have.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import httpx
import pytest
from gateway_providers.usage import MAX_PLAUSIBLE_TOKENS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import FakeModel, assert_openai_error, start_and_wait

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

MODEL: Final = "demo-raw"
# Counts as a provider might (mis)report them.
_COUNTS = st.one_of(
    st.integers(min_value=-5, max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
    st.none(),
)
_DETAILS = st.fixed_dictionaries(
    {}, optional={"cached_tokens": _COUNTS, "reasoning_tokens": _COUNTS, "audio_tokens": _COUNTS}
)
USAGE = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "prompt_tokens": _COUNTS,
            "completion_tokens": _COUNTS,
            "total_tokens": _COUNTS,
            "prompt_tokens_details": _DETAILS,
            "completion_tokens_details": _DETAILS,
        },
    ),
    st.none(),
    st.text(max_size=4),
)
_TEXT = st.text(max_size=12)


def _chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "c-1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [choice]}


@st.composite
def _event(draw: st.DrawFn) -> bytes:
    kind = draw(
        st.sampled_from(
            ("content", "finish", "usage", "done", "error", "garbage", "json", "comment", "fields")
        )
    )
    data: object = None
    if kind in ("content", "fields"):
        data = _chunk({"content": draw(_TEXT)})
    elif kind == "finish":
        data = _chunk({}, "stop")
    elif kind == "usage":
        data = {"id": "c-1", "object": "chat.completion.chunk", "choices": [], "usage": draw(USAGE)}
    elif kind == "error":
        data = {"error": {"message": draw(_TEXT), "type": draw(_TEXT), "code": draw(st.none() | _TEXT)}}
    elif kind == "json":
        data = draw(st.one_of(st.lists(_TEXT, max_size=2), st.integers(), _TEXT, st.none()))
    line = draw(st.sampled_from(("\n", "\r\n"))).encode()
    if kind == "done":
        payload = b"data: [DONE]"
    elif kind == "garbage":
        payload = b"data: " + draw(st.binary(max_size=12)).replace(b"\n", b"").replace(b"\r", b"")
    elif kind == "comment":
        payload = b": keep-alive"
    else:
        payload = b"data: " + json.dumps(data).encode()
        if kind == "fields":
            payload = b"event: message" + line + b"id: 7" + line + b"retry: 10" + line + payload
    return payload + line + line


@st.composite
def stream_answers(draw: st.DrawFn) -> bytes:
    """A 200 event stream, with the proxy's forced usage chunk or not, cut anywhere or not."""
    events = draw(st.lists(_event(), max_size=8))
    body = b"".join(events)
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    return _head(200, "text/event-stream", body, framing="close") + body


@st.composite
def sync_answers(draw: st.DrawFn) -> bytes:
    """A non-streamed answer: any status, content type, framing and body."""
    status = draw(st.sampled_from((200, 200, 200, 400, 404, 429, 500, 503)))
    shape = draw(st.sampled_from(("completion", "error", "json", "bytes", "truncated")))
    completion = {
        "id": "cc-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": draw(_TEXT)}, "finish_reason": "stop"}
        ],
        "usage": draw(USAGE),
    }
    if shape == "completion":
        body = json.dumps(completion).encode()
    elif shape == "error":
        body = json.dumps({"error": {"message": draw(_TEXT), "type": draw(_TEXT)}}).encode()
    elif shape == "json":
        body = json.dumps(draw(st.one_of(st.lists(_TEXT, max_size=2), st.integers(), st.none()))).encode()
    elif shape == "bytes":
        body = draw(st.binary(max_size=24))
    else:
        full = json.dumps(completion).encode()
        body = full[: draw(st.integers(0, len(full) - 1))]
    content_type = draw(st.sampled_from(("application/json", "text/plain", "")))
    framing = draw(st.sampled_from(("length", "close", "chunked")))
    return _head(status, content_type, body, framing=framing) + _framed(body, framing)


def _head(status: int, content_type: str, body: bytes, *, framing: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "connection: close"]
    if content_type:
        lines.append(f"content-type: {content_type}")
    if framing == "length":
        lines.append(f"content-length: {len(body)}")
    elif framing == "chunked":
        lines.append("transfer-encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _framed(body: bytes, framing: str) -> bytes:
    if framing != "chunked":
        return body
    return (f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n") if body else b"0\r\n\r\n"


@dataclass
class RawProvider:
    """Answers each request with `answer` (written in `pieces` writes), then hangs up."""

    answer: bytes = b""
    pieces: int = 1
    seen: int = 0
    server: asyncio.Server | None = None
    port: int = 0
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            self.seen += 1
            answer, step = self.answer, max(1, len(self.answer) // self.pieces + 1)
            for start in range(0, len(answer), step):
                writer.write(answer[start : start + step])
                await writer.drain()
                await asyncio.sleep(0)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@dataclass
class Outcomes:
    """What the client saw, and which requests reached the provider."""

    statuses: Counter[int] = field(default_factory=Counter)
    forwarded: set[str] = field(default_factory=set)  # request ids the provider saw


def _check_stream_body(body: bytes) -> None:
    """The stream's last event is `[DONE]` or an error event: a 200 stream never just stops."""
    blocks = [block for block in body.replace(b"\r\n", b"\n").split(b"\n\n") if block.strip()]
    assert blocks, body
    data = b"\n".join(
        line[len(b"data:") :].strip() for line in blocks[-1].split(b"\n") if line.startswith(b"data:")
    )
    assert data == b"[DONE]" or _is_error(data), body


def _is_error(data: bytes) -> bool:
    try:
        payload = json.loads(data)
    except ValueError:  # not JSON (nor UTF-8)
        return False
    return isinstance(payload, dict) and isinstance(payload.get("error"), dict)


_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
async def test_whatever_the_provider_answers_the_client_gets_openai_and_accounting_one_event(
    harness: Harness, stream: bool
) -> None:
    provider = RawProvider()
    await provider.start()
    snapshot = harness.snapshot((FakeModel(MODEL),))
    snapshot.providers[0].base_url = f"http://127.0.0.1:{provider.port}/v1"
    await harness.publish_snapshot(snapshot)
    assert harness.process is not None
    # One attempt per request, and a breaker that never opens: every request meets the provider.
    harness.process.env.update(
        {
            "ROUTING_MAX_ATTEMPTS": "1",
            "BREAKER_CONSECUTIVE_FAILURES": "1000000",
            "BREAKER_MIN_REQUESTS": "1000000",
        }
    )
    await start_and_wait(harness)
    key, _ = await harness.create_key()
    body = json.dumps(
        {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    ).encode()
    outcomes = Outcomes()

    @_SETTINGS
    @given(stream_answers() if stream else sync_answers(), st.integers(1, 4))
    def check(answer: bytes, pieces: int) -> None:
        provider.answer, provider.pieces = answer, pieces
        seen_before = provider.seen
        response = http.post(
            "/v1/chat/completions",
            content=body,
            headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
        )
        outcomes.statuses[response.status_code] += 1
        request_id = response.headers.get("x-request-id")
        assert request_id
        if provider.seen > seen_before:
            outcomes.forwarded.add(request_id)
        if response.status_code != 200:
            assert_openai_error(response)
        elif stream:
            _check_stream_body(response.content)

    try:
        with httpx.Client(base_url=harness.base_url, timeout=30, trust_env=False) as http:
            await asyncio.to_thread(check)
    finally:
        await provider.stop()
    assert outcomes.statuses[200] > 0, outcomes.statuses
    assert len(outcomes.statuses) > 1, outcomes.statuses  # failures too, not only successes
    await harness.settled_usage_count(len(outcomes.forwarded), timeout_s=15)
    events = await harness.usage_events()
    assert sorted(event.request_id for event in events) == sorted(outcomes.forwarded), outcomes.statuses
    for event in events:
        usage = event.usage
        counts = (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.cached_prompt_tokens,
            usage.reasoning_tokens,
        )
        assert all(0 <= count <= MAX_PLAUSIBLE_TOKENS for count in counts), event
