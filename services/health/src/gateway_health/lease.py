"""Exactly one prober per deployment across replicas: a lease per deployment in NATS KV.

Bucket `gateway_health_leases`, key = deployment id, value = JSON `{"holder": <replica id>,
"expires_at": <unix seconds>}`. Every decision is a compare-and-set on the key's revision, so
two replicas can never both believe they hold a lease:

- no lease (or a deleted one): `create` — fails if another replica created it first;
- our own lease: renew with `update(last=revision)` — fails if it was taken over meanwhile;
- another replica's lease: left alone until it has expired, then taken with `update(last=revision)`.

The scheduler asks `owns` right before every probe, so the holder renews once per probe
interval; the TTL (a few intervals) is how long a dead holder keeps its deployments. `release`
deletes the lease (only at the revision we hold) so another replica takes over at its next turn.
Expiry compares wall clocks across replicas: skew between hosts shortens or lengthens a dead
holder's grace by that much, which the TTL's margin absorbs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway_common.nats import NatsConnection, ensure_bucket
from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from gateway_health.store import NATS_FAILURES

log = logging.getLogger(__name__)

LEASE_BUCKET = "gateway_health_leases"
# JetStream's error code for a revision check that failed ("wrong last sequence").
_WRONG_LAST_SEQUENCE = 10071


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds a deployment's lease and until when (unix seconds)."""

    holder: str
    expires_at: float

    def encode(self) -> bytes:
        """The lease as stored in KV."""
        return json.dumps({"holder": self.holder, "expires_at": self.expires_at}).encode()

    @classmethod
    def decode(cls, value: bytes | None) -> Lease | None:
        """Parse a stored lease; an unreadable one counts as expired (None)."""
        try:
            raw = json.loads(value or b"")
            return cls(str(raw["holder"]), float(raw["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None


class KvLeaseOwnership:
    """`Ownership` backed by one KV lease per deployment (see the module docstring)."""

    def __init__(
        self,
        nats: NatsConnection,
        holder: str,
        ttl_s: float,
        bucket: str = LEASE_BUCKET,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._nats = nats
        self._holder = holder
        self._ttl_s = ttl_s
        self._bucket_name = bucket
        self._clock = clock
        self._kv: KeyValue | None = None
        # The revision of each lease we hold, so `release` deletes only our own.
        self._held: dict[str, int] = {}

    @property
    def held(self) -> frozenset[str]:
        """The deployments whose lease this replica held at its last decision."""
        return frozenset(self._held)

    async def owns(self, deployment_id: str) -> bool:
        """Acquire, renew or take over the lease if possible; True when this replica holds it.

        Raises what the KV call raises when NATS is unavailable (the scheduler skips the round).
        """
        try:
            return await self._decide(deployment_id)
        except NATS_FAILURES:
            self._kv = None
            raise

    async def _decide(self, deployment_id: str) -> bool:
        kv = await self._bucket()
        now = self._clock()
        mine = Lease(self._holder, now + self._ttl_s).encode()
        try:
            entry = await kv.get(deployment_id)
        except KeyNotFoundError:
            return await self._claim(deployment_id, lambda: kv.create(deployment_id, mine))
        current = Lease.decode(entry.value)
        revision = entry.revision or 0
        if current is not None and current.holder != self._holder and current.expires_at > now:
            self._held.pop(deployment_id, None)
            return False
        if current is not None and current.holder != self._holder:
            log.info(
                "taking over an expired probe lease",
                extra={"deployment_id": deployment_id, "previous_holder": current.holder},
            )
        return await self._claim(deployment_id, lambda: kv.update(deployment_id, mine, last=revision))

    async def release(self, deployment_id: str) -> None:
        """Delete our lease on `deployment_id` (if still ours) so another replica need not wait."""
        revision = self._held.pop(deployment_id, None)
        if revision is None:
            return
        try:
            kv = await self._bucket()
            await kv.delete(deployment_id, last=revision)
        except BadRequestError as exc:
            # nats-py reports a failed revision check on delete as a plain 400 with this code.
            if exc.err_code != _WRONG_LAST_SEQUENCE:
                self._kv = None
                raise
            # Taken over since our last renewal: it is someone else's now; leave it.
            return
        except NATS_FAILURES:
            self._kv = None
            raise

    async def _claim(self, deployment_id: str, write: Callable[[], Awaitable[int]]) -> bool:
        try:
            revision = await write()
        except KeyWrongLastSequenceError:
            # Another replica created, renewed or took over the lease between our read and write.
            self._held.pop(deployment_id, None)
            return False
        self._held[deployment_id] = int(revision)
        return True

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            js = self._nats.jetstream
            await ensure_bucket(js, self._bucket_name, replicas=self._nats.stream_replicas)
            self._kv = await js.key_value(self._bucket_name)
        return self._kv
