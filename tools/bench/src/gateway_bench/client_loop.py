"""`python -m gateway_bench.client_loop`: the proxy's upstream client alone, CPU per call.

The bench's nginx on `LOAD_CORE`; in this process, pinned to `PROXY_CORE`, 64 concurrent callers
send the bench's chat completion through `PooledUpstream` (a sync, buffered call, as the
forwarder makes it) and read the answer. Prints calls per second and CPU per call (this process,
all threads). docs/performance.md, "Upstream client", compares it with other clients measured
the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import orjson
import uvloop
from gateway_devstack.procs import free_port
from gateway_providers import UpstreamRequest
from gateway_proxy.upstream import PooledUpstream, SendOptions

from gateway_bench.stack import PROXY_CORE, start_nginx
from gateway_bench.sweep import own_cpu_seconds
from gateway_bench.upstream import ensure_tools

_BODY = orjson.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]})
_HEADERS = [("authorization", "Bearer sk-bench"), ("content-type", "application/json")]
_OPTIONS = SendOptions(connect_s=10.0, read_s=280.0, buffered=True)


async def _measure(url: str, calls: int, concurrency: int) -> tuple[float, float]:
    """(calls per second, CPU µs per call) for `calls` calls by `concurrency` callers."""
    upstream = PooledUpstream(max_connections=1000, max_idle=200, keepalive_expiry_s=30.0)

    async def call() -> None:
        answer = await upstream.send(UpstreamRequest("POST", url, _HEADERS, _BODY), _OPTIONS)
        if answer.status_code != 200 or not answer.content:
            raise RuntimeError(f"unexpected answer {answer.status_code}")
        await answer.aclose()

    for _ in range(200):  # warm: connections open, code paths hot
        await call()
    left = calls

    async def caller() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call()

    started, cpu = time.perf_counter(), own_cpu_seconds()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    elapsed, used = time.perf_counter() - started, own_cpu_seconds() - cpu
    await upstream.aclose()
    return calls / elapsed, used / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(prog="gateway_bench.client_loop", description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ensure_tools()
    os.sched_setaffinity(0, {PROXY_CORE})
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="client-loop-") as directory:
        nginx = start_nginx(Path(directory), port)
        try:
            url = f"http://127.0.0.1:{port}/sync/v1/chat/completions"
            for _ in range(args.rounds):
                rate, cpu = uvloop.run(_measure(url, args.calls, args.concurrency))
                print(f"PooledUpstream: {rate:,.0f} calls/s, {cpu:.1f} µs CPU per call", flush=True)
        finally:
            nginx.stop()


if __name__ == "__main__":
    main()
