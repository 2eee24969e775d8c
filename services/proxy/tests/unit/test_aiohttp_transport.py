"""The upstream client over aiohttp raises the httpx errors the proxy maps to 502 and 504.

Real sockets on loopback: a port nobody listens on, and small asyncio servers that hang up,
cut a body short, stay silent, or answer normally.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from gateway_providers import UpstreamRequest
from gateway_proxy.errors import UpstreamFailed, UpstreamTimeout
from gateway_proxy.settings import ProxySettings
from gateway_proxy.upstream import build_httpx_request, create_upstream_client, transport_error

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
async def upstream_client() -> AsyncIterator[httpx.AsyncClient]:
    client = create_upstream_client(SETTINGS)
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


async def _send(client: httpx.AsyncClient, base: str, *, read_s: float = 5.0) -> httpx.Response:
    upstream = UpstreamRequest(
        method="POST",
        url=f"{base}/v1/chat/completions",
        headers=[("authorization", "Bearer sk-up"), ("content-type", "application/json")],
        body=b'{"model":"m"}',
    )
    request = build_httpx_request(client, upstream, connect_s=2.0, read_s=read_s, stream=False)
    response = await client.send(request, stream=True)
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_answers_pass_through_with_only_the_adapter_headers() -> None:
    seen: list[bytes] = []

    async def ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    async with serve(ok) as base, upstream_client() as client:
        response = await _send(client, base)
    assert response.status_code == 200
    assert response.content == b"{}"
    head = seen[0].decode().lower()
    assert "authorization: bearer sk-up" in head
    assert "user-agent: open-model-gateway/0.1" in head


async def test_connection_refused_is_a_502_not_a_timeout() -> None:
    async with upstream_client() as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await _send(client, f"http://127.0.0.1:{_free_port()}")
    assert isinstance(transport_error(caught.value, "p"), UpstreamFailed)
    assert not isinstance(transport_error(caught.value, "p"), UpstreamTimeout)


async def test_a_server_hanging_up_is_a_502_not_a_timeout() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.close()

    async with serve(hang_up) as base, upstream_client() as client:
        with pytest.raises(httpx.TransportError) as caught:
            await _send(client, base)
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert not isinstance(transport_error(caught.value, "p"), UpstreamTimeout)


async def test_a_body_cut_short_is_a_transport_error_not_a_timeout() -> None:
    async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
        await writer.drain()
        writer.close()

    async with serve(cut_short) as base, upstream_client() as client:
        with pytest.raises(httpx.TransportError) as caught:
            await _send(client, base)
    assert not isinstance(caught.value, httpx.TimeoutException)


async def test_a_silent_server_is_a_read_timeout() -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await release.wait()
        writer.close()

    async with serve(silent) as base, upstream_client() as client:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await _send(client, base, read_s=0.2)
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
