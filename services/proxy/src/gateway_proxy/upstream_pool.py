"""HTTP/1.1 keep-alive connections to providers, and the pool that reuses them.

The hot path's provider call, kept to what a gateway needs: one request at a time per connection,
a per-origin stack of idle connections, a cap on open connections, TLS through the event loop.
The HTTP framing (status line, headers, content-length, chunked encoding, keep-alive) is parsed by
httptools (llhttp, Node's parser). Measured against the same nginx upstream, one core, 64
concurrent calls: aiohttp ≈115-120 µs of CPU per call, this pool ≈35 µs with its `Answer`
(docs/performance.md, "Upstream client").

Errors are httpx's, as the rest of the proxy expects: `ConnectError`/`ConnectTimeout` while
connecting or waiting for a free connection, `ReadTimeout` when the provider goes silent,
`RemoteProtocolError` when it hangs up or breaks the framing, `ReadError` for a socket error.

A connection goes back to the pool only when its answer was read to the end and the provider
allows keep-alive. Closing an answer early closes its connection, so the provider sees the
hang-up (a client that left mid-stream). Idle connections expire after `keepalive_expiry_s`
and at most `max_idle` stay open. A request on a reused connection that the provider closed
before answering is retried once on a new connection only when its method is idempotent: a POST
is never sent twice.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from dataclasses import dataclass
from functools import partial
from typing import cast

import httptools
import httpx

# Above this many unread bytes of an answer the socket stops being read (backpressure on a
# provider whose stream the client reads slowly).
_HIGH_WATER = 256 * 1024
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a connection goes: scheme, host and port (the pool's key)."""

    scheme: str
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed request URL: its origin, the Host header and the request target."""

    origin: Origin
    host_header: str
    path: str


def parse_target(url: str) -> Target:
    """Split an absolute http(s) URL; anything else is httpx's UnsupportedProtocol."""
    parts = httpx.URL(url)
    scheme = parts.scheme
    if scheme not in ("http", "https") or not parts.host:
        raise httpx.UnsupportedProtocol(f"Request URL {url!r} is not an absolute http(s) URL.")
    default = 443 if scheme == "https" else 80
    port = parts.port or default
    host = parts.host
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default else f"{shown}:{port}"
    path = parts.raw_path.decode("ascii") or "/"
    return Target(Origin(scheme, host, port), host_header, path)


class Connection(asyncio.Protocol):
    """One keep-alive connection: sends a request, parses its answer, hands out its body."""

    def __init__(self, origin: Origin, loop: asyncio.AbstractEventLoop) -> None:
        self.origin = origin
        self.idle_since = 0.0
        self.used = False  # has served a request before (a stale hang-up may be retried)
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._closed = False
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._last_read = 0.0
        self._reset_answer()

    def _reset_answer(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self._head_done = False
        self._complete = False
        self._received = False  # any byte of the answer arrived
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._reading_paused = False
        self._wake_on_body = True
        self._framed = False  # content-length or chunked: the end is not the hang-up
        self._keep_alive = False
        self._error: Exception | None = None

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self._received = True
        self._last_read = self._loop.time()
        if self._complete:  # bytes after a whole answer: this connection cannot be trusted
            self._fail(httpx.RemoteProtocolError("The provider sent data after its answer."))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"Invalid HTTP answer from the provider: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.resume_writing()
        if self._complete:
            return
        if self._head_done and not self._framed and exc is None:
            self._on_end()  # an answer delimited by the connection's close
            return
        message = "The provider closed the connection before its answer was complete."
        if exc is not None:
            self._fail(httpx.ReadError(f"{message} ({exc})"))
        else:
            self._fail(httpx.RemoteProtocolError(message))

    def pause_writing(self) -> None:
        self._drain = self._loop.create_future()

    def resume_writing(self) -> None:
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)

    # -- httptools callbacks -----------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
            self.headers = []
            return
        self.status = status
        self._head_done = True
        self._framed = self._is_framed()
        if status >= 400:  # an error is never read whole: its body streams, up to a limit
            self._wake_on_body = True
        if self._wake_on_body:
            self._wake()

    def on_body(self, body: bytes) -> None:
        if not self._head_done:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._wake_on_body:
            if self._buffered > _HIGH_WATER and not self._reading_paused and self._transport is not None:
                self._reading_paused = True
                self._transport.pause_reading()
            self._wake()

    def on_message_complete(self) -> None:
        if self._head_done:
            self._keep_alive = self._parser.should_keep_alive()  # reset once this returns
            self._on_end()

    # -- the request -------------------------------------------------------------------------

    @property
    def is_usable(self) -> bool:
        """Open, between answers, and not closing."""
        return not self._closed and self._transport is not None and not self._transport.is_closing()

    @property
    def reusable(self) -> bool:
        """Its answer was read to the end and the provider keeps the connection alive."""
        return (
            self._complete
            and not self._chunks
            and self._error is None
            and self.is_usable
            and self._keep_alive
        )

    async def request(self, head: bytes, body: bytes | None, read_s: float, *, whole: bool = False) -> None:
        """Send one request and wait (up to `read_s` of silence) for its answer's head.

        With `whole`, a successful answer is waited for to its end (`take_body` then has it
        all): one wake-up instead of two. An error status returns at its head.
        """
        self._reset_answer()
        self._wake_on_body = not whole
        transport = self._transport
        if transport is None or not self.is_usable:
            raise httpx.RemoteProtocolError("The provider closed the connection.")
        self._last_read = self._loop.time()
        if body:
            transport.writelines((head, body))
        else:
            transport.write(head)
        if self._drain is not None:
            await self._wait_for(self._drain, read_s)
        while not self._head_done or not (self._wake_on_body or self._complete):
            await self._wait(read_s)

    def sent_nothing_back(self) -> bool:
        """The provider hung up before a byte of the answer: a stale pooled connection."""
        return not self._received

    def take_body(self) -> bytes:
        """The whole body of an answer `request(..., whole=True)` waited for to its end."""
        body = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return body

    async def read_chunk(self, read_s: float) -> bytes:
        """Whatever of the body has arrived (waiting for some), or b"" at its end."""
        while not self._chunks:
            if self._complete:
                return b""
            await self._wait(read_s)
        chunks = self._chunks
        chunk = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        self._resume_reading()
        return chunk

    def _resume_reading(self) -> None:
        if self._reading_paused and self._transport is not None and not self._closed:
            self._reading_paused = False
            self._transport.resume_reading()

    def close(self) -> None:
        """Hang up (the provider sees the connection close)."""
        self._closed = True
        if self._transport is not None:
            self._transport.close()

    # -- internals ---------------------------------------------------------------------------

    def _is_framed(self) -> bool:
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == b"content-length":
                return True
            if lowered == b"transfer-encoding" and b"chunked" in value.lower():
                return True
        return self.status in (204, 304)

    def _on_end(self) -> None:
        self._complete = True
        self._wake()

    def _fail(self, error: Exception) -> None:
        """Close the connection; the answer fails unless it was already whole."""
        if self._error is None and not self._complete:
            self._error = error
        self.close()
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self, read_s: float) -> None:
        if self._error is not None:
            raise self._error
        waiter = self._waiter = self._loop.create_future()
        await self._wait_for(waiter, read_s)
        if self._error is not None:
            raise self._error

    async def _wait_for(self, waiter: asyncio.Future[None], read_s: float) -> None:
        """Wait for `waiter` while data keeps arriving at least every `read_s` seconds."""
        timer = self._loop.call_at(self._last_read + read_s, self._check_silence, waiter, read_s)
        try:
            await waiter
        finally:
            timer.cancel()

    def _check_silence(self, waiter: asyncio.Future[None], read_s: float) -> None:
        if waiter.done():
            return
        silent_until = self._last_read + read_s
        if self._loop.time() < silent_until:  # data arrived meanwhile: keep waiting
            timer = self._loop.call_at(silent_until, self._check_silence, waiter, read_s)
            waiter.add_done_callback(lambda _: timer.cancel())
            return
        waiter.set_exception(httpx.ReadTimeout(f"The provider sent nothing for {read_s:g} s."))


class Pool:
    """Open connections per origin, capped in total; idle ones reused newest first."""

    def __init__(
        self,
        *,
        max_connections: int,
        max_idle: int,
        keepalive_expiry_s: float,
        ssl_context: ssl.SSLContext,
    ) -> None:
        self._max_connections = max_connections
        self._max_idle = max_idle
        self._expiry_s = keepalive_expiry_s
        self._ssl = ssl_context
        self._idle: dict[Origin, deque[Connection]] = {}
        self._idle_count = 0
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def open_connections(self) -> int:
        return self._open

    async def acquire(self, origin: Origin, connect_s: float) -> Connection:
        """An idle connection to `origin`, else a new one (waiting up to `connect_s` for a slot)."""
        loop = asyncio.get_running_loop()
        connection = self._take_idle(origin, loop.time())
        if connection is not None:
            return connection
        try:
            async with asyncio.timeout(connect_s):
                while self._open >= self._max_connections and not self._make_room():
                    waiter = loop.create_future()
                    self._waiters.append(waiter)
                    try:
                        await waiter
                    except asyncio.CancelledError:
                        if waiter.done() and not waiter.cancelled():
                            self._wake_waiter()  # woken, then cancelled: pass the turn on
                        raise
                    connection = self._take_idle(origin, loop.time())
                    if connection is not None:
                        return connection
                self._open += 1
                try:
                    return await self._dial(origin, loop)
                except BaseException:
                    self._free_slot()
                    raise
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"No connection to {origin.host}:{origin.port} within {connect_s:g} s."
            ) from exc

    def _take_idle(self, origin: Origin, now: float) -> Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = self._unpool(idle, newest=True)
            if connection.is_usable and now - connection.idle_since < self._expiry_s:
                return connection
            self._discard(connection)
        return None

    def _unpool(self, idle: deque[Connection], *, newest: bool) -> Connection:
        """Take a connection off an origin's idle stack (the newest, or the oldest)."""
        self._idle_count -= 1
        return idle.pop() if newest else idle.popleft()

    def release(self, connection: Connection) -> None:
        """Back to the pool when it can serve another request, else closed."""
        if self._closed or not connection.reusable or self._idle_count >= self._max_idle:
            self._discard(connection)
            return
        loop = asyncio.get_running_loop()
        connection.used = True
        connection.idle_since = loop.time()
        self._idle.setdefault(connection.origin, deque()).append(connection)
        self._idle_count += 1
        self._wake_waiter()
        if self._sweeper is None:
            self._sweeper = loop.call_later(self._expiry_s, self._sweep)

    def _discard(self, connection: Connection) -> None:
        connection.close()
        self._free_slot()

    def _free_slot(self) -> None:
        self._open -= 1
        self._wake_waiter()

    def _wake_waiter(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break

    async def _dial(self, origin: Origin, loop: asyncio.AbstractEventLoop) -> Connection:
        tls = self._ssl if origin.scheme == "https" else None
        try:
            _, connection = await loop.create_connection(
                partial(Connection, origin, loop),
                origin.host,
                origin.port,
                ssl=tls,
                server_hostname=origin.host if tls is not None else None,
            )
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(f"Cannot connect to {origin.host}:{origin.port}: {exc}") from exc
        return connection

    def _make_room(self) -> bool:
        """Close the oldest idle connection (of any origin) to free a slot; False when none."""
        for idle in self._idle.values():
            if idle:
                self._unpool(idle, newest=False).close()
                self._open -= 1  # the slot is the caller's: no waiter is woken for it
                return True
        return False

    def _sweep(self) -> None:
        """Close idle connections past their expiry; run again while any stay idle."""
        self._sweeper = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() - self._expiry_s
        for idle in self._idle.values():
            while idle and (idle[0].idle_since <= deadline or not idle[0].is_usable):
                self._discard(self._unpool(idle, newest=False))
        if self._idle_count and not self._closed:
            self._sweeper = loop.call_later(self._expiry_s, self._sweep)

    def close(self) -> None:
        """Close every idle connection; connections in use close when their answer is closed."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for idle in self._idle.values():
            while idle:
                self._discard(self._unpool(idle, newest=False))


def is_retryable(method: str, connection: Connection) -> bool:
    """A reused connection the provider closed before answering an idempotent request."""
    return method in _IDEMPOTENT and connection.used and connection.sent_nothing_back()
