"""The ConfigSnapshot's home: NATS KV bucket gateway_config, key "snapshot".

Writes are compare-and-set on the KV entry's sequence and never replace a snapshot with a
higher revision, so two control replicas publishing at once cannot leave an older snapshot
in place for a proxy that starts later.
"""

from __future__ import annotations

import logging

from gateway_common.names import CONFIG_BUCKET, CONFIG_KEY
from gateway_common.nats import NatsConnection, ensure_bucket
from gateway_proto.v1.config_pb2 import ConfigSnapshot
from google.protobuf.message import DecodeError
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from opentelemetry import trace

log = logging.getLogger(__name__)

# The follower keeps a few revisions of history for debugging; one is all that is read.
BUCKET_HISTORY = 5
_CAS_ATTEMPTS = 5


class SnapshotStore:
    """Reads and conditionally writes the snapshot entry."""

    def __init__(self, nats: NatsConnection) -> None:
        self._nats = nats

    async def _bucket(self) -> KeyValue:
        js = self._nats.jetstream
        try:
            return await js.key_value(CONFIG_BUCKET)
        except BucketNotFoundError:
            await ensure_bucket(
                js, CONFIG_BUCKET, history=BUCKET_HISTORY, replicas=self._nats.stream_replicas
            )
            return await js.key_value(CONFIG_BUCKET)

    async def current_revision(self) -> int | None:
        """The revision of the snapshot in KV, or None when there is none (or it is unreadable)."""
        bucket = await self._bucket()
        try:
            entry = await bucket.get(CONFIG_KEY)
        except KeyNotFoundError:
            return None
        return _revision_of(entry.value)

    async def put_if_newer(self, snapshot: ConfigSnapshot) -> int | None:
        """Store `snapshot` unless KV already holds the same or a newer revision.

        Returns None when stored, else the revision KV holds (which is >= the snapshot's). With
        tracing on it is one PRODUCER span (a no-op span otherwise: control is off the hot path).
        """
        with trace.get_tracer(__name__).start_as_current_span(
            f"{CONFIG_BUCKET} publish",
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": CONFIG_BUCKET,
                "gateway.config_revision": snapshot.revision,
            },
        ) as span:
            held = await self._put_if_newer(snapshot)
            if held is not None:
                span.set_attribute("gateway.config_revision_held", held)
            return held

    async def _put_if_newer(self, snapshot: ConfigSnapshot) -> int | None:
        data = snapshot.SerializeToString()
        bucket = await self._bucket()
        for _ in range(_CAS_ATTEMPTS):
            try:
                entry = await bucket.get(CONFIG_KEY)
            except KeyNotFoundError:
                entry = None
            if entry is not None:
                held = _revision_of(entry.value)
                if held is not None and held >= snapshot.revision:
                    return held
            try:
                if entry is None:
                    await bucket.create(CONFIG_KEY, data)
                else:
                    await bucket.update(CONFIG_KEY, data, last=entry.revision)
            except KeyWrongLastSequenceError:
                log.info("config snapshot changed while publishing; re-checking")
                continue
            return None
        raise RuntimeError("could not publish the config snapshot: the KV entry kept changing")


def _revision_of(value: bytes | None) -> int | None:
    if not value:
        return None
    snapshot = ConfigSnapshot()
    try:
        snapshot.ParseFromString(value)
    except DecodeError:
        log.warning("the config snapshot in KV is undecodable; it will be replaced")
        return None
    return snapshot.revision
