"""Reliability figure (docs/reliability.md, "Usage pipeline"): accounting SIGKILLed 10 times while
10,000 usage events flow loses nothing and counts nothing twice.

Accounting runs as a real subprocess (`python -m gateway_accounting`, Granian, one worker); each
kill is a SIGKILL of its whole process group at a random moment after it has stored something,
so batches die fetched-but-unstored, stored-but-unacked, or half-acked. At the end: exactly
10,000 rows, the exact total cost in the rows and in the hourly rollup, no duplicate, and the
processes together consumed more messages than were published (redeliveries happened: the fault
path ran).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
import time
from pathlib import Path

import httpx
import nats
from gateway_accounting.consumer import DURABLE_NAME
from gateway_common.names import USAGE_STREAM
from gateway_devstack.procs import ManagedProcess, free_port

EVENTS = 10_000
KILLS = 10
PUBLISH_CHUNK = 50
PUBLISH_PAUSE_S = 0.2  # at most ~250 events/s, and never more than the kills so far allow:
# before kill k only k/11 of the events may be published, so events are flowing at every kill
# and the last eleventh arrives after the last one.


def _process(name: str, env: dict[str, str], tmp_path: Path) -> tuple[ManagedProcess, str]:
    http_port = free_port()
    proc = ManagedProcess(
        name,
        [sys.executable, "-m", "gateway_accounting"],
        env={**env, "ACCOUNTING_PORT": str(http_port), "ACCOUNTING_GRPC_PORT": str(free_port())},
        cwd=tmp_path,
        log_path=tmp_path / f"{name}.log",
        ready_url=f"http://127.0.0.1:{http_port}/readyz",
    )
    return proc, f"http://127.0.0.1:{http_port}"


def _consumed(metrics_text: str) -> int:
    match = re.search(r"^gateway_accounting_events_consumed_total (\S+)$", metrics_text, re.MULTILINE)
    assert match, "gateway_accounting_events_consumed_total missing from /metrics"
    return int(float(match.group(1)))


async def _deliveries(nats_url: str) -> int:
    """How many messages JetStream has delivered to accounting's durable, redeliveries included."""
    client = await nats.connect(nats_url)
    try:
        info = await client.jetstream().consumer_info(USAGE_STREAM, DURABLE_NAME)
    finally:
        await client.close()
    return int(info.delivered.consumer_seq or 0) if info.delivered else 0


async def _scrape(base_url: str) -> int:
    async with httpx.AsyncClient(timeout=2.0) as client:
        return _consumed((await client.get(f"{base_url}/metrics")).text)


async def test_sigkill_ten_times_while_ten_thousand_events_flow(
    kit, publisher, db, fresh_database_url, nats_url, tmp_path
):
    started = time.monotonic()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database_url,
        "NATS_URL": nats_url,
        "ACCOUNTING_FETCH_TIMEOUT_S": "0.2",
        "ACCOUNTING_BATCH_SIZE": "200",
        # Unacked messages of a killed process come back after 2 s, not 30.
        "ACCOUNTING_ACK_WAIT_S": "2",
        "LOG_LEVEL": "WARNING",
    }
    rng = random.Random(5)
    events = [
        kit.make_event(
            f"crash-{i:05d}", prompt_tokens=rng.randint(1, 5000), completion_tokens=rng.randint(0, 2000)
        )
        for i in range(EVENTS)
    ]
    expected_cost = sum(kit.expected_cost(e) for e in events)

    consumed = 0
    kills = 0
    published = 0
    at_kills: list[tuple[int, int]] = []  # (published, stored) at each kill

    chunk_out = asyncio.Event()  # set each time a chunk has been published

    async def publish_all() -> None:
        nonlocal published
        while published < EVENTS:
            # One round ahead of the kills: events are still flowing (fetched, not yet acked) when
            # a kill lands, so the kill exercises redelivery rather than an idle consumer.
            allowance = EVENTS if kills >= KILLS - 1 else (kills + 2) * EVENTS // (KILLS + 1)
            if published >= allowance:
                await asyncio.sleep(0.05)
                continue
            chunk = events[published : min(published + PUBLISH_CHUNK, allowance)]
            await asyncio.gather(*(publisher.event(e) for e in chunk))
            published += len(chunk)
            chunk_out.set()
            await asyncio.sleep(PUBLISH_PAUSE_S)

    flow = asyncio.create_task(publish_all())
    procs: list[ManagedProcess] = []

    def start(name: str) -> tuple[ManagedProcess, str]:
        proc, base_url = _process(name, env, tmp_path)
        proc.start()
        procs.append(proc)
        return proc, base_url

    try:
        upcoming = start("accounting-0")
        for round_number in range(KILLS):
            proc, base_url = upcoming
            await asyncio.to_thread(proc.wait_ready, 60)
            # The next one boots while this one works (and is killed): restarts overlap, as a
            # supervisor's would, and the two briefly share the durable like replicas.
            name = f"accounting-{round_number + 1}" if round_number + 1 < KILLS else "accounting-final"
            upcoming = start(name)
            before = await kit.count_rows(db)
            await kit.wait_for(lambda b=before: _more_rows(kit, db, b), timeout=30, what="progress")
            await asyncio.sleep(rng.uniform(0.1, 0.8))
            consumed += await _scrape(base_url)
            # Kill a few milliseconds after a chunk went out: while it is being fetched, stored
            # and acked, so unacknowledged messages must be redelivered to the next process.
            chunk_out.clear()
            await asyncio.wait_for(chunk_out.wait(), 30)
            await asyncio.sleep(rng.uniform(0.0, 0.015))
            assert proc.pid is not None
            os.killpg(proc.pid, signal.SIGKILL)
            at_kills.append((published, await kit.count_rows(db)))
            kills += 1
            await asyncio.to_thread(proc.stop, 5)
        await flow

        proc, base_url = upcoming
        await asyncio.to_thread(proc.wait_ready, 60)
        await kit.wait_for(lambda: _rows_are(kit, db, EVENTS), timeout=60, what=f"{EVENTS} rows")
        await asyncio.sleep(2.5)  # let any redelivery still due arrive (ack wait 2 s)
        consumed += await _scrape(base_url)
        deliveries = await _deliveries(nats_url)
    finally:
        flow.cancel()
        for started_proc in procs:
            await asyncio.to_thread(started_proc.stop, 10)

    totals = await db.fetchrow(
        "SELECT count(*) AS rows, count(DISTINCT request_id) AS ids, sum(cost_micro_usd) AS cost"
        " FROM accounting.usage"
    )
    rollup = await kit.rollup_totals(db)
    elapsed = time.monotonic() - started
    print(
        f"\n{kills} SIGKILLs, {EVENTS} events: rows={totals['rows']} cost={totals['cost']} "
        f"(expected {expected_cost}) rollup_requests={rollup['requests']} consumed={consumed} "
        f"in {elapsed:.1f}s; (published, stored) at each kill: {at_kills}"
    )
    assert kills == KILLS
    # Under flow: more was published before each kill than before the previous one, and some of
    # it was still unstored.
    published_at = [p for p, _ in at_kills]
    assert published_at == sorted(set(published_at)), at_kills
    assert all(stored < EVENTS for _, stored in at_kills), at_kills
    assert (totals["rows"], totals["ids"]) == (EVENTS, EVENTS)
    assert totals["cost"] == expected_cost
    # The rollup is where a double count would show (the usage table's primary key cannot).
    assert (rollup["requests"], rollup["cost"]) == (EVENTS, expected_cost)
    # JetStream's own count of deliveries to the durable (a scrape just before each kill misses
    # what the process fetched after it, so `consumed` alone can under-count on a busy machine).
    assert max(consumed, deliveries) > EVENTS, (
        "no message was ever redelivered: the kills did not exercise the fault path"
    )


async def _more_rows(kit, db, before: int) -> bool:
    return await kit.count_rows(db) > max(before, 0)


async def _rows_are(kit, db, n: int) -> bool:
    return await kit.count_rows(db) == n
