"""The sweep (`python -m gateway_bench --sweep`): the 50 ms upstream at rising concurrency.

Against an upstream that answers after a fixed 50 ms, wrk's connections fall into step: the
answers of a round come back within a millisecond, and one worker core serves them one after
another, so the p50 the proxy adds grows with the round (about connections / 2 times the CPU
per request) while the core is far from busy. Each row runs wrk straight at nginx and then through
the proxy (after a 2 s warm-up) at one concurrency and prints both p50s, the worker's CPU per
request and how busy its core was (docs/performance.md, "Why the 50 ms upstream adds ...").
"""

from __future__ import annotations

import os
import resource
from dataclasses import asdict, dataclass
from pathlib import Path

from gateway_bench.stack import LOAD_CORE, BenchStack
from gateway_bench.wrk import run_wrk

CONNECTIONS = (4, 8, 16, 32, 64)


@dataclass(frozen=True)
class SweepRow:
    """One concurrency: direct and proxied p50, throughput, and the worker's CPU."""

    connections: int
    direct_p50_ms: float
    proxy_rps: float
    proxy_p50_ms: float
    cpu_per_request_us: float
    cpu_busy: float  # share of one core the worker used


def own_cpu_seconds() -> float:
    """User plus system CPU time this process (all its threads) has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sweep(stack: BenchStack, script: Path, seconds: int) -> list[dict[str, float]]:
    """Run every concurrency of CONNECTIONS against the 50 ms upstream and print the table."""
    worker = stack.worker_pid()
    direct_url = f"{stack.upstream_base}/slow/v1/chat/completions"
    proxy_url = f"{stack.proxy_base}/v1/chat/completions"
    print(
        "| connections | direct p50 ms | proxy RPS | proxy p50 ms | added p50 ms "
        "| worker CPU per request | CPU busy |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    rows: list[dict[str, float]] = []
    for connections in CONNECTIONS:
        direct = run_wrk(direct_url, script, connections=connections, seconds=seconds, core=LOAD_CORE)
        run_wrk(proxy_url, script, connections=connections, seconds=2, core=LOAD_CORE)
        before = cpu_seconds(worker)
        proxied = run_wrk(proxy_url, script, connections=connections, seconds=seconds, core=LOAD_CORE)
        used = cpu_seconds(worker) - before
        row = SweepRow(
            connections=connections,
            direct_p50_ms=direct.p50_ms,
            proxy_rps=proxied.rps,
            proxy_p50_ms=proxied.p50_ms,
            cpu_per_request_us=used / max(proxied.rps * seconds, 1.0) * 1e6,
            cpu_busy=used / seconds,
        )
        rows.append(asdict(row))
        print(
            f"| {connections} | {row.direct_p50_ms:.2f} | {row.proxy_rps:,.0f} | {row.proxy_p50_ms:.2f} "
            f"| {row.proxy_p50_ms - row.direct_p50_ms:+.2f} | {row.cpu_per_request_us:,.0f} µs "
            f"| {row.cpu_busy:.0%} |",
            flush=True,
        )
    return rows
