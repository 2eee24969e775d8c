"""GuardedResponse: an idempotent answer's end reaches the client only once its claim is settled."""

from __future__ import annotations

import asyncio

import pytest
from gateway_proxy.guards import GuardedResponse, _InFlight
from gateway_proxy.idempotency import Claim
from gateway_proxy.limits import Grant, Limits
from starlette.responses import Response
from starlette.types import Message

SCOPE = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []}


async def _receive() -> Message:
    await asyncio.Event().wait()  # never: the client stays
    raise AssertionError("unreachable")


async def _serve(claim: Claim | None, settle_s: float) -> tuple[list[str], _InFlight]:
    """Serve a JSON answer; the log shows what the client got and when the claim was settled."""
    log: list[str] = []
    flight = _InFlight(grant=None, claim=claim, record_limit=1024)

    async def settle() -> None:
        await asyncio.sleep(settle_s)
        log.append("settled")

    def on_end() -> asyncio.Task[None] | None:
        return asyncio.get_running_loop().create_task(settle()) if claim is not None else None

    async def send(message: Message) -> None:
        log.append(message["type"])

    inner = Response(b'{"ok":true}', media_type="application/json")
    await GuardedResponse(inner, flight, on_end)(SCOPE, _receive, send)
    return log, flight


async def test_the_end_of_an_idempotent_answer_waits_for_its_claim() -> None:
    log, flight = await _serve(Claim("gw:idem:k", "owner"), settle_s=0.05)
    assert log == ["http.response.start", "settled", "http.response.body"]
    assert flight.complete
    assert flight.chunks == [b'{"ok":true}']  # recorded for the store before it was settled


async def test_without_a_claim_nothing_is_held_or_recorded() -> None:
    log, flight = await _serve(None, settle_s=0.0)
    assert log == ["http.response.start", "http.response.body"]
    assert flight.chunks == []  # only an idempotent answer is recorded for the store


async def test_without_a_claim_the_rate_limit_headers_follow_the_responses_own() -> None:
    grant = Grant("lease", [], Limits(key_rpm=10), 0, [(b"x-ratelimit-limit-requests", b"10")])
    flight = _InFlight(grant=grant, claim=None, record_limit=1024)
    sent: list[Message] = []
    ended: list[bool] = []

    async def send(message: Message) -> None:
        sent.append(message)

    def on_end() -> None:
        ended.append(True)

    inner = Response(b"{}", media_type="application/json")
    await GuardedResponse(inner, flight, on_end)(SCOPE, _receive, send)
    assert sent[0]["headers"] == [
        (b"content-length", b"2"),
        (b"content-type", b"application/json"),
        (b"x-ratelimit-limit-requests", b"10"),
    ]
    assert sent[1] == {"type": "http.response.body", "body": b"{}"}
    assert ended == [True]


@pytest.mark.parametrize("error", [ConnectionResetError("gone"), BrokenPipeError("gone")])
async def test_a_client_gone_before_the_held_end_is_not_an_error(error: OSError) -> None:
    flight = _InFlight(grant=None, claim=Claim("gw:idem:k", "owner"), record_limit=1024)

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            raise error

    async def settled() -> None:
        return None

    def on_end() -> asyncio.Task[None] | None:
        return asyncio.get_running_loop().create_task(settled())

    await GuardedResponse(Response(b"{}"), flight, on_end)(SCOPE, _receive, send)
    assert flight.complete
