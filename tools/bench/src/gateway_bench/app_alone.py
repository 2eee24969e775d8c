"""The proxy's app without its server: ASGI calls made in-process, latency and CPU per request.

The bench's worker CPU per request is Granian plus the app. To tell them apart, `python -m
gateway_bench.app_alone` builds the proxy's app (`create_app()`, its lifespan run as Granian
runs it) in a process of its own, pinned to the proxy's core while the Granian worker idles, with
the proxy's settings: the same Valkey, NATS snapshot, key and nginx upstream. Each case has
`connections` callers calling the app directly (an ASGI scope, a `receive` that hands over the
body, a `send` that keeps the answer) for `seconds`, under uvloop, and reports calls per second,
the calls' p50 and p99, and the process's CPU per call (all threads: the app's own, as the
worker's figure counts all of the worker's). Nothing is faked on the app's side: keys, guards,
routing, the upstream pool and the usage events to JetStream all run. Every answer must be a 200
(and a stream end with `[DONE]`), or the case fails.

The bench (`__main__`) runs it as a subprocess, once, after its rounds, and prints each case's p50
against wrk's straight at nginx, and its CPU next to the worker's: the difference is what serving
through Granian costs per request.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import uvloop
from starlette.types import ASGIApp, Message, Scope

from gateway_bench.sweep import own_cpu_seconds

_PATH = "/v1/chat/completions"
_WARM_UP_CALLS = 200


@dataclass(frozen=True)
class AppCase:
    """One load shape for the app: a chat completion body, the key, concurrency and length."""

    name: str
    body: str
    key: str
    connections: int
    seconds: float
    stream: bool = False


@dataclass(frozen=True)
class AppResult:
    """One case measured: calls per second, CPU µs per call of the whole process, and the calls'
    p50 and p99 (from the app's call to its last `send`: no network between client and app)."""

    name: str
    calls: int
    rps: float
    cpu_us_per_request: float
    p50_ms: float
    p99_ms: float


class UnexpectedAnswer(RuntimeError):
    """The app answered a bench call with something other than a complete 200."""


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]], state: dict[str, Any]) -> Scope:
    """An HTTP scope as Granian builds it, with a shallow copy of the lifespan state."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": dict(state),
    }


async def call_app(app: ASGIApp, case: AppCase, state: dict[str, Any]) -> None:
    """One request through the app as a server would make it; raise unless it was a whole 200."""
    body = case.body.encode()
    headers = [
        (b"authorization", f"Bearer {case.key}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = _scope("POST", _PATH, headers, state)
    delivered = False
    status = 0
    last = b""

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never leaves; the relay's watcher waits here
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        nonlocal status, last
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message.get("body"):
            last = message["body"]

    await app(scope, receive, send)
    if status != 200 or (case.stream and b"[DONE]" not in last):
        raise UnexpectedAnswer(f"{case.name}: status {status}, last body {last[-200:]!r}")


async def _measure(app: ASGIApp, case: AppCase, state: dict[str, Any]) -> AppResult:
    for _ in range(_WARM_UP_CALLS):
        await call_app(app, case, state)
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + case.seconds

    async def caller() -> None:
        clock = time.perf_counter
        while loop.time() < stop_at:
            began = clock()
            await call_app(app, case, state)
            latencies.append(clock() - began)

    started, cpu = time.perf_counter(), own_cpu_seconds()
    await asyncio.gather(*(caller() for _ in range(case.connections)))
    elapsed, used = time.perf_counter() - started, own_cpu_seconds() - cpu
    calls = len(latencies)
    cuts = statistics.quantiles(latencies, n=100) if calls > 1 else latencies * 99
    return AppResult(
        case.name, calls, calls / elapsed, used / max(1, calls) * 1e6, cuts[49] * 1e3, cuts[98] * 1e3
    )


async def _wait_ready(app: ASGIApp, state: dict[str, Any], timeout_s: float = 30.0) -> None:
    """Wait for the app's /readyz to answer 200 (the config snapshot arrives after startup)."""
    deadline = time.monotonic() + timeout_s
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    while True:
        await app(_scope("GET", "/readyz", [], state), receive, send)
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the app was not ready within {timeout_s} s (/readyz {status})")
        await asyncio.sleep(0.1)


async def run_cases(app: ASGIApp, cases: list[AppCase]) -> list[AppResult]:
    """Start the app's lifespan, measure every case in turn, shut the lifespan down."""
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def serve_lifespan() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}, inbox.get, outbox.put)

    lifespan = asyncio.create_task(serve_lifespan())
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")
    try:
        await _wait_ready(app, state)
        return [await _measure(app, case, state) for case in cases]
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan


def measure_app_alone(env: dict[str, str], cases: list[AppCase], core: int) -> list[AppResult]:
    """Run the cases in a subprocess pinned to `core`, with `env` (the proxy's), and return them."""
    argv = ["taskset", "-c", str(core), sys.executable, "-m", "gateway_bench.app_alone"]
    cases_json = json.dumps([asdict(case) for case in cases])
    limit_s = 120 + sum(case.seconds for case in cases)
    done = subprocess.run(
        argv, input=cases_json, env=env, capture_output=True, text=True, check=False, timeout=limit_s
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"app_alone failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return [AppResult(**raw) for raw in json.loads(done.stdout.strip().splitlines()[-1])]


def main() -> None:
    """Read the cases as JSON from stdin, print the results as JSON (the proxy's env configures it)."""
    from gateway_proxy.app import create_app  # settings from this process's environment

    cases = [AppCase(**raw) for raw in json.load(sys.stdin)]
    results = uvloop.run(run_cases(create_app(), cases))
    print(json.dumps([asdict(result) for result in results]))


if __name__ == "__main__":
    main()
