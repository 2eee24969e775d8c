"""`python -m gateway_bench.idle_rss`: the proxy worker's idle RSS, without the load runs.

Starts the bench stack (nginx, Valkey, NATS, one Granian worker), waits `--wait` seconds with no
traffic and prints the worker's VmRSS; `--requests N` then sends N chat completions with each
bench key (the unlimited one, then the one with TPM limits, which charges a rough token count)
and prints it again. The target is RSS ≤ 100 MB per worker (docs/performance.md).
The proxy runs from compiled bytecode, as in its image (`stack.bytecode_env`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import httpx

from gateway_bench.stack import BenchStack, rss_bytes


def _mib(pid: int) -> str:
    return f"{rss_bytes(pid) / 2**20:.1f} MiB"


def main() -> None:
    """Start the stack, print the worker's idle RSS (and after `--requests` per key), stop."""
    parser = argparse.ArgumentParser(prog="python -m gateway_bench.idle_rss")
    parser.add_argument("--root", type=Path, default=Path(".run/bench-rss"), help="working directory")
    parser.add_argument("--wait", type=float, default=2.0, help="idle seconds before reading RSS")
    parser.add_argument("--requests", type=int, default=0, help="chat completions per key afterwards")
    args = parser.parse_args()
    stack = BenchStack(root=args.root.resolve())
    try:
        stack.start()
        worker = stack.worker_pid()
        time.sleep(args.wait)
        print(f"worker RSS idle: {_mib(worker)}")
        if args.requests <= 0:
            return
        body = {"model": "bench-sync", "messages": [{"role": "user", "content": "Say hello."}]}
        keys = {"unlimited key": stack.secrets.virtual_key, "key with TPM limits": stack.secrets.limited_key}
        with httpx.Client(base_url=stack.proxy_base, timeout=10) as client:
            for name, key in keys.items():
                for _ in range(args.requests):
                    response = client.post(
                        "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
                    )
                    response.raise_for_status()
                print(f"worker RSS after {args.requests} requests with the {name}: {_mib(worker)}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
