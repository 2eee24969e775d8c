"""The usage spool end to end: NATS down -> events on disk -> NATS back -> every event exactly
once in the USAGE stream, also when the proxy was SIGKILLed in between."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from gateway_common.names import USAGE_STREAM
from gateway_devstack.base import Stack
from gateway_devstack.procs import child_pids
from nats.js.errors import NotFoundError

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness

CHAT = {"model": "demo", "messages": [{"role": "user", "content": "count me once"}]}
REQUESTS = 25


@pytest.fixture
def restore_nats(stack: Stack) -> Iterator[Stack]:
    """Make sure NATS runs again after the test, whatever it did."""
    yield stack
    if "nats" in stack.dead_servers():
        stack.start_nats()


async def _start(h: Harness) -> None:
    await h.publish_snapshot()
    assert h.process is not None
    h.process.start()
    h.process.wait_ready(timeout=60)
    await h.wait_ready()


async def _serve_during_outage(h: Harness, key: str) -> list[str]:
    """REQUESTS chat completions while NATS is down; all must succeed. Returns their request ids."""
    async with h.http() as http:
        responses = await asyncio.gather(
            *(
                http.post("/v1/chat/completions", json=CHAT, headers={"x-api-key": key})
                for _ in range(REQUESTS)
            )
        )
    assert [r.status_code for r in responses] == [200] * REQUESTS, responses[0].text
    return [r.headers["x-request-id"] for r in responses]


async def _metric(h: Harness, name: str) -> float:
    async with h.http() as http:
        text = (await http.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def _wait_metric(h: Harness, name: str, value: float, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (current := await _metric(h, name)) != value:
        assert time.monotonic() < deadline, f"{name} is {current}, expected {value}\n{h.log_tail()}"
        await asyncio.sleep(0.1)


async def _stream_ids(h: Harness) -> list[str]:
    """The Nats-Msg-Id of every message in the USAGE stream."""
    js = h.nc.jetstream()
    try:
        info = await js.stream_info(USAGE_STREAM)
    except NotFoundError:
        return []
    ids = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        raw = await js.get_msg(USAGE_STREAM, seq)
        ids.append(dict(raw.headers or {}).get("Nats-Msg-Id", ""))
    return ids


async def _wait_all_arrived(h: Harness, expected: list[str], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            ids = await _stream_ids(h)
        except Exception:  # NATS still coming back; the reconnecting client raises until it is
            ids = []
        if set(expected) <= set(ids):
            break
        assert time.monotonic() < deadline, f"{len(set(expected) & set(ids))}/{len(expected)} arrived"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # a late duplicate would show up now
    counts = Counter(await _stream_ids(h))
    assert sorted(counts) == sorted(expected), "an unexpected event is in the stream"
    assert max(counts.values()) == 1, f"duplicates: {[k for k, n in counts.items() if n > 1]}"


def _segments(h: Harness) -> list[Path]:
    assert h.process is not None
    assert h.process.cwd is not None
    return sorted((h.process.cwd / ".run" / "usage-spool").glob("slot-*/seg-*.spool"))


async def test_events_spooled_while_nats_is_down_arrive_exactly_once(
    harness: Harness, restore_nats: Stack
) -> None:
    await _start(harness)
    key, _ = await harness.create_key()
    restore_nats.stop_nats()
    request_ids = await _serve_during_outage(harness, key)
    await _wait_metric(harness, 'gateway_proxy_usage_spool_events_total{outcome="spooled"}', REQUESTS)
    assert _segments(harness), "nothing was written to the spool"
    assert await _metric(harness, "gateway_proxy_usage_spool_bytes") > 0

    restore_nats.start_nats()
    await _wait_all_arrived(harness, request_ids)
    await _wait_metric(harness, 'gateway_proxy_usage_spool_events_total{outcome="replayed"}', REQUESTS)
    assert await _metric(harness, "gateway_proxy_usage_spool_bytes") == 0
    assert _segments(harness) == [], "acknowledged segments must be deleted"


async def test_a_proxy_killed_during_the_outage_loses_no_spooled_event(
    harness: Harness, restore_nats: Stack
) -> None:
    await _start(harness)
    key, _ = await harness.create_key()
    restore_nats.stop_nats()
    request_ids = await _serve_during_outage(harness, key)
    await _wait_metric(harness, 'gateway_proxy_usage_spool_events_total{outcome="spooled"}', REQUESTS)

    assert harness.process is not None
    assert harness.process.pid is not None
    _sigkill_tree(harness.process.pid)
    harness.process.stop(timeout=5)  # reaps the killed process
    assert _segments(harness), "the killed proxy's spool must still be on disk"

    restore_nats.start_nats()
    harness.process.start()  # a new proxy on the same spool directory
    harness.process.wait_ready(timeout=60)
    await _wait_all_arrived(harness, request_ids)
    assert "usage spool holds events from before this start" in harness.process.log_tail(64_000)


async def test_a_deleted_usage_stream_is_recreated_and_no_event_is_lost(harness: Harness) -> None:
    """JetStream lost the USAGE stream (deleted, or restarted empty): the first publish that
    finds no stream recreates it, and the events it could not publish arrive from the spool."""
    await _start(harness)
    key, _ = await harness.create_key()
    await harness.nc.jetstream().delete_stream(USAGE_STREAM)
    request_ids = await _serve_during_outage(harness, key)
    await _wait_all_arrived(harness, request_ids)
    assert await _metric(harness, "gateway_proxy_usage_spool_bytes") == 0


def _sigkill_tree(pid: int) -> None:
    """SIGKILL a process and its descendants (Granian's main process and its workers)."""
    pids = [pid]
    index = 0
    while index < len(pids):
        pids.extend(child_pids(pids[index]))
        index += 1
    for victim in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
