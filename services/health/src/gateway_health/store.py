"""The `gateway_health` NATS KV bucket: one `DeploymentHealth` per key, key = deployment id.

Writes are compare-and-set on the key's revision, so two writers (a lease holder and the
predecessor it took over from, or replicas running `OwnAll`) can never overwrite each other's
probe results: the loser re-reads and re-applies its result on top.
"""

from __future__ import annotations

import logging

from gateway_common.kv_mirror import NATS_FAILURES as KV_FAILURES
from gateway_common.kv_mirror import proto_decoder
from gateway_common.names import HEALTH_BUCKET
from gateway_common.nats import NatsConnection, ensure_bucket
from gateway_proto.v1.health_pb2 import DeploymentHealth
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NoKeysError
from nats.js.kv import KeyValue

from gateway_health.errors import HealthWriteConflict

log = logging.getLogger(__name__)

# What a KV call raises when NATS is down, slow or the bucket vanished (shared with the proxy).
NATS_FAILURES = KV_FAILURES
# Parse a stored record; a corrupt one is logged and treated as absent (then overwritten).
decode_health = proto_decoder(DeploymentHealth)


class HealthStore:
    """Reads and writes deployment health in the KV bucket (created on first use)."""

    def __init__(self, nats: NatsConnection, bucket: str = HEALTH_BUCKET) -> None:
        self._nats = nats
        self._bucket_name = bucket
        self._kv: KeyValue | None = None

    async def bucket(self) -> KeyValue:
        """The bucket handle, creating the bucket if it does not exist yet."""
        if self._kv is None:
            js = self._nats.jetstream
            await ensure_bucket(js, self._bucket_name, replicas=self._nats.stream_replicas)
            self._kv = await js.key_value(self._bucket_name)
        return self._kv

    def forget_bucket(self) -> None:
        """Drop the cached handle so the next call re-checks the bucket (after a NATS failure)."""
        self._kv = None

    async def read(self, deployment_id: str) -> tuple[DeploymentHealth | None, int]:
        """The deployment's record and its revision; (None, 0) when there is none."""
        kv = await self.bucket()
        try:
            entry = await kv.get(deployment_id)
        except KeyNotFoundError:
            return None, 0
        return decode_health(deployment_id, entry.value), entry.revision or 0

    async def write(self, health: DeploymentHealth, expected_revision: int) -> int:
        """Store `health` if the key is still at `expected_revision` (0: absent); return the new one.

        Raises HealthWriteConflict when another writer got there first.
        """
        kv = await self.bucket()
        value = health.SerializeToString()
        try:
            if expected_revision == 0:
                return await kv.create(health.deployment_id, value)
            return await kv.update(health.deployment_id, value, last=expected_revision)
        except KeyWrongLastSequenceError as exc:
            raise HealthWriteConflict(health.deployment_id) from exc

    async def remove(self, deployment_id: str) -> None:
        """Delete the deployment's record (it is no longer in the config snapshot)."""
        kv = await self.bucket()
        await kv.delete(deployment_id)

    async def deployment_ids(self) -> set[str]:
        """Every deployment id with a record in the bucket."""
        kv = await self.bucket()
        try:
            return set(await kv.keys())
        except NoKeysError:
            return set()
