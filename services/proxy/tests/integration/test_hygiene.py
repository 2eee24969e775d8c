"""Request hygiene at the edge: header limits (431) and a streamed body over the cap (413)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness


async def _raw_request(h: Harness, head: bytes, body: bytes = b"") -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", h.port)
    try:
        writer.write(head + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
        rest = await asyncio.wait_for(reader.read(65536), timeout=5)
        return status_line, rest
    finally:
        writer.close()


async def test_too_many_headers_is_an_openai_shaped_431(running: Harness) -> None:
    key, _ = await running.create_key()
    async with running.http() as http:
        response = await http.get(
            "/v1/models",
            headers={"authorization": f"Bearer {key}", **{f"x-extra-{i}": "v" for i in range(70)}},
        )
    assert response.status_code == 431
    assert response.json()["error"]["code"] == "request_header_fields_too_large"
    assert response.headers["x-request-id"]


async def test_oversized_headers_are_an_openai_shaped_431(running: Harness) -> None:
    key, _ = await running.create_key()
    async with running.http() as http:
        response = await http.post(
            "/v1/chat/completions",
            json={"model": "demo", "messages": []},
            headers={"authorization": f"Bearer {key}", "x-big": "a" * 40_000},
        )
    assert response.status_code == 431
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert running.fake.requests() == []


async def test_granian_refuses_100_headers_before_the_app(running: Harness) -> None:
    """Documented in the README: past hyper's limit the server answers 431 without a body."""
    headers = b"".join(f"x-h{i}: v\r\n".encode() for i in range(120))
    status_line, _ = await _raw_request(
        running, b"GET /v1/models HTTP/1.1\r\nhost: x\r\n" + headers + b"\r\n"
    )
    assert status_line.startswith(b"HTTP/1.1 431"), status_line


async def test_chunked_body_over_the_cap_is_413_without_reading_the_rest(running: Harness) -> None:
    key, _ = await running.create_key()
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"transfer-encoding: chunked\r\nauthorization: Bearer " + key.encode() + b"\r\n\r\n"
    )
    # 21 MiB in chunks, but the connection stays open and we never send the final chunk:
    # a 413 can only arrive if the proxy stopped reading at the cap.
    chunk = b"a" * (1024 * 1024)
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(21))
    status_line, rest = await _raw_request(running, head, body)
    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    assert b"request_too_large" in rest
