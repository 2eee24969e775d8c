"""The upstream client: exactly the adapter's headers, bodies that stream and decode, the httpx
errors the proxy maps to 502 and 504, and the pool's HTTP/1.1 framing, reuse, caps, expiry,
stale connections and backpressure.

Real sockets on loopback: a port nobody listens on, and small asyncio servers speaking raw
HTTP/1.1 that hang up, cut a body short, stay silent, or answer normally.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from gateway_providers import UpstreamRequest
from gateway_proxy.errors import UpstreamFailed, UpstreamTimeout
from gateway_proxy.settings import ProxySettings
from gateway_proxy.upstream import PooledUpstream, SendOptions, create_upstream, transport_error
from gateway_proxy.upstream_answer import Answer

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OPTIONS = SendOptions(connect_s=2.0, read_s=5.0)
SETTINGS = ProxySettings(redis_url="redis://r", nats_url="nats://n", key_pepper="p", dataplane_key="k")


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on a free port; the list counts the connections it accepted."""
    accepted: list[int] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", accepted
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def upstream_client() -> AsyncIterator[PooledUpstream]:
    client = create_upstream(SETTINGS)
    try:
        yield client
    finally:
        await client.aclose()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


def _request(base: str, headers: list[tuple[str, str]] | None = None) -> UpstreamRequest:
    return UpstreamRequest(
        method="POST",
        url=f"{base}/v1/chat/completions",
        headers=headers or [("authorization", "Bearer sk-up"), ("content-type", "application/json")],
        body=b'{"model":"m"}',
    )


async def _send(
    client: PooledUpstream, base: str, *, read_s: float = 5.0, stream: bool = False, buffered: bool = False
) -> httpx.Response:
    return await fetch(client, _request(base), SendOptions(2.0, read_s, stream=stream, buffered=buffered))


async def fetch(
    client: PooledUpstream, request: UpstreamRequest, options: SendOptions = OPTIONS
) -> httpx.Response:
    response = await client.send(request, options)
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


def _answer_once(raw: bytes, seen: list[bytes]) -> Handler:
    """A server that records the request head, writes `raw` and hangs up."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(raw)
        await writer.drain()
        writer.close()

    return answer


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("buffered", [False, True])
async def test_answers_pass_through_with_only_the_adapter_headers(buffered: bool) -> None:
    seen: list[bytes] = []
    ok = _answer_once(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}", seen
    )

    async with serve(ok) as (base, _), upstream_client() as client:
        response = await _send(client, base, buffered=buffered)
    assert response.status_code == 200
    assert response.content == b"{}"
    head = seen[0].decode().lower()
    assert "authorization: bearer sk-up" in head
    assert "user-agent: open-model-gateway/0.1" in head
    assert "accept-encoding: gzip, deflate" in head
    assert "cookie" not in head


async def test_a_stream_asks_for_an_uncompressed_event_stream() -> None:
    seen: list[bytes] = []
    ok = _answer_once(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 2\r\n\r\nok", seen
    )

    async with serve(ok) as (base, _), upstream_client() as client:
        await _send(client, base, stream=True)
    head = seen[0].decode().lower()
    assert "accept-encoding: identity" in head
    assert "accept: text/event-stream" in head


async def test_an_untyped_body_gets_no_content_type_the_adapter_did_not_set() -> None:
    seen: list[bytes] = []
    ok = _answer_once(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", seen)

    async with serve(ok) as (base, _), upstream_client() as client:
        response = await client.send(_request(base, [("x-api-key", "k")]), SendOptions(2.0, 5.0))
        await response.aclose()
    head = seen[0].decode().lower()
    assert "content-type" not in head
    assert "x-api-key: k" in head


@pytest.mark.parametrize("buffered", [False, True])
async def test_a_gzip_answer_is_decoded(buffered: bool) -> None:
    packed = gzip.compress(b'{"ok": true}')
    head = f"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: {len(packed)}\r\n\r\n"
    zipped = _answer_once(head.encode() + packed, [])

    async with serve(zipped) as (base, _), upstream_client() as client:
        response = await _send(client, base, buffered=buffered)
    assert response.content == b'{"ok": true}'


async def test_closing_a_body_before_its_end_hangs_up_on_the_provider() -> None:
    """A client that leaves mid-stream: the provider's connection closes, it is not pooled."""
    closed = asyncio.Event()

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        try:
            while True:
                writer.write(b"6\r\ndata:x\r\n")
                await writer.drain()
                await asyncio.sleep(0.01)
        except (ConnectionError, OSError):
            closed.set()

    async with serve(endless) as (base, _), upstream_client() as client:
        response = await client.send(_request(base), SendOptions(2.0, 5.0, stream=True))
        async for _chunk in response.aiter_bytes():
            break
        await response.aclose()
        await asyncio.wait_for(closed.wait(), 2.0)
    assert closed.is_set()


async def test_connection_refused_is_a_502_not_a_timeout() -> None:
    async with upstream_client() as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await _send(client, f"http://127.0.0.1:{_free_port()}")
    assert isinstance(transport_error(caught.value, "p"), UpstreamFailed)
    assert not isinstance(transport_error(caught.value, "p"), UpstreamTimeout)


@pytest.mark.parametrize("buffered", [False, True])
async def test_a_server_hanging_up_is_a_502_not_a_timeout(buffered: bool) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async with serve(hang_up) as (base, _), upstream_client() as client:
        with pytest.raises(httpx.TransportError) as caught:
            await _send(client, base, buffered=buffered)
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert not isinstance(transport_error(caught.value, "p"), UpstreamTimeout)


@pytest.mark.parametrize("buffered", [False, True])
async def test_a_body_cut_short_is_a_transport_error_not_a_timeout(buffered: bool) -> None:
    async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
        await writer.drain()
        writer.close()

    async with serve(cut_short) as (base, _), upstream_client() as client:
        with pytest.raises(httpx.TransportError) as caught:
            await _send(client, base, buffered=buffered)
    assert not isinstance(caught.value, httpx.TimeoutException)


@pytest.mark.parametrize("buffered", [False, True])
async def test_a_silent_server_is_a_read_timeout(buffered: bool) -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await release.wait()
        writer.close()

    async with serve(silent) as (base, _), upstream_client() as client:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await _send(client, base, read_s=0.2, buffered=buffered)
        release.set()
    assert isinstance(transport_error(caught.value, "p"), UpstreamTimeout)


async def test_a_cookie_set_by_a_provider_never_rides_on_a_later_request() -> None:
    seen: list[bytes] = []

    async def sets_cookie(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                seen.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                break
            writer.write(
                b"HTTP/1.1 200 OK\r\nset-cookie: session=tenant-a-secret; Path=/\r\n"
                b"content-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
            )
            await writer.drain()
        writer.close()

    async with serve(sets_cookie) as (base, _), upstream_client() as client:
        await _send(client, base)
        await _send(client, base)
    assert len(seen) == 2
    assert b"cookie" not in seen[1].lower().replace(b"set-cookie", b"")
    assert b"tenant-a-secret" not in seen[1]


async def test_a_buffered_answer_returns_its_connection_to_the_pool() -> None:
    """Two buffered calls in a row share one connection; an error status is still readable."""
    connections: list[int] = []

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        for status in (b"200 OK", b"429 Too Many Requests"):
            await read_request(reader)
            writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 2\r\n\r\n{}")
            await writer.drain()
        writer.close()

    async with serve(keep_alive) as (base, _), upstream_client() as client:
        first = await _send(client, base, buffered=True)
        second = await _send(client, base, buffered=True)
    assert (first.status_code, first.content) == (200, b"{}")
    assert (second.status_code, second.content) == (429, b"{}")
    assert len(connections) == 1


# -- the pool: framing, reuse, caps, expiry, stale connections, backpressure --


@asynccontextmanager
async def pool(**overrides: float) -> AsyncIterator[PooledUpstream]:
    settings: dict[str, float] = {"max_connections": 10, "max_idle": 10, "keepalive_expiry_s": 30.0}
    settings.update(overrides)
    client = PooledUpstream(
        max_connections=int(settings["max_connections"]),
        max_idle=int(settings["max_idle"]),
        keepalive_expiry_s=settings["keepalive_expiry_s"],
    )
    try:
        yield client
    finally:
        await client.aclose()


def keep_answering(answer: bytes, seen: list[bytes] | None = None) -> Handler:
    """Answers every request on a connection with `answer` until the client hangs up."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await read_request(reader)
                if seen is not None:
                    seen.append(request)
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    return handler


def post(base: str, path: str = "/v1/chat/completions", **fields: object) -> UpstreamRequest:
    headers = fields.get("headers", [("content-type", "application/json")])
    assert isinstance(headers, list)
    body = fields.get("body", b'{"model":"m"}')
    assert body is None or isinstance(body, bytes)
    return UpstreamRequest(str(fields.get("method", "POST")), f"{base}{path}", headers, body)


OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


async def test_the_request_head_has_host_path_and_length_and_not_the_adapters_framing() -> None:
    seen: list[bytes] = []
    headers = [("host", "evil.example"), ("content-length", "999"), ("x-api-key", "k")]
    async with serve(keep_answering(OK, seen)) as (base, _), pool() as client:
        await fetch(client, post(base, "/v1/x?api-version=2024-10-21&q=a%3Ab", headers=headers))
    head = seen[0].split(b"\r\n\r\n")[0].decode().split("\r\n")
    port = base.rsplit(":", 1)[1]
    assert head[0] == "POST /v1/x?api-version=2024-10-21&q=a%3Ab HTTP/1.1"
    assert f"host: 127.0.0.1:{port}" in head
    assert "content-length: 13" in head
    assert not any("evil.example" in line or "999" in line for line in head)
    assert seen[0].endswith(b'{"model":"m"}')


async def test_a_get_without_a_body_sends_no_content_length() -> None:
    seen: list[bytes] = []
    async with serve(keep_answering(OK, seen)) as (base, _), pool() as client:
        await fetch(client, post(base, "/v1/models", method="GET", body=None, headers=[]))
    assert seen[0].startswith(b"GET /v1/models HTTP/1.1\r\n")
    assert b"content-length" not in seen[0].lower()


@pytest.mark.parametrize("name", ["x-evil\r\ninjected", "x-ok"])
async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(name: str) -> None:
    seen: list[bytes] = []
    value = "v\r\nx-injected: 1" if name == "x-ok" else "v"
    async with serve(keep_answering(OK, seen)) as (base, accepted), pool() as client:
        with pytest.raises(httpx.LocalProtocolError):
            await fetch(client, post(base, headers=[(name, value)]))
    assert seen == []
    assert accepted == []


async def test_a_chunked_answer_is_reassembled() -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n"
    )
    async with serve(keep_answering(answer)) as (base, accepted), pool() as client:
        first = await fetch(client, post(base))
        second = await fetch(client, post(base))
    assert first.content == second.content == b"hello world"
    assert len(accepted) == 1


@pytest.mark.parametrize("buffered", [False, True])
async def test_an_answer_ended_by_the_hang_up_is_whole_and_its_connection_not_reused(buffered: bool) -> None:
    async def close_delimited(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end")
        await writer.drain()
        writer.close()

    options = SendOptions(connect_s=2.0, read_s=5.0, buffered=buffered)
    async with serve(close_delimited) as (base, accepted), pool() as client:
        first = await fetch(client, post(base), options)
        second = await fetch(client, post(base), options)
        assert client.open_connections == 0
    assert first.content == second.content == b"until the end"
    assert len(accepted) == 2


async def test_idle_connections_are_reused_up_to_max_idle() -> None:
    async with serve(keep_answering(OK)) as (base, accepted), pool(max_idle=1) as client:
        await asyncio.gather(*(fetch(client, post(base)) for _ in range(3)))
        assert client.open_connections == 1  # two of the three were closed, not pooled
        await fetch(client, post(base))
    assert len(accepted) == 3


async def test_no_more_than_max_connections_and_a_waiter_gets_the_freed_one() -> None:
    release = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await read_request(reader)
                await release.wait()
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    async with serve(slow) as (base, accepted), pool(max_connections=1) as client:
        first = asyncio.create_task(fetch(client, post(base)))
        second = asyncio.create_task(fetch(client, post(base)))
        await asyncio.sleep(0.2)
        assert len(accepted) == 1
        assert not second.done()
        release.set()
        answers = await asyncio.gather(first, second)
    assert [answer.status_code for answer in answers] == [200, 200]
    assert len(accepted) == 1


async def test_waiting_for_a_connection_past_connect_s_is_a_connect_timeout() -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    async with serve(never) as (base, _), pool(max_connections=1) as client:
        busy = asyncio.create_task(client.send(post(base), SendOptions(connect_s=2.0, read_s=5.0)))
        await asyncio.sleep(0.1)
        with pytest.raises(httpx.ConnectTimeout):
            await client.send(post(base), SendOptions(connect_s=0.2, read_s=5.0))
        busy.cancel()
        with pytest.raises(asyncio.CancelledError):
            await busy
        assert client.open_connections == 0  # the cancelled request closed its connection


async def test_an_idle_connection_the_provider_closed_is_not_used_again() -> None:
    async def one_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        writer.close()

    async with serve(one_answer) as (base, accepted), pool() as client:
        await fetch(client, post(base))
        await asyncio.sleep(0.1)
        second = await fetch(client, post(base))
    assert second.status_code == 200
    assert len(accepted) == 2


@pytest.mark.parametrize(("method", "retried"), [("GET", True), ("POST", False)])
async def test_a_reused_connection_hung_up_before_answering_is_retried_only_when_idempotent(
    method: str, retried: bool
) -> None:
    """The provider reads the second request and hangs up without a byte: a GET goes again on a
    new connection; a POST is not sent twice (the provider may have acted on it)."""
    served: list[bytes] = []

    async def answers_once_per_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(await read_request(reader))
        writer.write(OK)
        await writer.drain()
        served.append(await read_request(reader))
        writer.close()

    body = None if method == "GET" else b"{}"
    async with serve(answers_once_per_connection) as (base, accepted), pool() as client:
        await fetch(client, post(base, method=method, body=body))
        if retried:
            assert (await fetch(client, post(base, method=method, body=body))).status_code == 200
        else:
            with pytest.raises(httpx.RemoteProtocolError):
                await fetch(client, post(base, method=method, body=body))
    assert len(accepted) == (2 if retried else 1)
    assert len(served) == (3 if retried else 2)


async def test_idle_connections_expire() -> None:
    async with serve(keep_answering(OK)) as (base, _), pool(keepalive_expiry_s=0.2) as client:
        await fetch(client, post(base))
        assert client.open_connections == 1
        await asyncio.sleep(0.5)
        assert client.open_connections == 0


async def test_bytes_after_a_complete_answer_spoil_the_connection() -> None:
    async with serve(keep_answering(OK + b"garbage")) as (base, accepted), pool() as client:
        first = await fetch(client, post(base))
        await asyncio.sleep(0.05)
        second = await fetch(client, post(base))
    assert first.content == second.content == b"{}"
    assert len(accepted) == 2


async def test_a_large_stream_read_slowly_arrives_whole() -> None:
    """4 MiB in chunks, read with pauses: reading the socket pauses and resumes, nothing lost."""
    piece = bytes(range(256)) * 256  # 64 KiB
    pieces = 64

    async def big(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for _ in range(pieces):
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        await reader.read()  # keep the connection until the client closes it

    async with serve(big) as (base, _), pool() as client:
        response = await client.send(post(base), SendOptions(connect_s=2.0, read_s=5.0, stream=True))
        received = bytearray()
        async for chunk in response.aiter_bytes():
            received += chunk
            await asyncio.sleep(0.005)
        await response.aclose()
        assert client.open_connections == 1  # read to the end: pooled
    assert bytes(received) == piece * pieces


async def test_a_malformed_answer_is_a_protocol_error() -> None:
    async with serve(keep_answering(b"SMTP ready\r\n\r\n")) as (base, _), pool() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await fetch(client, post(base))
        assert client.open_connections == 0


async def test_an_interim_100_continue_is_skipped() -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    async with serve(keep_answering(answer)) as (base, _), pool() as client:
        response = await fetch(client, post(base))
    assert (response.status_code, response.content) == (200, b"{}")


async def test_only_http_urls_are_sent() -> None:
    async with pool() as client:
        with pytest.raises(httpx.UnsupportedProtocol):
            await fetch(client, UpstreamRequest("POST", "ftp://example.com/x", [], b""))


# -- the answer: decoding and reading rules --


class _Pieces:
    """A body source handing out fixed pieces, recording whether it was closed."""

    def __init__(self, *pieces: bytes) -> None:
        self._pieces = list(pieces)
        self.closed = False

    async def read(self) -> bytes:
        return self._pieces.pop(0) if self._pieces else b""

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("encoding", "packed"),
    [
        ("gzip", gzip.compress(b"x" * 5000)),
        ("deflate", zlib.compress(b"x" * 5000)),
        ("deflate", zlib.compress(b"x" * 5000)[2:-4]),  # raw deflate, as some servers send it
    ],
)
async def test_a_streamed_body_is_decoded_across_pieces(encoding: str, packed: bytes) -> None:
    pieces = [packed[i : i + 7] for i in range(0, len(packed), 7)]
    source = _Pieces(*pieces)
    answer = Answer(200, [(b"content-encoding", encoding.encode())], source=source)
    assert await answer.aread() == b"x" * 5000
    assert answer.content == b"x" * 5000
    await answer.aclose()
    assert source.closed


@pytest.mark.parametrize("buffered", [False, True])
async def test_a_corrupt_gzip_body_is_a_transport_error(buffered: bool) -> None:
    headers = [(b"content-encoding", b"gzip")]

    async def read() -> bytes:
        if buffered:
            return Answer(200, headers, content=b"not gzip at all").content
        return await Answer(200, headers, source=_Pieces(b"not gzip at all")).aread()

    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await read()
    assert isinstance(transport_error(caught.value, "p"), UpstreamFailed)


async def test_an_encoding_the_proxy_did_not_ask_for_passes_through() -> None:
    answer = Answer(200, [(b"content-encoding", b"br")], content=b"\x8b\x02\x80raw")
    assert answer.content == b"\x8b\x02\x80raw"


async def test_a_streamed_body_is_read_once_and_content_needs_a_read() -> None:
    answer = Answer(200, [], source=_Pieces(b"a", b"b"))
    with pytest.raises(httpx.ResponseNotRead):
        _ = answer.content
    assert [chunk async for chunk in answer.aiter_bytes()] == [b"a", b"b"]
    with pytest.raises(httpx.StreamConsumed):
        _ = [chunk async for chunk in answer.aiter_bytes()]


def test_answer_headers_are_case_insensitive_and_join_repeats() -> None:
    answer = Answer(
        200,
        [(b"Content-Type", b"application/json"), (b"X-Thing", b"a"), (b"x-thing", b"b")],
        content=b"{}",
    )
    assert answer.headers.get("content-type") == "application/json"
    assert answer.headers["CONTENT-TYPE"] == "application/json"
    assert answer.headers["x-thing"] == "a, b"
    assert "retry-after" not in answer.headers
    assert dict(answer.headers) == {"content-type": "application/json", "x-thing": "a, b"}
