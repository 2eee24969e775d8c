"""Relaying a binary upstream body (speech audio) to the client chunk by chunk, unbuffered.

`BytesRelayResponse` owns an open upstream answer (`UpstreamAnswer`): it answers with the upstream's
status and content type, then sends each chunk as it arrives, so the first audio bytes reach
the client while the provider is still producing the rest. A client that leaves cancels the
relay (the upstream response is closed). An upstream that fails or stalls mid-body cannot be
reported after the 200, so the relay aborts the connection instead of ending the body cleanly:
the client sees an incomplete chunked body, never a silently truncated "complete" file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway_proxy.relay import StreamOutcome, run_until_disconnect
from gateway_proxy.upstream_answer import UpstreamAnswer


class UpstreamBodyAborted(Exception):
    """The upstream body failed after the response started; the server aborts the connection."""


class BytesRelayResponse(Response):
    """Streams an upstream body of any content type to the client; see the module docstring."""

    def __init__(
        self,
        upstream: UpstreamAnswer,
        *,
        deadline: float,
        on_finish: Callable[[StreamOutcome], None],
    ) -> None:
        self.status_code = upstream.status_code
        self.background = None
        self.media_type = upstream.headers.get("content-type", "application/octet-stream")
        self.init_headers({})
        self._upstream = upstream
        self._deadline = deadline
        self._on_finish = on_finish

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outcome = StreamOutcome()
        disconnected = True
        try:
            disconnected = await run_until_disconnect(self._relay(send, outcome), receive)
        finally:
            outcome.client_disconnected = disconnected
            if disconnected and not outcome.error_code:
                outcome.error_code = "client_disconnected"
            try:
                self._on_finish(outcome)
            finally:
                await self._upstream.aclose()
        if outcome.error_code and not disconnected:
            raise UpstreamBodyAborted(outcome.error_code)

    async def _relay(self, send: Send, outcome: StreamOutcome) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        try:
            async with asyncio.timeout_at(self._deadline):
                async for chunk in self._upstream.aiter_bytes():
                    if outcome.first_event_at is None:
                        outcome.first_event_at = time.perf_counter()
                    outcome.events_sent += 1
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except (TimeoutError, httpx.TimeoutException):
            outcome.error_code = "upstream_timeout"
            return
        except (httpx.TransportError, httpx.StreamError):
            outcome.error_code = "upstream_stream_interrupted"
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})
