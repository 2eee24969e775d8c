"""The HTTP client to providers and the one place transport failures become gateway errors.

`PooledUpstream` sends an adapter's `UpstreamRequest` over a pooled HTTP/1.1 keep-alive
connection (`upstream_pool.py`; one pool per process; HTTP/2 multiplexing buys nothing against
providers that answer one request per stream and costs CPU) and hands back an `Answer`
(`upstream_answer.py`): the status, the headers and the body, read whole by the call for a sync
answer or streamed from the connection, decoded from gzip or deflate.

Why not a general-purpose client: per call, on this machine, `httpx.AsyncClient` cost ≈230 µs of
CPU and aiohttp ≈115-120 µs, for URL objects, header multidicts, cookie jars, redirect, auth and
tracing hooks and timer objects the gateway does not use; this pool, with httptools parsing the
answers, costs ≈35 µs for the same call, its `Answer` included (docs/performance.md, "Upstream
client"; `python -m gateway_bench.client_loop`).

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

from dataclasses import dataclass
from typing import Protocol

import httpx
from gateway_providers import UpstreamRequest

from gateway_proxy.errors import GatewayError, UpstreamFailed, UpstreamTimeout
from gateway_proxy.settings import ProxySettings
from gateway_proxy.upstream_answer import Answer, UpstreamAnswer
from gateway_proxy.upstream_pool import Connection, Pool, Target, is_retryable, parse_target

USER_AGENT = "open-model-gateway/0.1"
# What httpx decodes for the forwarder.
_ACCEPTED_ENCODINGS = "gzip, deflate"
# Parsed URLs are reused: a deployment's URL repeats on every request.
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
    JSON answer, which the forwarder reads whole anyway): the answer comes with its `content`;
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

    async def send(self, request: UpstreamRequest, options: SendOptions) -> UpstreamAnswer:
        """Send `request`; the answer's body streams as it is read and must be closed."""
        ...

    async def aclose(self) -> None:
        """Close the connection pool."""
        ...


class PooledUpstream:
    """The process's pool of provider connections (see the module docstring)."""

    def __init__(self, *, max_connections: int, max_idle: int, keepalive_expiry_s: float) -> None:
        self._pool = Pool(
            max_connections=max_connections,
            max_idle=max_idle,
            keepalive_expiry_s=keepalive_expiry_s,
            ssl_context=httpx.create_ssl_context(trust_env=False),
        )
        self._targets: dict[str, Target] = {}

    @property
    def open_connections(self) -> int:
        """Connections open now, idle or in use."""
        return self._pool.open_connections

    async def send(self, request: UpstreamRequest, options: SendOptions) -> UpstreamAnswer:
        """Send `request` as `options` say; the body streams as it is read and must be closed."""
        target = self._target(request.url)
        head = _head(request, target, stream=options.stream)
        while True:
            connection = await self._pool.acquire(target.origin, options.connect_s)
            try:
                await connection.request(head, request.body, options.read_s, whole=options.buffered)
                break
            except httpx.TransportError:
                retry = is_retryable(request.method, connection)
                self._pool.release(connection)
                if not retry:
                    raise
            except BaseException:
                self._pool.release(connection)
                raise
        status, headers = connection.status, connection.headers
        if options.buffered and status < 400:  # `request` waited for the whole answer
            content = connection.take_body()
            self._pool.release(connection)
            return Answer(status, headers, content=content)
        return Answer(status, headers, source=_PooledSource(self._pool, connection, options.read_s))

    async def aclose(self) -> None:
        """Close every idle connection."""
        self._pool.close()

    def _target(self, url: str) -> Target:
        target = self._targets.get(url)
        if target is None:
            if len(self._targets) >= _CACHE_LIMIT:
                self._targets.clear()
            target = self._targets[url] = parse_target(url)
        return target


# Set by the pool itself, whatever the adapter says.
_FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


def _head(request: UpstreamRequest, target: Target, *, stream: bool) -> bytes:
    """The request line and headers: the adapter's, a user agent, the encodings and the framing.

    A header holding a line break (a credential pasted with its newline, say) could smuggle a
    header or a request into the connection: it is refused before anything is sent.
    """
    lines = [f"{request.method} {target.path} HTTP/1.1", f"host: {target.host_header}"]
    present: set[str] = set()
    for name, value in request.headers:
        if ":" in name:
            raise httpx.LocalProtocolError("A request header's name holds a colon.")
        lowered = name.lower()
        present.add(lowered)
        if lowered in _FRAMING_HEADERS or (stream and lowered == "accept-encoding"):
            continue
        lines.append(f"{name}: {value}")
    if "user-agent" not in present:
        lines.append(_USER_AGENT_LINE)
    if stream:
        lines.append("accept-encoding: identity")
        if "accept" not in present:
            lines.append("accept: text/event-stream")
    elif "accept-encoding" not in present:
        lines.append(_ACCEPT_ENCODING_LINE)
    if request.body is not None or request.method not in _BODYLESS_METHODS:
        lines.append(f"content-length: {len(request.body or b'')}")
    text = "\r\n".join(lines)
    breaks = len(lines) - 1  # only the ones between the lines
    if text.count("\n") != breaks or text.count("\r") != breaks:
        raise httpx.LocalProtocolError("A request header holds a line break.")
    return (text + "\r\n\r\n").encode()


_USER_AGENT_LINE = f"user-agent: {USER_AGENT}"
_ACCEPT_ENCODING_LINE = f"accept-encoding: {_ACCEPTED_ENCODINGS}"


class _PooledSource:
    """A streamed answer's body, read from its pooled connection.

    Closing it returns the connection to the pool when the body was read to its end and closes
    the connection otherwise (a client that left mid-stream: the provider sees the hang-up).
    """

    __slots__ = ("_connection", "_pool", "_read_s")

    def __init__(self, pool: Pool, connection: Connection, read_s: float) -> None:
        self._pool = pool
        self._connection: Connection | None = connection
        self._read_s = read_s

    async def read(self) -> bytes:
        connection = self._connection
        return b"" if connection is None else await connection.read_chunk(self._read_s)

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._pool.release(connection)


def create_upstream(settings: ProxySettings) -> PooledUpstream:
    """The pooled upstream the lifespan owns (`upstream_tracing.traced` wraps it when tracing is on)."""
    return PooledUpstream(
        max_connections=settings.upstream_max_connections,
        max_idle=settings.upstream_max_keepalive,
        keepalive_expiry_s=settings.upstream_keepalive_expiry_s,
    )


def transport_error(exc: Exception, provider: str) -> GatewayError:
    """Translate an httpx failure or a missed deadline into the client's error (504 timeout, else 502)."""
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return UpstreamTimeout(f"The upstream provider `{provider}` did not answer in time.")
    return UpstreamFailed(
        f"The upstream provider `{provider}` could not be reached.", code="upstream_unreachable"
    )
