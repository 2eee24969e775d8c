"""The key store's control fallback, single-flight lookups, the negative cache and stale serving."""

from __future__ import annotations

import asyncio

import pytest
from gateway_proto.v1.keys_pb2 import KeyRecord
from gateway_proxy.key_cache import KeyCache
from gateway_proxy.keys import FallbackKeyStore, KeyResolver, KeyStoreUnavailable, parse_record


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """A KeyStore over a dict that counts its calls and can be switched off or slowed down."""

    def __init__(self, records: dict[str, KeyRecord] | None = None, *, delay_s: float = 0.0) -> None:
        self.records = records or {}
        self.calls = 0
        self.down = False
        self.delay_s = delay_s

    async def fetch(self, digest: str) -> KeyRecord | None:
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.down:
            raise KeyStoreUnavailable("down")
        return self.records.get(digest)


def cache(clock: Clock, *, stale_s: float = 0.0) -> KeyCache:
    return KeyCache(
        ttl_s=30, max_entries=100, negative_ttl_s=5, max_negative=100, stale_s=stale_s, clock=clock
    )


RECORD = KeyRecord(key_id="k1", digest="d1", tenant_id="t1")


async def test_a_redis_hit_does_not_ask_control() -> None:
    redis, control = CountingStore({"d1": RECORD}), CountingStore()
    assert await FallbackKeyStore(redis, control).fetch("d1") == RECORD
    assert (redis.calls, control.calls) == (1, 0)


async def test_a_redis_miss_asks_control_once() -> None:
    redis, control = CountingStore(), CountingStore({"d1": RECORD})
    assert await FallbackKeyStore(redis, control).fetch("d1") == RECORD
    assert (redis.calls, control.calls) == (1, 1)


async def test_redis_down_asks_control_and_both_down_is_unavailable_not_unknown() -> None:
    redis, control = CountingStore(), CountingStore({"d1": RECORD})
    redis.down = True
    store = FallbackKeyStore(redis, control)
    assert await store.fetch("d1") == RECORD
    control.down = True
    with pytest.raises(KeyStoreUnavailable):
        await store.fetch("d1")


async def test_a_miss_control_cannot_confirm_is_unavailable() -> None:
    # After Redis restarted empty, a valid key must not become a 401 because control is down too.
    redis, control = CountingStore(), CountingStore()
    control.down = True
    with pytest.raises(KeyStoreUnavailable):
        await FallbackKeyStore(redis, control).fetch("d1")


async def test_a_flood_of_one_unknown_key_costs_one_lookup_per_negative_ttl() -> None:
    clock = Clock()
    redis, control = CountingStore(delay_s=0.01), CountingStore(delay_s=0.01)
    resolver = KeyResolver(cache(clock), FallbackKeyStore(redis, control))
    results = await asyncio.gather(*(resolver.resolve("bad") for _ in range(200)))
    assert results == [None] * 200
    for _ in range(200):
        assert await resolver.resolve("bad") is None
    assert (redis.calls, control.calls) == (1, 1)
    clock.now += 5.1  # the negative entry expired: one more lookup each, then cached again
    for _ in range(50):
        assert await resolver.resolve("bad") is None
    assert (redis.calls, control.calls) == (2, 2)


async def test_distinct_unknown_keys_cost_one_lookup_each() -> None:
    redis, control = CountingStore(), CountingStore()
    resolver = KeyResolver(cache(Clock()), FallbackKeyStore(redis, control))
    for _ in range(3):
        for index in range(20):
            assert await resolver.resolve(f"bad-{index}") is None
    assert (redis.calls, control.calls) == (20, 20)


async def test_an_expired_record_is_served_stale_only_while_the_store_is_down() -> None:
    clock = Clock()
    store = CountingStore({"d1": RECORD})
    resolver = KeyResolver(cache(clock, stale_s=60), store)
    assert await resolver.resolve("d1") == RECORD
    store.down = True
    clock.now += 31  # expired, but inside the stale window
    assert await resolver.resolve("d1") == RECORD
    clock.now += 60  # past the stale window
    with pytest.raises(KeyStoreUnavailable):
        await resolver.resolve("d1")


async def test_a_revoked_key_is_not_served_stale_after_its_invalidation() -> None:
    clock = Clock()
    store = CountingStore({"d1": RECORD})
    resolver = KeyResolver(cache(clock, stale_s=60), store)
    await resolver.resolve("d1")
    resolver.cache.invalidate(digest="d1")
    store.down = True
    with pytest.raises(KeyStoreUnavailable):
        await resolver.resolve("d1")


def test_parse_record_refuses_a_record_filed_under_another_digest() -> None:
    raw = RECORD.SerializeToString()
    assert parse_record(raw, "d1", "test") == RECORD
    assert parse_record(raw, "d2", "test") is None
    assert parse_record(b"\xff\xff", "d1", "test") is None
