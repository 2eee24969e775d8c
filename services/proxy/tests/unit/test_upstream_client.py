"""The upstream client: exactly the adapter's headers, bodies that stream and decode, and the
httpx errors the proxy maps to 502 and 504.

Real sockets on loopback: a port nobody listens on, and small asyncio servers that hang up,
cut a body short, stay silent, or answer normally.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from gateway_providers import UpstreamRequest
from gateway_proxy.errors import UpstreamFailed, UpstreamTimeout
from gateway_proxy.settings import ProxySettings
from gateway_proxy.upstream import AiohttpUpstream, SendOptions, create_upstream, transport_error

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
SETTINGS = ProxySettings(redis_url="redis://r", nats_url="nats://n", key_pepper="p", dataplane_key="k")


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def upstream_client() -> AsyncIterator[AiohttpUpstream]:
    client = create_upstream(SETTINGS)
    try:
        yield client
    finally:
        await client.aclose()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return head


def _request(base: str, headers: list[tuple[str, str]] | None = None) -> UpstreamRequest:
    return UpstreamRequest(
        method="POST",
        url=f"{base}/v1/chat/completions",
        headers=headers or [("authorization", "Bearer sk-up"), ("content-type", "application/json")],
        body=b'{"model":"m"}',
    )


async def _send(
    client: AiohttpUpstream, base: str, *, read_s: float = 5.0, stream: bool = False, buffered: bool = False
) -> httpx.Response:
    options = SendOptions(connect_s=2.0, read_s=read_s, stream=stream, buffered=buffered)
    response = await client.send(_request(base), options)
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


def _answer_once(raw: bytes, seen: list[bytes]) -> Handler:
    """A server that records the request head, writes `raw` and hangs up."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _read_request(reader))
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

    async with serve(ok) as base, upstream_client() as client:
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

    async with serve(ok) as base, upstream_client() as client:
        await _send(client, base, stream=True)
    head = seen[0].decode().lower()
    assert "accept-encoding: identity" in head
    assert "accept: text/event-stream" in head


async def test_an_untyped_body_gets_no_content_type_the_adapter_did_not_set() -> None:
    seen: list[bytes] = []
    ok = _answer_once(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", seen)

    async with serve(ok) as base, upstream_client() as client:
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

    async with serve(zipped) as base, upstream_client() as client:
        response = await _send(client, base, buffered=buffered)
    assert response.content == b'{"ok": true}'


async def test_closing_a_body_before_its_end_hangs_up_on_the_provider() -> None:
    """A client that leaves mid-stream: the provider's connection closes, it is not pooled."""
    closed = asyncio.Event()

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
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

    async with serve(endless) as base, upstream_client() as client:
        response = await client.send(_request(base), SendOptions(2.0, 5.0, stream=True))
        async for _chunk in response.aiter_raw():
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
        await _read_request(reader)
        writer.close()

    async with serve(hang_up) as base, upstream_client() as client:
        with pytest.raises(httpx.TransportError) as caught:
            await _send(client, base, buffered=buffered)
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert not isinstance(transport_error(caught.value, "p"), UpstreamTimeout)


@pytest.mark.parametrize("buffered", [False, True])
async def test_a_body_cut_short_is_a_transport_error_not_a_timeout(buffered: bool) -> None:
    async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
        await writer.drain()
        writer.close()

    async with serve(cut_short) as base, upstream_client() as client:
        with pytest.raises(httpx.TransportError) as caught:
            await _send(client, base, buffered=buffered)
    assert not isinstance(caught.value, httpx.TimeoutException)


@pytest.mark.parametrize("buffered", [False, True])
async def test_a_silent_server_is_a_read_timeout(buffered: bool) -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await release.wait()
        writer.close()

    async with serve(silent) as base, upstream_client() as client:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await _send(client, base, read_s=0.2, buffered=buffered)
        release.set()
    assert isinstance(transport_error(caught.value, "p"), UpstreamTimeout)


async def test_a_cookie_set_by_a_provider_never_rides_on_a_later_request() -> None:
    seen: list[bytes] = []

    async def sets_cookie(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                seen.append(await _read_request(reader))
            except asyncio.IncompleteReadError:
                break
            writer.write(
                b"HTTP/1.1 200 OK\r\nset-cookie: session=tenant-a-secret; Path=/\r\n"
                b"content-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
            )
            await writer.drain()
        writer.close()

    async with serve(sets_cookie) as base, upstream_client() as client:
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
            await _read_request(reader)
            writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 2\r\n\r\n{}")
            await writer.drain()
        writer.close()

    async with serve(keep_alive) as base, upstream_client() as client:
        first = await _send(client, base, buffered=True)
        second = await _send(client, base, buffered=True)
    assert (first.status_code, first.content) == (200, b"{}")
    assert (second.status_code, second.content) == (429, b"{}")
    assert len(connections) == 1
