"""Accounting ingest benchmark: usage events per second stored by ONE accounting process on ONE core.

    .venv/bin/python tools/bench/accounting_ingest.py [--events 50000] [--batch-size 500] [--no-fsync]

What it does: starts the embedded Postgres + NATS (gateway_devstack; Postgres with fsync on
unless --no-fsync), publishes `--events` priced usage events to the USAGE stream (spread over 200
keys of 20 tenants, 4 models, 2 providers, so the hourly rollup sees real conflicts), then starts
`python -m gateway_accounting` under `taskset -c 0` (Granian's main process and its worker both
on core 0) with the servers moved to core 1, and times the drain of the backlog: from the first
row stored to the last. The figure is rows stored / seconds, measured in Postgres, so it includes
decoding, pricing, the insert + rollup transaction, its commit and the acks of every message.
It also prints the accounting processes' CPU time over the same window per event: events per
CPU-second is what one dedicated core sustains, and moves far less than wall-clock throughput when
other work shares the core.

Baseline, measured in the same run on the same core: how fast that core merely decodes and
prices the same events in a plain loop (`usage_row_from_message`, no I/O), timed just before and
just after the drain. The ratio ingest / baseline says how much of a core's bare decoding speed
survives everything else ingestion does, and moves much less than the absolute figure when other
work shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import nats
from gateway_common.names import USAGE_SUBJECT
from gateway_common.nats import ensure_usage_stream
from gateway_devstack.procs import ManagedProcess, child_pids, free_port
from gateway_devstack.roots import temporary_root
from gateway_devstack.settings import StackSettings
from gateway_devstack.stack import start_stack
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proto.v1.usage_pb2 import TokenUsage, UsageEvent
from google.protobuf.timestamp_pb2 import Timestamp

ACCOUNTING_CORE = 0
SERVER_CORE = 1
PRICING = ModelPricing(
    input_micro_usd_per_mtok=2_500_000,
    output_micro_usd_per_mtok=10_000_000,
    cached_input_micro_usd_per_mtok=1_250_000,
    priced=True,
)


def _events(count: int) -> list[bytes]:
    tenants = [str(uuid.uuid4()) for _ in range(20)]
    keys = [(tenants[i % 20], str(uuid.uuid4())) for i in range(200)]
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(UTC))
    payloads = []
    for i in range(count):
        tenant, key = keys[i % len(keys)]
        event = UsageEvent(
            request_id=f"bench-{i:08d}-{uuid.uuid4().hex[:8]}",
            started_at=stamp,
            finished_at=stamp,
            tenant_id=tenant,
            key_id=key,
            endpoint="chat.completions",
            model=("gpt-4o", "gpt-4o-mini", "claude", "llama")[i % 4],
            provider=("openai", "azure")[i % 2],
            provider_model="m",
            status_code=200,
            usage=TokenUsage(
                prompt_tokens=100 + i % 900, completion_tokens=i % 500, cached_prompt_tokens=i % 50
            ),
            pricing=PRICING,
            pricing_revision=1,
            duration_us=250_000,
        )
        payloads.append(event.SerializeToString())
    return payloads


async def _publish(nats_url: str, payloads: list[bytes]) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_usage_stream(js)
    for offset in range(0, len(payloads), 500):
        chunk = payloads[offset : offset + 500]
        await asyncio.gather(
            *(
                js.publish(USAGE_SUBJECT, p, headers={"Nats-Msg-Id": f"bench-{offset + n}"})
                for n, p in enumerate(chunk)
            )
        )
    await nc.close()


_BASELINE = """
import sys, time
from gateway_accounting.events import usage_row_from_message
data = open(sys.argv[1], "rb").read()
payloads, offset = [], 0
while offset < len(data):
    size = int.from_bytes(data[offset : offset + 4], "big")
    payloads.append(data[offset + 4 : offset + 4 + size])
    offset += 4 + size
started = time.perf_counter()
for payload in payloads:
    usage_row_from_message(payload)
print(len(payloads) / (time.perf_counter() - started))
"""


def _baseline(payload_file: Path) -> float:
    """Events/s at which the accounting core decodes and prices the events, nothing else."""
    argv = ["taskset", "-c", str(ACCOUNTING_CORE), sys.executable, "-c", _BASELINE, str(payload_file)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return float(done.stdout.strip())


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` and its descendants (Granian's main process and worker)."""
    ticks = 0
    for process in [pid, *_descendants(pid)]:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            # Fields after the parenthesised command name: utime and stime are the 12th and 13th.
            fields = Path(f"/proc/{process}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        for child in child_pids(queue.pop()):
            found.append(child)
            queue.append(child)
    return found


def _pin(pids: list[int], core: int) -> None:
    for pid in pids:
        subprocess.run(["taskset", "-a", "-p", "-c", str(core), str(pid)], check=False, capture_output=True)


async def _count(pool: asyncpg.Pool) -> int:
    try:
        return int(await pool.fetchval("SELECT count(*) FROM accounting.usage"))
    except asyncpg.UndefinedTableError:
        return 0


async def _measure(
    database_url: str, nats_url: str, total: int, batch_size: int, log_dir: Path, payload_file: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "ACCOUNTING_PORT": str(port),
        "ACCOUNTING_GRPC_PORT": str(free_port()),
        "ACCOUNTING_BATCH_SIZE": str(batch_size),
        "LOG_LEVEL": "WARNING",
    }
    proc = ManagedProcess(
        "accounting",
        ["taskset", "-c", str(ACCOUNTING_CORE), sys.executable, "-m", "gateway_accounting"],
        env=env,
        cwd=log_dir,
        log_path=log_dir / "accounting.log",
        ready_url=f"http://127.0.0.1:{port}/healthz",
    )
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    baseline_before = await asyncio.to_thread(_baseline, payload_file)
    proc.start()
    try:
        first_at, first_rows, first_cpu, cpu = 0.0, 0, 0.0, 0.0
        while True:
            rows = await _count(pool)
            now = time.perf_counter()
            if rows and not first_at:
                first_at, first_rows = now, rows
                assert proc.pid is not None
                first_cpu = _cpu_seconds(proc.pid)
            if rows >= total:
                assert proc.pid is not None
                cpu = _cpu_seconds(proc.pid) - first_cpu
                break
            await asyncio.sleep(0.02)
        seconds = now - first_at
        measured = rows - first_rows
    finally:
        await asyncio.to_thread(proc.stop, 15)
        await pool.close()
    baseline = (baseline_before + await asyncio.to_thread(_baseline, payload_file)) / 2
    ingest = measured / seconds
    print(f"stored {rows} rows; {measured} in {seconds:.2f}s after the first commit")
    print(f"accounting ingest: {ingest:,.0f} events/s on one core (batch size {batch_size})")
    # Wall-clock throughput moves with whatever else runs on the core; CPU time per event much
    # less so: events per CPU-second is what one dedicated core sustains while CPU-bound.
    print(
        f"accounting CPU: {cpu:.2f} s for {measured} events = {cpu / measured * 1e6:.0f} us/event "
        f"= {measured / cpu:,.0f} events per CPU-second"
    )
    print(
        f"baseline (same core, decode + price only): {baseline:,.0f} events/s; ratio {ingest / baseline:.2f}"
    )


def main() -> None:
    """Parse the options, run the benchmark, print the figure."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--no-fsync", action="store_true", help="Postgres without fsync (not production-like)"
    )
    args = parser.parse_args()
    payloads = _events(args.events)
    with temporary_root() as root:
        payload_file = root / "payloads.bin"
        payload_file.write_bytes(b"".join(len(p).to_bytes(4, "big") + p for p in payloads))
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "NATS_URL")}
        with start_stack(StackSettings.from_env(root, env, durable=not args.no_fsync)) as stack:
            _pin(_descendants(os.getpid()), SERVER_CORE)
            endpoints = stack.endpoints
            started = time.perf_counter()
            asyncio.run(_publish(endpoints.nats_url, payloads))
            print(f"published {args.events} events in {time.perf_counter() - started:.1f}s")
            asyncio.run(
                _measure(
                    endpoints.database_url,
                    endpoints.nats_url,
                    args.events,
                    args.batch_size,
                    root,
                    payload_file,
                )
            )


if __name__ == "__main__":
    main()
