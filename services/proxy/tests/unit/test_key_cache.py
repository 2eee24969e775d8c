"""KeyCache: TTLs, bounds, negative entries, invalidation, and the stale-fetch guard."""

from __future__ import annotations

import asyncio

from gateway_proto.v1.keys_pb2 import KeyInvalidation, KeyRecord
from gateway_proxy.key_cache import KeyCache
from gateway_proxy.keys import KeyResolver
from nats.aio.msg import Msg


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_cache(clock: Clock, *, size: int = 10) -> KeyCache:
    return KeyCache(ttl_s=30, max_entries=size, negative_ttl_s=5, max_negative=size, clock=clock)


def rec(key_id: str, digest: str) -> KeyRecord:
    return KeyRecord(key_id=key_id, digest=digest)


def test_positive_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = make_cache(clock)
    assert cache.put("d1", rec("k1", "d1"), cache.generation)
    clock.now += 29.9
    assert cache.get("d1") == rec("k1", "d1")
    clock.now += 0.2
    assert cache.get("d1") is None
    assert len(cache) == 0


def test_negative_entries_expire_after_their_own_ttl() -> None:
    clock = Clock()
    cache = make_cache(clock)
    cache.put("nope", None, cache.generation)
    assert cache.is_known_unknown("nope")
    clock.now += 5.1
    assert not cache.is_known_unknown("nope")


def test_size_is_bounded_by_evicting_the_oldest() -> None:
    cache = make_cache(Clock(), size=2)
    for i in range(3):
        cache.put(f"d{i}", rec(f"k{i}", f"d{i}"), cache.generation)
    assert cache.get("d0") is None
    assert cache.get("d1") is not None
    assert cache.get("d2") is not None
    # The evicted entry's key-id index went with it: invalidating k0 touches nothing else.
    cache.invalidate(key_id="k0")
    assert cache.get("d1") is not None


def test_invalidate_by_digest_or_by_key_id() -> None:
    cache = make_cache(Clock())
    cache.put("d1", rec("k1", "d1"), cache.generation)
    cache.put("d2", rec("k2", "d2"), cache.generation)
    cache.invalidate(key_id="k1")
    assert cache.get("d1") is None
    assert cache.get("d2") is not None
    cache.invalidate(digest="d2")
    assert cache.get("d2") is None


def test_invalidate_drops_a_negative_entry_so_a_new_key_works_at_once() -> None:
    cache = make_cache(Clock())
    cache.put("d-new", None, cache.generation)
    cache.invalidate(digest="d-new")
    assert not cache.is_known_unknown("d-new")


def test_empty_invalidation_clears_everything() -> None:
    cache = make_cache(Clock())
    cache.put("d1", rec("k1", "d1"), cache.generation)
    cache.put("d2", None, cache.generation)
    cache.invalidate()
    assert cache.get("d1") is None
    assert not cache.is_known_unknown("d2")


def test_a_fetch_that_raced_an_invalidation_is_not_cached() -> None:
    cache = make_cache(Clock())
    started_at = cache.generation
    cache.invalidate(key_id="k1")  # the revoke arrives while the (stale) read is in flight
    assert not cache.put("d1", rec("k1", "d1"), started_at)
    assert cache.get("d1") is None


class SlowStore:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.record = rec("k1", "d1")

    async def fetch(self, digest: str) -> KeyRecord | None:
        self.calls += 1
        await self.release.wait()
        return self.record


async def test_concurrent_lookups_of_one_digest_share_one_fetch() -> None:
    store = SlowStore()
    resolver = KeyResolver(make_cache(Clock()), store)
    lookups = [asyncio.create_task(resolver.resolve("d1")) for _ in range(20)]
    await asyncio.sleep(0.01)
    store.release.set()
    results = await asyncio.gather(*lookups)
    assert store.calls == 1
    assert all(r == store.record for r in results)


async def test_invalidation_message_drops_the_cached_record() -> None:
    resolver = KeyResolver(make_cache(Clock()), SlowStore())
    resolver.cache.put("d1", rec("k1", "d1"), resolver.cache.generation)
    payload = KeyInvalidation(key_id="k1").SerializeToString()
    await resolver.on_invalidation(Msg(_client=None, subject="gateway.keys.invalidate", data=payload))  # type: ignore[arg-type]
    assert resolver.cache.get("d1") is None


async def test_undecodable_invalidation_clears_the_whole_cache() -> None:
    resolver = KeyResolver(make_cache(Clock()), SlowStore())
    resolver.cache.put("d1", rec("k1", "d1"), resolver.cache.generation)
    await resolver.on_invalidation(Msg(_client=None, subject="x", data=b"\xff\xff\xff"))  # type: ignore[arg-type]
    assert resolver.cache.get("d1") is None


def test_evicting_an_old_digest_keeps_the_key_ids_newer_digest_indexed() -> None:
    cache = make_cache(Clock(), size=2)
    cache.put("d-old", rec("k1", "d-old"), cache.generation)
    cache.put("d-new", rec("k1", "d-new"), cache.generation)  # same key id, another digest
    cache.put("d3", rec("k3", "d3"), cache.generation)  # evicts d-old
    cache.invalidate(key_id="k1")
    assert cache.get("d-new") is None
    assert cache.get("d3") is not None
