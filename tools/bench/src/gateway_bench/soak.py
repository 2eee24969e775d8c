"""The soak (`make soak`, `python -m gateway_bench --soak SECONDS`): steady load, leaks measured.

wrk drives c=64 non-streaming requests through the proxy in 30-second rounds for the whole
duration; after each round the worker's RSS and open file descriptors are sampled. The first
minute is warm-up (pools fill, caches and allocator arenas settle); growth is measured from the
sample at its end to the last one. The targets (issue 3): RSS grows by < 5 % and the file
descriptor count does not grow. The fd count is read once it stops falling (the round's client
connections close just after wrk exits, `settled_fds`); it still includes the upstream pool's
current size, so it can jitter by up to the concurrency; a leak
shows as a rising floor, so the floor (minimum) of the last quarter is compared with the floor
of the second quarter (the upstream pool keeps opening connections for the first minutes, up
to the concurrency it sees; a pool is bounded, a leak is not).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from gateway_bench.stack import LOAD_CORE, BenchStack, rss_bytes
from gateway_bench.wrk import run_wrk

ROUND_S = 30
WARMUP_S = 60


@dataclass(frozen=True)
class Sample:
    """One reading after a round of load."""

    elapsed_s: int
    rss_mib: float
    open_fds: int
    rps: float
    errors: str  # wrk's error lines, empty when every response was 2xx


def open_fds(pid: int) -> int:
    """File descriptors the process holds right now."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def settled_fds(pid: int, *, step_s: float = 0.1, timeout_s: float = 3.0) -> int:
    """The fd count once the round's client connections have closed: read until it stops falling.

    Right after wrk exits the worker may still be closing its 64 connections; a sample taken then
    counts some of them (single samples of 94 to 200 were seen at the same floor).
    """
    deadline = time.monotonic() + timeout_s
    count = open_fds(pid)
    while time.monotonic() < deadline:
        time.sleep(step_s)
        now = open_fds(pid)
        if now >= count:
            return count
        count = now
    return count


def soak(stack: BenchStack, script: Path, seconds: int) -> dict[str, object]:
    """Run the soak; print one line per round and return the samples and the verdicts."""
    worker = stack.worker_pid()
    samples: list[Sample] = []
    elapsed = 0
    print("| elapsed s | RSS MiB | open fds | RPS | wrk errors |\n|---:|---:|---:|---:|---:|", flush=True)
    while elapsed < seconds:
        result = run_wrk(
            f"{stack.proxy_base}/v1/chat/completions", script, connections=64, seconds=ROUND_S, core=LOAD_CORE
        )
        elapsed += ROUND_S
        sample = Sample(elapsed, rss_bytes(worker) / 2**20, settled_fds(worker), result.rps, result.errors)
        samples.append(sample)
        cells = (
            sample.elapsed_s,
            f"{sample.rss_mib:.1f}",
            sample.open_fds,
            f"{sample.rps:,.0f}",
            sample.errors or "-",
        )
        print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)
    warm = [s for s in samples if s.elapsed_s >= WARMUP_S] or samples
    base, last = warm[0], samples[-1]
    growth = (last.rss_mib - base.rss_mib) / base.rss_mib
    quarter = max(1, len(warm) // 4)
    early_floor = min(s.open_fds for s in warm[quarter : 2 * quarter] or warm[:quarter])
    late_floor = min(s.open_fds for s in warm[-quarter:])
    fd_growth = late_floor - early_floor
    print(
        f"\nRSS {base.rss_mib:.1f} → {last.rss_mib:.1f} MiB after warm-up ({growth:+.1%}; target < +5 %), "
        f"open-fd floor {early_floor} → {late_floor} ({fd_growth:+d}; target: no growth)"
    )
    return {
        "samples": [asdict(s) for s in samples],
        "rss_growth": growth,
        "fd_growth": fd_growth,
        "rss_ok": growth < 0.05,
        "fds_ok": fd_growth <= 0,
    }
