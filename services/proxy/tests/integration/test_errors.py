"""Bad input and upstream failures, each in OpenAI's error JSON with the right status."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import openai
import pytest

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("body", [b"{not json", b'{"model": "demo",', b"\xff\xfe"])
async def test_malformed_json_is_400(running: Harness, body: bytes) -> None:
    key, _ = await running.create_key()
    async with running.http() as http:
        response = await http.post(
            "/v1/chat/completions",
            content=body,
            headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "could not parse the JSON body" in error["message"]
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": 1, "messages": MESSAGES}, "model"),
        ({"model": "demo", "messages": "hi"}, "messages"),
        ({"model": "demo", "messages": MESSAGES, "stream": "true"}, "stream"),
        ({"model": "demo"}, "messages"),
    ],
)
async def test_wrong_types_are_400_naming_the_param(
    running: Harness, body: dict[str, object], param: str
) -> None:
    key, _ = await running.create_key()
    async with running.http() as http:
        response = await http.post(
            "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
        )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_oversized_declared_body_is_413_before_the_body_is_read(running: Harness) -> None:
    """Only the head and a few bytes are sent: the 413 must come without waiting for the rest."""
    key, _ = await running.create_key()
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\n"
        f"host: 127.0.0.1:{running.port}\r\n"
        f"authorization: Bearer {key}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {21 * 1024 * 1024}\r\n\r\n"
    )
    writer.write(head.encode() + b'{"model": "demo", "messages": [')
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    response = await asyncio.wait_for(reader.read(4096), 5)
    writer.close()
    await writer.wait_closed()
    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    assert b'"code":"request_too_large"' in response


async def test_upstream_429_keeps_status_message_and_retry_after(running: Harness) -> None:
    key, _ = await running.create_key()
    with pytest.raises(openai.RateLimitError) as raised:
        await running.client(key).chat.completions.create(model="demo-429", messages=MESSAGES)
    assert raised.value.status_code == 429
    assert raised.value.response.headers["retry-after"] == "7"
    event, _ = await running.usage_event(raised.value.response.headers["x-request-id"])
    assert event.status_code == 429
    assert event.error_code
    assert event.attempts[0].status_code == 429


async def test_upstream_500_is_a_502_in_openai_shape(running: Harness) -> None:
    key, _ = await running.create_key()
    with pytest.raises(openai.APIStatusError) as raised:
        await running.client(key).chat.completions.create(model="demo-500", messages=MESSAGES)
    assert raised.value.status_code == 502
    error = raised.value.response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    event, _ = await running.usage_event(raised.value.response.headers["x-request-id"])
    assert event.status_code == 502


async def test_unknown_url_and_wrong_method_answer_in_openai_shape(running: Harness) -> None:
    async with running.http() as http:
        missing = await http.post("/v1/nothing-here", json={})
        wrong_method = await http.get("/v1/chat/completions")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_url"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["message"] == "Invalid URL (GET /v1/chat/completions)"
    assert missing.headers["x-request-id"]
    assert wrong_method.headers["x-request-id"]


async def test_insane_client_request_ids_are_replaced(running: Harness) -> None:
    async with running.http() as http:
        kept = await http.get("/healthz", headers={"x-request-id": "abc-123_X.y"})
        replaced = await http.get("/healthz", headers={"x-request-id": "bad id; drop table"})
    assert kept.headers["x-request-id"] == "abc-123_X.y"
    assert replaced.headers["x-request-id"] != "bad id; drop table"
    assert len(replaced.headers["x-request-id"]) == 32
    assert float(kept.headers["x-gateway-overhead-ms"]) >= 0
