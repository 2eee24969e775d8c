"""The in-process driver of the bench's "app alone" figures: what it sends, what it refuses to count."""

from __future__ import annotations

import asyncio
import json
from unittest import mock

import pytest
from gateway_bench.app_alone import AppCase, UnexpectedAnswer, call_app, run_cases
from starlette.types import Receive, Scope, Send


class TinyApp:
    """An ASGI app with a lifespan, a /readyz that turns ready after `not_ready` probes, and a chat
    route answering `status` (a JSON body, or an SSE stream ending with `[DONE]` when `done`)."""

    def __init__(
        self, *, status: int = 200, not_ready: int = 0, stream: bool = False, done: bool = True
    ) -> None:
        self.status = status
        self.not_ready = not_ready
        self.stream = stream
        self.done = done
        self.lifespan: list[str] = []
        self.seen: list[tuple[str, bytes, dict[bytes, bytes], object]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                self.lifespan.append(message["type"])
                if message["type"] == "lifespan.startup":
                    scope["state"]["ready"] = "from the lifespan"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["path"] == "/readyz":
            self.not_ready -= 1
            await send({"type": "http.response.start", "status": 503 if self.not_ready >= 0 else 200})
            await send({"type": "http.response.body", "body": b""})
            return
        request = await receive()
        self.seen.append(
            (scope["method"], request["body"], dict(scope["headers"]), scope["state"].get("ready"))
        )
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        if self.stream:
            await send(
                {"type": "http.response.body", "body": b'data: {"choices": []}\n\n', "more_body": True}
            )
            tail = b"data: [DONE]\n\n" if self.done else b""
            await send({"type": "http.response.body", "body": tail, "more_body": False})
        else:
            await send({"type": "http.response.body", "body": b'{"choices": []}', "more_body": False})


def _case(*, stream: bool = False, connections: int = 2, seconds: float = 0.2) -> AppCase:
    body = json.dumps(
        {"model": "bench-sync", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    )
    return AppCase("case", body, "sk-gw-key", connections, seconds, stream)


async def test_a_call_carries_the_body_the_key_and_the_lifespan_state() -> None:
    app = TinyApp()
    case = _case()

    await call_app(app, case, {"ready": "state"})

    method, body, headers, state = app.seen[0]
    assert (method, body, state) == ("POST", case.body.encode(), "state")
    assert headers[b"authorization"] == b"Bearer sk-gw-key"
    assert headers[b"content-length"] == str(len(case.body.encode())).encode()


@pytest.mark.parametrize(
    ("app", "stream"),
    [
        (TinyApp(status=503), False),
        (TinyApp(status=429, stream=True), True),
        (TinyApp(stream=True, done=False), True),
    ],
    ids=["error status", "stream refused", "stream cut before [DONE]"],
)
async def test_anything_but_a_whole_200_fails_the_case(app: TinyApp, stream: bool) -> None:
    with pytest.raises(UnexpectedAnswer):
        await call_app(app, _case(stream=stream), {})


async def test_cases_wait_for_readiness_then_measure_every_call() -> None:
    app = TinyApp(not_ready=3, stream=True)

    [result] = await run_cases(app, [_case(stream=True, connections=4)])

    assert app.lifespan == ["lifespan.startup", "lifespan.shutdown"]
    assert app.not_ready < 0  # probed until ready
    # The warm-up's calls are not counted; every measured call reached the app.
    assert result.calls > 0
    assert len(app.seen) == result.calls + 200
    assert {state for _, _, _, state in app.seen} == {"from the lifespan"}
    assert result.rps > 0
    assert result.cpu_us_per_request > 0
    assert 0 < result.p50_ms <= result.p99_ms


async def test_latency_is_each_call_s_own_time() -> None:
    # An app that answers after 20 ms: each call's p50 and p99 are its own 20 ms, not the run's.
    class SlowApp(TinyApp):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] != "/readyz":
                await asyncio.sleep(0.02)
            await super().__call__(scope, receive, send)

    app = SlowApp()
    with mock.patch("gateway_bench.app_alone._WARM_UP_CALLS", 1):
        [result] = await run_cases(app, [_case(connections=8, seconds=0.3)])

    assert 19 <= result.p50_ms <= result.p99_ms < 100
    assert result.rps > 8 / 0.05  # eight callers in parallel, not one after another
