"""The on-disk usage spool: records, torn tails, the size bound and its alert, slots and adoption."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from gateway_proto.v1.usage_pb2 import UsageEvent
from gateway_proxy.spool import SpooledEvent, UsageSpool, decode_records, encode_record
from prometheus_client import CollectorRegistry


def event(request_id: str, padding: int = 0) -> SpooledEvent:
    payload = UsageEvent(request_id=request_id, model="m" * padding).SerializeToString()
    return SpooledEvent(request_id, payload)


def open_spool(root: Path, max_bytes: int = 1 << 20, segment_bytes: int = 1 << 20) -> UsageSpool:
    return UsageSpool.open(
        root, max_bytes=max_bytes, registry=CollectorRegistry(), segment_bytes=segment_bytes
    )


def test_a_torn_record_ends_the_readable_part() -> None:
    records = [encode_record(event(f"r{i}").payload) for i in range(3)]
    data = b"".join(records)
    events, torn = decode_records(data[:-2])
    assert [e.request_id for e in events] == ["r0", "r1"]
    assert torn == len(records[2]) - 2
    flipped = bytearray(data)
    flipped[-1] ^= 0xFF  # a CRC mismatch in the last payload
    assert [e.request_id for e in decode_records(bytes(flipped))[0]] == ["r0", "r1"]


async def test_append_seal_read_remove(tmp_path: Path) -> None:
    spool = open_spool(tmp_path, segment_bytes=30)
    assert await spool.append([event(f"r{i}") for i in range(3)]) == []
    assert await spool.append([event("r3")]) == []  # past segment_bytes: a new segment
    segments = await spool.sealed_segments()
    assert len(segments) == 2
    read = [e.request_id for s in segments for e in await spool.read(s)]
    assert read == ["r0", "r1", "r2", "r3"]
    total = spool.size_bytes
    assert total == sum(s.stat().st_size for s in segments)
    await spool.remove(segments[0], replayed=3)
    assert spool.size_bytes == segments[1].stat().st_size
    spool.close()


async def test_the_size_is_bounded_with_an_alert_near_the_limit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    one = len(encode_record(event("r0", padding=90).payload))
    spool = open_spool(tmp_path, max_bytes=one * 5)
    with caplog.at_level(logging.ERROR, logger="gateway_proxy.spool"):
        assert await spool.append([event(f"r{i}", padding=90) for i in range(3)]) == []
        assert not any("above 80%" in r.getMessage() for r in caplog.records)
        refused = await spool.append([event(f"s{i}", padding=90) for i in range(4)])
    assert [e.request_id for e in refused] == ["s2", "s3"]
    messages = [r.getMessage() for r in caplog.records]
    assert sum("above 80% of its limit" in m for m in messages) == 1
    assert any("spool full" in m for m in messages)
    assert spool.size_bytes == one * 5
    spool.close()


async def test_a_live_slot_is_not_shared_and_an_orphaned_one_is_adopted(tmp_path: Path) -> None:
    first = open_spool(tmp_path)
    second = open_spool(tmp_path)
    assert first.slot != second.slot
    await second.append([event("orphan-1"), event("orphan-2")])
    second.close()  # as a killed process would: its flock is gone, its segments stay
    first.close()

    third = open_spool(tmp_path)  # takes slot-0, adopts slot-1's segments
    assert third.slot == first.slot
    segments = await third.sealed_segments()
    assert [e.request_id for s in segments for e in await third.read(s)] == ["orphan-1", "orphan-2"]
    assert not list(second.slot.glob("seg-*"))
    third.close()


async def test_a_failing_disk_hands_the_events_back(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    for path in spool.slot.iterdir():
        path.unlink()
    spool.slot.rmdir()  # the volume went away under the running process
    events = [event("r0"), event("r1")]
    assert await spool.append(events) == events
    assert spool.size_bytes == 0
    spool.close()
