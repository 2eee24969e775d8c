"""The SSE relay: event-by-event forwarding, usage-chunk stripping, and never a silent end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from gateway_providers import Endpoint, get_adapter
from gateway_proxy.relay import SSERelayResponse, StreamOutcome, StreamStartFailed, start_stream
from starlette.types import Message

CHUNK = (
    b'data: {"id":"c1","object":"chat.completion.chunk",'
    b'"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}\n\n'
)
USAGE = (
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[],'
    b'"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n'
)
DONE = b"data: [DONE]\n\n"
ROLE = (
    b'data: {"id":"c1","object":"chat.completion.chunk",'
    b'"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n'
)
OVERLOADED = b'data: {"error":{"message":"overloaded","type":"server_error","code":"overloaded"}}\n\n'


class Upstream(httpx.AsyncByteStream):
    """An upstream body: yields the given pieces (with optional pauses or a failure), records close."""

    def __init__(self, *pieces: bytes | float | Exception) -> None:
        self.pieces = pieces
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            if isinstance(piece, float):
                await asyncio.sleep(piece)
            elif isinstance(piece, Exception):
                raise piece
            else:
                yield piece

    async def aclose(self) -> None:
        self.closed = True


class Client:
    """The ASGI side: collects what was sent; `leave()` makes receive() report a disconnect."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.gone = asyncio.Event()
        self.first_body = asyncio.Event()

    async def receive(self) -> Message:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            self.first_body.set()

    def leave(self) -> None:
        self.gone.set()

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")

    @property
    def finished(self) -> bool:
        last = self.messages[-1]
        return last["type"] == "http.response.body" and last.get("more_body") is False


async def relay(
    upstream: Upstream, *, include_usage: bool, total_s: float = 5.0, client: Client | None = None
) -> tuple[Client, StreamOutcome, SSERelayResponse]:
    client = client or Client()
    outcomes: list[StreamOutcome] = []

    async def on_finish(outcome: StreamOutcome) -> None:
        outcomes.append(outcome)

    response = httpx.Response(200, stream=upstream, headers={"content-type": "text/event-stream"})
    parser = get_adapter("openai").new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    deadline = asyncio.get_running_loop().time() + total_s
    start = await start_stream(response, parser, deadline)
    relay_response = SSERelayResponse(
        response, parser, start, include_usage=include_usage, deadline=deadline, on_finish=on_finish
    )
    scope = {"type": "http", "asgi": {"spec_version": "2.3"}}
    await relay_response(scope, client.receive, client.send)
    assert len(outcomes) == 1
    return client, outcomes[0], relay_response


def error_of(body: bytes) -> dict[str, object]:
    last = body.strip().split(b"\n\n")[-1]
    assert last.startswith(b"data: ")
    error = orjson.loads(last[len(b"data: ") :])["error"]
    assert isinstance(error, dict)
    return error


async def test_usage_chunk_is_dropped_when_the_client_did_not_ask() -> None:
    upstream = Upstream(CHUNK, CHUNK, USAGE, DONE)
    client, outcome, _ = await relay(upstream, include_usage=False)
    assert client.body == CHUNK + CHUNK + DONE
    assert client.messages[0]["status"] == 200
    assert client.finished
    assert upstream.closed
    assert outcome.error_code == ""
    assert not outcome.client_disconnected


async def test_usage_chunk_is_kept_when_the_client_asked() -> None:
    client, _, _ = await relay(Upstream(CHUNK, USAGE, DONE), include_usage=True)
    assert client.body == CHUNK + USAGE + DONE


async def test_events_split_across_chunks_are_forwarded_whole_and_in_order() -> None:
    whole = CHUNK + USAGE + DONE
    pieces = [whole[i : i + 7] for i in range(0, len(whole), 7)]
    client, _, _ = await relay(Upstream(*pieces), include_usage=True)
    assert client.body == whole
    # Never a partial event on the wire: every body message ends at an event boundary.
    for message in client.messages[1:]:
        body = message.get("body", b"")
        assert body == b"" or body.endswith(b"\n\n")


async def test_each_event_is_sent_as_soon_as_it_arrives() -> None:
    client = Client()
    task = asyncio.create_task(relay(Upstream(CHUNK, 10.0, DONE), include_usage=False, client=client))
    await asyncio.wait_for(client.first_body.wait(), 1.0)
    assert client.body == CHUNK
    client.leave()
    await task


async def test_an_upstream_that_ends_without_done_gets_an_error_event() -> None:
    client, outcome, _ = await relay(Upstream(CHUNK), include_usage=False)
    assert client.body.startswith(CHUNK)
    assert error_of(client.body)["code"] == "upstream_stream_interrupted"
    assert client.finished
    assert outcome.error_code == "upstream_stream_interrupted"


async def test_a_transport_failure_mid_stream_gets_an_error_event() -> None:
    upstream = Upstream(CHUNK, httpx.RemoteProtocolError("peer closed connection"))
    client, _outcome, _ = await relay(upstream, include_usage=False)
    assert error_of(client.body) == {
        "message": "The upstream stream was interrupted.",
        "type": "server_error",
        "param": None,
        "code": "upstream_stream_interrupted",
    }
    assert upstream.closed


async def test_idle_timeout_gets_a_timeout_error_event() -> None:
    upstream = Upstream(CHUNK, httpx.ReadTimeout("idle"))
    client, outcome, _ = await relay(upstream, include_usage=False)
    error = error_of(client.body)
    assert error["code"] == "stream_idle_timeout"
    assert error["type"] == "timeout_error"
    assert outcome.error_code == "stream_idle_timeout"


async def test_total_deadline_ends_a_stream_that_keeps_going() -> None:
    upstream = Upstream(CHUNK, 0.2, CHUNK, 0.2, CHUNK, 0.2, DONE)
    client, _outcome, _ = await relay(upstream, include_usage=False, total_s=0.3)
    assert error_of(client.body)["code"] == "stream_total_timeout"
    assert client.finished
    assert upstream.closed


async def test_an_upstream_error_event_is_forwarded_not_doubled() -> None:
    error_event = b'data: {"error":{"message":"overloaded","type":"server_error","code":"overloaded"}}\n\n'
    client, outcome, _ = await relay(Upstream(CHUNK, error_event), include_usage=False)
    assert client.body == CHUNK + error_event
    assert outcome.error_code == "overloaded"


@pytest.mark.parametrize(
    ("end", "code"), [(DONE, ""), (OVERLOADED, "overloaded")], ids=["done", "error-event"]
)
async def test_nothing_after_the_end_of_the_stream_is_relayed_counted_or_waited_for(
    end: bytes, code: str
) -> None:
    late = CHUNK.replace(b'"hi"', b'"late"')
    # After the end, more in the same chunk, more later, and an upstream that never hangs up.
    upstream = Upstream(CHUNK, end + late, late, 30.0)
    client, outcome, _ = await asyncio.wait_for(relay(upstream, include_usage=False), 5.0)
    assert client.body == CHUNK + end
    assert client.finished
    assert outcome.streamed_text == ["hi"]
    assert outcome.error_code == code
    assert upstream.closed


async def test_the_end_in_the_held_back_prelude_ends_the_relay_at_once() -> None:
    upstream = Upstream(ROLE + CHUNK + DONE + CHUNK, 30.0)
    client, outcome, _ = await asyncio.wait_for(relay(upstream, include_usage=False), 5.0)
    assert client.body == ROLE + CHUNK + DONE
    assert outcome.error_code == ""


async def _relaying_a_slow_stream(
    client: Client, upstream: Upstream
) -> asyncio.Task[tuple[Client, StreamOutcome, SSERelayResponse]]:
    """A relay in its own task, once its first event reached the client."""
    task = asyncio.create_task(relay(upstream, include_usage=False, client=client))
    await asyncio.wait_for(client.first_body.wait(), 1.0)
    return task


async def test_client_disconnect_cancels_the_relay_and_closes_upstream() -> None:
    client = Client()
    upstream = Upstream(CHUNK, 30.0, DONE)
    task = await _relaying_a_slow_stream(client, upstream)
    client.leave()
    _, outcome, _ = await asyncio.wait_for(task, 1.0)
    assert outcome.client_disconnected
    assert outcome.error_code == "client_disconnected"
    assert outcome.events_sent == 1
    assert upstream.closed


async def test_a_cancellation_from_outside_is_not_taken_for_a_disconnect() -> None:
    """The relay runs in the request's task: a shutdown's cancel still ends that task."""
    upstream = Upstream(CHUNK, 30.0, DONE)
    task = await _relaying_a_slow_stream(Client(), upstream)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1.0)
    assert upstream.closed


async def test_a_disconnect_after_the_stream_ended_cancels_nothing() -> None:
    """Once the relay has finished, the watcher may no longer cancel the request's task."""
    client = Client()
    _, outcome, _ = await relay(Upstream(CHUNK, DONE), include_usage=False, client=client)
    client.leave()
    await asyncio.sleep(0.05)  # would raise CancelledError if the finished watcher still acted
    assert not outcome.client_disconnected
    assert client.finished


async def test_a_failed_send_counts_as_a_disconnect() -> None:
    class BrokenClient(Client):
        async def send(self, message: Message) -> None:
            if message["type"] == "http.response.body":
                raise OSError("connection reset")
            await super().send(message)

    upstream = Upstream(CHUNK, DONE)
    _, outcome, _ = await relay(upstream, include_usage=False, client=BrokenClient())
    assert outcome.client_disconnected
    assert upstream.closed


async def start(upstream: Upstream, total_s: float = 5.0) -> None:
    response = httpx.Response(200, stream=upstream, headers={"content-type": "text/event-stream"})
    parser = get_adapter("openai").new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    await start_stream(response, parser, asyncio.get_running_loop().time() + total_s)


async def test_the_role_only_opening_chunk_is_held_back_and_sent_with_the_first_content() -> None:
    client, _, _ = await relay(Upstream(ROLE, CHUNK, DONE), include_usage=False)
    assert client.body == ROLE + CHUNK + DONE
    # ROLE and CHUNK reach the client together, in the first body message.
    assert client.messages[1]["body"] == ROLE + CHUNK


@pytest.mark.parametrize(
    ("pieces", "code"),
    [
        ((ROLE,), "upstream_stream_interrupted"),  # ended before any content
        ((ROLE, httpx.RemoteProtocolError("peer closed")), "upstream_stream_interrupted"),
        ((httpx.ReadTimeout("idle"),), "stream_idle_timeout"),
        ((ROLE, OVERLOADED), "overloaded"),  # an error event before the first content
    ],
)
async def test_a_stream_that_fails_before_its_first_content_can_still_fail_over(
    pieces: tuple[bytes | Exception, ...], code: str
) -> None:
    with pytest.raises(StreamStartFailed) as failed:
        await start(Upstream(*pieces))
    assert failed.value.code == code
    assert (failed.value.error is not None) == (code == "overloaded")


async def test_a_stream_that_sends_nothing_before_the_deadline_fails_to_start() -> None:
    with pytest.raises(StreamStartFailed) as failed:
        await start(Upstream(ROLE, 1.0, CHUNK), total_s=0.2)
    assert failed.value.code == "stream_total_timeout"


async def test_events_after_the_committing_one_in_the_same_chunk_are_all_relayed() -> None:
    client, outcome, _ = await relay(Upstream(ROLE + CHUNK + CHUNK + USAGE + DONE), include_usage=False)
    assert client.body == ROLE + CHUNK + CHUNK + DONE
    assert outcome.error_code == ""
