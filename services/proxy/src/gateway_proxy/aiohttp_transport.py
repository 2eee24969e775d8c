"""The upstream transport: httpx's API over aiohttp's connection pool (`httpx-aiohttp`).

httpcore's pool walks every pooled connection when a request starts and again when a response
closes, and asks each idle one whether its socket is readable (anyio builds an attribute map
with a `getpeername` call, then `poll`): per request, work that grows with the pool. With 64
keep-alive connections it was most of the proxy's CPU (docs/performance.md, "Investigation").
aiohttp keeps idle connections in a per-host deque and takes one in O(1).

`httpx-aiohttp` maps aiohttp's errors to httpx's, but maps every connection error that is not a
timeout (connection refused, a server that hangs up) to `httpx.ConnectTimeout`, which the proxy
would report as a 504 timeout. `GatewayAiohttpTransport` re-maps those to the httpx errors
httpcore raised (`ConnectError`, `ReadError`, `RemoteProtocolError`), on the request and while
the body streams, so the client sees exactly what it saw with httpcore.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def _non_timeout_error(cause: BaseException) -> httpx.TransportError | None:
    """The httpx error httpcore raises for aiohttp's `cause`, or None if the mapping stands."""
    if isinstance(cause, aiohttp.ServerTimeoutError | TimeoutError):
        return None
    message = str(cause) or type(cause).__name__
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(cause, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(message)
    if isinstance(cause, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return httpx.ReadError(message)
    return None


@contextlib.contextmanager
def _remap_errors() -> Iterator[None]:
    try:
        yield
    except httpx.TransportError as exc:
        remapped = _non_timeout_error(exc.__cause__) if exc.__cause__ is not None else None
        if remapped is None:
            raise
        raise remapped from exc.__cause__
    except aiohttp.ClientError as exc:
        # Errors httpx-aiohttp does not map at all (a malformed response, say).
        remapped = _non_timeout_error(exc)
        if remapped is None:
            raise
        raise remapped from exc


class _RemappedStream(httpx.AsyncByteStream):
    """The response body stream, with the same error mapping as the request."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _remap_errors():
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        with _remap_errors():
            await self._inner.aclose()


class GatewayAiohttpTransport(AiohttpTransport):
    """`AiohttpTransport` raising the httpx errors httpcore raised (see the module docstring),
    over a session that keeps no cookies."""

    def get_client(self) -> aiohttp.ClientSession:
        """The pooled session: aiohttp's default cookie jar would store a provider's Set-Cookie
        and send it on every later request, whichever tenant makes it — so it gets none."""
        connector = aiohttp.TCPConnector(
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
            limit=self.limits.max_connections or 0,
        )
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through aiohttp's pool; the body streams as the caller reads it."""
        with _remap_errors():
            response = await super().handle_async_request(request)
        if isinstance(response.stream, httpx.AsyncByteStream):
            response.stream = _RemappedStream(response.stream)
        return response
