"""The HTTP client to providers and the one place transport failures become gateway errors.

`AiohttpUpstream` sends an adapter's `UpstreamRequest` straight through aiohttp's connection pool
(one pool per process, HTTP/1.1 keep-alive; HTTP/2 multiplexing buys nothing against providers
that answer one request per stream and costs CPU) and hands back an `httpx.Response` whose body
streams from aiohttp, so the forwarder and the relays read answers through one familiar API.

Why not `httpx.AsyncClient`: per request it parses the URL, merges base URL, headers and cookies,
and runs its auth, redirect and cookie-extraction wrappers — about 230 µs of CPU per call on this
machine against 130 µs for aiohttp alone (docs/performance.md, "Upstream client"), the largest
single share of the proxy's per-request cost. httpcore's own pool was worse still (it scans every
pooled connection twice per request). aiohttp keeps idle connections in a per-host deque.

Hygiene: requests carry exactly the adapter's headers (the client's Authorization, api-key,
x-api-key, cookies, x-request-id and anything gateway-internal are never copied, so they cannot
leak upstream), plus a user agent and the encodings the proxy can decode. Redirects are not
followed, environment proxies are not used, and the session keeps no cookies: one pool serves
every tenant, so a cookie a provider sets must never reach another request.

Errors are raised as httpx's (`ConnectError`, `ConnectTimeout`, `ReadTimeout`, `ReadError`,
`RemoteProtocolError`), on the request and while the body streams, and `transport_error` turns
them into the client's 502 or 504.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx
from gateway_providers import UpstreamRequest
from yarl import URL

from gateway_proxy.errors import GatewayError, UpstreamFailed, UpstreamTimeout
from gateway_proxy.settings import ProxySettings

USER_AGENT = "open-model-gateway/0.1"
# What httpx decodes for the forwarder (aiohttp's own decompression is off).
_ACCEPTED_ENCODINGS = "gzip, deflate"
# Parsed URLs and timeout objects are reused: a deployment's URL repeats on every request.
_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class UpstreamLabels:
    """What the proxy knows about a provider call: the provider's type and the upstream model."""

    provider: str
    model: str


@dataclass(frozen=True, slots=True)
class SendOptions:
    """How to send one provider request.

    `read_s` bounds the wait for each read: the whole answer for a sync call, the gap between two
    events (idle timeout) for a stream. `connect_s` bounds connecting and waiting for a free
    pooled connection. A `stream` asks for an uncompressed body, so no decompressor holds back
    events. `buffered` reads a successful answer's whole body before `send` returns (a sync
    JSON answer, which the forwarder reads whole anyway), skipping the streamed-body wrappers;
    an error status is still streamed, so its body is read only up to the forwarder's limit.
    `labels` are for tracing only.
    """

    connect_s: float
    read_s: float
    stream: bool = False
    buffered: bool = False
    labels: UpstreamLabels | None = None


class Upstream(Protocol):
    """What the forwarder sends provider requests through (tracing wraps it when on)."""

    async def send(self, request: UpstreamRequest, options: SendOptions) -> httpx.Response:
        """Send `request`; the answer's body streams as it is read and must be closed."""
        ...

    async def aclose(self) -> None:
        """Close the connection pool."""
        ...


class AiohttpUpstream:
    """The process's pool of provider connections (see the module docstring)."""

    def __init__(self, *, max_connections: int, keepalive_expiry_s: float) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry_s = keepalive_expiry_s
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}
        self._timeouts: dict[tuple[float, float], aiohttp.ClientTimeout] = {}

    async def send(self, request: UpstreamRequest, options: SendOptions) -> httpx.Response:
        """Send `request` as `options` say; the body streams as it is read and must be closed."""
        session = self._session if self._session is not None else self._open()
        try:
            answer = await session.request(
                request.method,
                self._url(request.url),
                headers=_headers(request.headers, stream=options.stream),
                data=request.body,
                timeout=self._timeout(options.connect_s, options.read_s),
                allow_redirects=False,
                auto_decompress=False,
                skip_auto_headers=_SKIPPED_AUTO_HEADERS,
            )
        except aiohttp.ClientError as exc:
            raise as_httpx_error(exc) from exc
        if options.buffered and answer.status < 400:
            return httpx.Response(
                answer.status, headers=answer.raw_headers, content=await _read_whole(answer)
            )
        return httpx.Response(answer.status, headers=answer.raw_headers, stream=_Body(answer))

    async def aclose(self) -> None:
        """Close every pooled connection."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            keepalive_timeout=self._keepalive_expiry_s,
            ssl=httpx.create_ssl_context(trust_env=False),
        )
        self._session = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )
        return self._session

    def _url(self, text: str) -> URL:
        url = self._urls.get(text)
        if url is None:
            if len(self._urls) >= _CACHE_LIMIT:
                self._urls.clear()
            url = self._urls[text] = URL(text)
        return url

    def _timeout(self, connect_s: float, read_s: float) -> aiohttp.ClientTimeout:
        timeout = self._timeouts.get((connect_s, read_s))
        if timeout is None:
            if len(self._timeouts) >= _CACHE_LIMIT:
                self._timeouts.clear()
            timeout = aiohttp.ClientTimeout(
                total=None, connect=connect_s, sock_connect=connect_s, sock_read=read_s
            )
            self._timeouts[(connect_s, read_s)] = timeout
        return timeout


# aiohttp would add `Content-Type: application/octet-stream` to a body the adapter left untyped.
_SKIPPED_AUTO_HEADERS = frozenset({"Content-Type"})


def _headers(adapter_headers: list[tuple[str, str]], *, stream: bool) -> list[tuple[str, str]]:
    """The adapter's headers, plus a user agent and the encodings, unless the adapter set them."""
    present = {name.lower() for name, _ in adapter_headers}
    headers = list(adapter_headers)
    if "user-agent" not in present:
        headers.append(("user-agent", USER_AGENT))
    if stream:
        headers = [(name, value) for name, value in headers if name.lower() != "accept-encoding"]
        headers.append(("accept-encoding", "identity"))
        if "accept" not in present:
            headers.append(("accept", "text/event-stream"))
    elif "accept-encoding" not in present:
        headers.append(("accept-encoding", _ACCEPTED_ENCODINGS))
    return headers


async def _read_whole(answer: aiohttp.ClientResponse) -> bytes:
    """The whole body (the connection goes back to the pool); closed on any failure or cancel."""
    try:
        return await answer.read()
    except aiohttp.ClientError as exc:
        answer.close()
        raise as_httpx_error(exc) from exc
    except BaseException:
        answer.close()
        raise


class _Body(httpx.AsyncByteStream):
    """An aiohttp response body as httpx's stream, raising httpx's errors.

    Closing it returns the connection to the pool when the body was read to its end and closes
    the connection otherwise (a client that left mid-stream: the provider sees the hang-up).
    """

    def __init__(self, answer: aiohttp.ClientResponse) -> None:
        self._answer = answer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._answer.content.iter_any():
                yield chunk
        except aiohttp.ClientError as exc:
            raise as_httpx_error(exc) from exc

    async def aclose(self) -> None:
        if self._answer.content.at_eof():
            self._answer.release()
        else:
            self._answer.close()


def as_httpx_error(exc: aiohttp.ClientError) -> httpx.TransportError:
    """The httpx error for an aiohttp failure (what httpcore raised for the same failure)."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(message)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message)
    return httpx.ReadError(message)


def create_upstream(settings: ProxySettings) -> AiohttpUpstream:
    """The pooled upstream the lifespan owns (`upstream_tracing.traced` wraps it when tracing is on)."""
    return AiohttpUpstream(
        max_connections=settings.upstream_max_connections,
        keepalive_expiry_s=settings.upstream_keepalive_expiry_s,
    )


def transport_error(exc: Exception, provider: str) -> GatewayError:
    """Translate an httpx failure or a missed deadline into the client's error (504 timeout, else 502)."""
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return UpstreamTimeout(f"The upstream provider `{provider}` did not answer in time.")
    return UpstreamFailed(
        f"The upstream provider `{provider}` could not be reached.", code="upstream_unreachable"
    )
