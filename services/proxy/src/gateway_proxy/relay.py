"""Relaying an upstream SSE stream to the client, event by event, and never silently.

`start_stream` reads an upstream stream up to its first event that commits to an answer (text,
a tool call, a finish, usage or the end marker); the role-only opening chunk and comments are
held back. Until then nothing has reached the client, so a failure — an error event, a cut
connection, an idle upstream — raises `StreamStartFailed` and the forwarder fails over.

`SSERelayResponse` is an ASGI response that owns an open upstream answer (`UpstreamAnswer`) and the
events `start_stream` held back:

- each upstream chunk goes through the adapter's incremental parser and every completed event
  is sent at once (the exact upstream bytes; nothing is buffered beyond one partial event);
- the relay ends at `[DONE]` or at an error event (relayed; OpenAI ends a stream after one):
  whatever the upstream sends after it is neither sent nor counted, and is not read;
- the trailing usage-only chunk is dropped when the client did not ask for usage (the proxy
  forces `include_usage` upstream so it always knows the tokens);
- an idle gap longer than the stream idle timeout, the total deadline, a transport failure,
  or an upstream that ends without `[DONE]` appends one OpenAI-shaped SSE error event;
- a client disconnect (`http.disconnect`, or a failed send) cancels the relay at once;
- in every case the upstream response is closed and `on_finish` gets the outcome, so the
  usage event records what was streamed (with `client_disconnected`); it is awaited, since
  counting a stream that ended without usage may first wait for the token estimator's load.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field

import httpx
from gateway_providers import ProviderError, StreamEvent, StreamParser
from gateway_providers.sse import SSEError
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway_proxy.errors import sse_error_event
from gateway_proxy.tokens import append_choice_text
from gateway_proxy.upstream_answer import UpstreamAnswer

log = logging.getLogger(__name__)

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


@dataclass(slots=True)
class StreamOutcome:
    """How a relayed stream ended."""

    events_sent: int = 0
    first_event_at: float | None = None  # perf_counter of the first event sent
    error_code: str = ""
    upstream_error: ProviderError | None = None
    client_disconnected: bool = False
    done: bool = False  # `[DONE]` or an error event was relayed: whatever comes after it is not
    # The generated text relayed so far, for a token estimate when the provider's usage never came.
    streamed_text: list[str] = field(default_factory=list)


# Events held back before the stream commits; an upstream that sends more preamble commits anyway.
_MAX_PRELUDE_EVENTS = 16


@dataclass(slots=True)
class StreamStart:
    """An upstream stream that has committed: the rest of its bytes and the events held back."""

    chunks: AsyncIterator[bytes]
    prelude: list[StreamEvent]
    first_event_at: float  # perf_counter when the committing event arrived


class StreamStartFailed(Exception):
    """The upstream stream failed before its first committing event (nothing was sent)."""

    def __init__(self, code: str, message: str, error: ProviderError | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.error = error


async def start_stream(upstream: UpstreamAnswer, parser: StreamParser, deadline: float) -> StreamStart:
    """Read `upstream` until it commits to an answer; raise StreamStartFailed if it fails first."""
    chunks = upstream.aiter_bytes()
    prelude: list[StreamEvent] = []
    committed = False
    try:
        async with asyncio.timeout_at(deadline):
            async for chunk in chunks:
                # Every event of the chunk is kept: those after the committing one are relayed too.
                for event in parser.feed(chunk):
                    if event.error is not None and not committed:
                        raise StreamStartFailed(
                            event.error.code or event.error.type, event.error.message, event.error
                        )
                    prelude.append(event)
                    committed = committed or _commits(event)
                if committed or len(prelude) >= _MAX_PRELUDE_EVENTS:
                    return StreamStart(chunks, prelude, time.perf_counter())
    except TimeoutError as exc:
        raise StreamStartFailed("stream_total_timeout", "The stream exceeded the total time limit.") from exc
    except httpx.ReadTimeout as exc:
        raise StreamStartFailed("stream_idle_timeout", "The upstream sent no event in time.") from exc
    except (httpx.TransportError, httpx.StreamError, SSEError) as exc:
        raise StreamStartFailed(
            "upstream_stream_interrupted", "The upstream stream broke before its first event."
        ) from exc
    raise StreamStartFailed(
        "upstream_stream_interrupted", "The upstream stream ended before its first event."
    )


def _commits(event: StreamEvent) -> bool:
    """Whether relaying `event` commits the answer (anything beyond an empty opening chunk)."""
    if event.is_done or event.usage is not None:
        return True
    data = event.data
    if not isinstance(data, dict):
        return False
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        return bool(data) and "choices" not in data  # another endpoint's event shape
    return any(_choice_commits(choice) for choice in choices if isinstance(choice, dict))


def _choice_commits(choice: Mapping[str, object]) -> bool:
    if choice.get("finish_reason") or choice.get("text"):
        return True
    delta = choice.get("delta")
    if not isinstance(delta, dict):
        return False
    return bool(
        delta.get("content") or delta.get("tool_calls") or delta.get("refusal") or delta.get("function_call")
    )


def select_events(events: Sequence[StreamEvent], *, include_usage: bool, outcome: StreamOutcome) -> bytes:
    """The bytes to forward for `events`: all of them up to the stream's end, minus the
    usage-only chunk if unwanted. The end is `[DONE]` or an error event (OpenAI ends a stream
    after one); nothing after it is part of the answer, so it is neither sent nor counted
    (`outcome.done` tells the relay to stop reading)."""
    parts: list[bytes] = []
    for event in events:
        if outcome.done:
            break
        if event.is_done:
            outcome.done = True
        if event.is_usage_only and not include_usage:
            continue
        if event.error is not None:
            outcome.upstream_error = event.error
            outcome.done = True
        if isinstance(event.data, dict):
            append_choice_text(event.data, outcome.streamed_text)
        parts.append(event.raw)
    outcome.events_sent += len(parts)
    return b"".join(parts)


class SSERelayResponse(Response):
    """Streams an upstream SSE response to the client; see the module docstring."""

    media_type = "text/event-stream"
    charset = "utf-8"

    def __init__(
        self,
        upstream: UpstreamAnswer,
        parser: StreamParser,
        start: StreamStart,
        *,
        include_usage: bool,
        deadline: float,
        on_finish: Callable[[StreamOutcome], Awaitable[None]],
    ) -> None:
        self.status_code = 200
        self.background = None
        self.init_headers(SSE_HEADERS)
        self._upstream = upstream
        self._parser = parser
        self._start = start
        self._include_usage = include_usage
        self._deadline = deadline  # event-loop time at which the stream is cut off
        self._on_finish = on_finish

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outcome = StreamOutcome()
        disconnected = True  # unless the relay finishes: a cancellation means the client left
        try:
            disconnected = await run_until_disconnect(self._relay(send, outcome), receive)
        finally:
            outcome.client_disconnected = disconnected
            if outcome.client_disconnected and not outcome.error_code:
                outcome.error_code = "client_disconnected"
            try:
                await self._on_finish(outcome)
            finally:
                await self._upstream.aclose()

    async def _relay(self, send: Send, outcome: StreamOutcome) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        tail: bytes | None = None
        first = select_events(self._start.prelude, include_usage=self._include_usage, outcome=outcome)
        if first:
            outcome.first_event_at = self._start.first_event_at
            await send({"type": "http.response.body", "body": first, "more_body": True})
        try:
            if not outcome.done:  # the prelude may already hold the end marker: read no further
                await self._relay_rest(send, outcome)
        except TimeoutError:
            tail = self._fail(
                outcome, "stream_total_timeout", "The stream exceeded the gateway's total time limit."
            )
        except httpx.ReadTimeout:
            tail = self._fail(
                outcome, "stream_idle_timeout", "The upstream provider stopped sending events (idle timeout)."
            )
        except (httpx.TransportError, httpx.StreamError, SSEError) as exc:
            log.warning("upstream stream failed: %s", exc)
            tail = self._fail(outcome, "upstream_stream_interrupted", "The upstream stream was interrupted.")
        if tail is None and outcome.upstream_error is not None:
            outcome.error_code = outcome.upstream_error.code or outcome.upstream_error.type
        elif tail is None and not self._parser.saw_done:
            tail = self._fail(
                outcome, "upstream_stream_interrupted", "The upstream stream ended before it was complete."
            )
        if tail is not None:
            await send({"type": "http.response.body", "body": tail, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _relay_rest(self, send: Send, outcome: StreamOutcome) -> None:
        """Relay the upstream's chunks as they come, until the stream's end or the upstream's."""
        async with asyncio.timeout_at(self._deadline):
            async for chunk in self._start.chunks:
                body = select_events(
                    self._parser.feed(chunk), include_usage=self._include_usage, outcome=outcome
                )
                if body:
                    if outcome.first_event_at is None:
                        outcome.first_event_at = time.perf_counter()
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                if outcome.done:
                    return

    @staticmethod
    def _fail(outcome: StreamOutcome, code: str, message: str) -> bytes:
        outcome.error_code = code
        error_type = "timeout_error" if code.endswith("timeout") else "server_error"
        return sse_error_event(message, type=error_type, code=code)


async def run_until_disconnect(work: Coroutine[None, None, None], receive: Receive) -> bool:
    """Run `work` (the body relay) until it ends or the client leaves; True if the client left.

    The client leaving is `http.disconnect` or an OSError from a send to a gone client; either
    ends the relay at once, which closes the upstream read in progress. The relay runs in the
    request's own task; only the watcher is a task of its own, and on a disconnect it cancels
    the request's task, whose cancellation is then taken back here (no task or wait per relay).
    """
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("a relay runs in the request's task")
    state = _Watch(task)
    watcher = asyncio.create_task(_wait_for_disconnect(receive))
    watcher.add_done_callback(state.on_watcher_done)
    try:
        await work
    except asyncio.CancelledError:
        # Taken back only when it is the watcher's; any other cancellation goes on.
        if not state.left or task.uncancel() > 0:
            raise
        return True
    except OSError:  # the server could not write to a client that went away
        return True
    finally:
        state.finished = True
        watcher.cancel()
    return False


@dataclass(slots=True)
class _Watch:
    """The disconnect watcher's view of one relay: cancel it if the client leaves first."""

    task: asyncio.Task[object]
    left: bool = False
    finished: bool = False

    def on_watcher_done(self, watcher: asyncio.Task[None]) -> None:
        if self.finished or watcher.cancelled():
            return
        watcher.exception()  # retrieved: a receive that failed means the client is gone too
        self.left = True
        self.task.cancel()


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
