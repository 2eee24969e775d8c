"""Dead letters: usage messages accounting gave up on, kept for an operator instead of lost.

A message lands here in one of three ways (the `kind` label of `gateway_accounting_dead_letters_total`):

- `poison`: it can never become a row (undecodable, invalid); found on its first delivery;
- `refused`: Postgres refused its row for a reason a retry will not fix (a check constraint);
- `max_deliveries`: it was delivered `ACCOUNTING_MAX_DELIVER` times without being acked (the
  process crashed or failed on it every time). JetStream then stops redelivering it and
  publishes a max-deliveries advisory, which the `USAGE_DLQ` stream captures so that it is not
  missed while accounting is down (see `advisories.py`).

`DeadLetterOffice.send` records the message in `accounting.dead_letters` (idempotent on subject,
stream sequence and msg id), republishes it on `gateway.usage.dlq` (stream `USAGE_DLQ`,
deduplicated by a Nats-Msg-Id derived from its stream sequence), counts it and logs an error:
the alert. Only then may the caller terminate the original message, so a failure on the way
(Postgres or NATS down) leaves the message to be redelivered and dead-lettered later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import nats.errors
from gateway_common.names import USAGE_STREAM
from gateway_common.nats import NatsConnection, ensure_replicas
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from gateway_accounting.database import Database
from gateway_accounting.db import dead_letters
from gateway_accounting.errors import is_transient_db_error
from gateway_accounting.metrics import AccountingMetrics

log = logging.getLogger(__name__)

DLQ_STREAM = "USAGE_DLQ"
DLQ_SUBJECT = "gateway.usage.dlq"
# Dead letters are for people: keep them long enough to be noticed and replayed.
_DLQ_MAX_AGE_S = 30 * 86400.0


def max_deliveries_advisory(stream: str, durable: str) -> str:
    """The subject of JetStream's advisory for a message that reached the consumer's max_deliver."""
    return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{durable}"


async def ensure_dlq_stream(js: JetStreamContext, durable: str, replicas: int = 1) -> None:
    """Create (or fix the subjects of) the USAGE_DLQ stream: dead letters plus the advisories,
    with at least `replicas` copies."""
    subjects = [DLQ_SUBJECT, max_deliveries_advisory(USAGE_STREAM, durable)]
    config = StreamConfig(
        name=DLQ_STREAM,
        subjects=subjects,
        max_age=_DLQ_MAX_AGE_S,
        duplicate_window=120.0,
        num_replicas=replicas,
    )
    try:
        info = await js.stream_info(DLQ_STREAM)
    except NotFoundError:
        await js.add_stream(config)
        return
    if sorted(info.config.subjects or []) != sorted(subjects):
        config.num_replicas = max(replicas, info.config.num_replicas or 1)
        await js.update_stream(config)
        return
    await ensure_replicas(js, info.config, replicas)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A usage message given up on, and why."""

    stream_sequence: int
    subject: str
    msg_id: str | None
    payload: bytes
    deliveries: int
    reason: str

    @classmethod
    def from_msg(cls, msg: Msg, reason: str) -> DeadLetter:
        """The dead letter of a message fetched from the USAGE stream."""
        meta = msg.metadata
        return cls(
            stream_sequence=meta.sequence.stream,
            subject=msg.subject,
            msg_id=(msg.headers or {}).get("Nats-Msg-Id"),
            payload=msg.data,
            deliveries=meta.num_delivered,
            reason=reason,
        )


class DeadLetterOffice:
    """Records dead letters in Postgres and republishes them on the dead-letter subject."""

    def __init__(self, nats_conn: NatsConnection, database: Database, metrics: AccountingMetrics) -> None:
        self._nats = nats_conn
        self._database = database
        self._metrics = metrics

    async def send(self, letter: DeadLetter, kind: str) -> None:
        """Record, republish, count and alert; raises when Postgres or NATS fails on the way.

        Both steps are idempotent, so a caller that fails after the first simply tries again.
        """
        recorded = await dead_letters.record_dead_letter(
            self._database.pool,
            stream_sequence=letter.stream_sequence,
            subject=letter.subject,
            msg_id=letter.msg_id,
            payload=letter.payload,
            error=letter.reason,
            deliveries=letter.deliveries,
        )
        headers = {
            "Nats-Msg-Id": f"usage-dlq-{letter.stream_sequence}-{letter.msg_id or ''}",
            "Gateway-Dlq-Reason": letter.reason[:1000],
            "Gateway-Dlq-Kind": kind,
            "Gateway-Stream-Sequence": str(letter.stream_sequence),
            "Gateway-Deliveries": str(letter.deliveries),
        }
        if letter.msg_id:
            headers["Gateway-Msg-Id"] = letter.msg_id
        await self._nats.jetstream.publish(DLQ_SUBJECT, letter.payload, headers=headers)
        if not recorded:
            return  # already dead-lettered (a lost ack, or another replica): alert once
        self._metrics.dead_letters.labels(kind).inc()
        log.error(
            "usage message dead-lettered (%s): %s",
            kind,
            letter.reason,
            extra={
                "alert": "usage_dead_letter",
                "stream_seq": letter.stream_sequence,
                "usage_msg_id": letter.msg_id,
                "deliveries": letter.deliveries,
            },
        )

    async def send_and_terminate(self, msg: Msg, reason: str, kind: str) -> bool:
        """Dead-letter `msg` then terminate it; on failure leave it for redelivery and return False."""
        letter = DeadLetter.from_msg(msg, reason)
        try:
            await self.send(letter, kind)
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            self._metrics.errors.labels("nats").inc()
            log.warning("could not dead-letter usage message %d yet: %r", letter.stream_sequence, exc)
            return False
        except Exception as exc:
            if not is_transient_db_error(exc):
                raise
            self._metrics.errors.labels("postgres").inc()
            log.warning("could not record dead letter %d yet: %r", letter.stream_sequence, exc)
            return False
        try:
            await msg.term()
        except nats.errors.Error as exc:
            # Recorded already: when it comes back it is dead-lettered again, which is a no-op.
            self._metrics.errors.labels("ack").inc()
            log.warning("could not terminate dead-lettered message: %r", exc)
        return True
