"""Re-encrypting every secret at rest under the current master key (`python -m gateway_control rewrap`).

A master-key rotation: control runs with the new key as MASTER_KEY and the old one as
MASTER_KEY_PREVIOUS, so both open records; this command then re-seals every record still under
another key id with a fresh data key wrapped by the current master key, and the old key can be
retired. All of it happens in one transaction, with the rows locked (FOR UPDATE), so a crash or
an error leaves every row as it was; records already under the current key are skipped, so a
second run — or a run after an interrupted one — does only what is left (0 when done).

Each kind of sealed record is one entry of SEALED_RECORDS: how to lock its stale rows and how
to re-seal one. A record under a key id this process does not know stops the run (exit 1)
naming it; nothing is changed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway_control.database import Connection
from gateway_control.db import providers as provider_queries
from gateway_control.security.credentials import open_credentials, seal_credentials
from gateway_control.security.envelope import EnvelopeCipher, EnvelopeError

log = logging.getLogger(__name__)


class RewrapError(RuntimeError):
    """A record cannot be opened with any configured master key; nothing was changed."""


@dataclass(frozen=True, slots=True)
class SealedRecords:
    """One kind of record holding secrets under the master key."""

    name: str
    # Re-seal every record of this kind not under the current key; returns how many.
    rewrap: Callable[[Connection, EnvelopeCipher], Awaitable[int]]


async def _rewrap_provider_credentials(conn: Connection, envelope: EnvelopeCipher) -> int:
    rows = await provider_queries.list_providers_to_rewrap(conn, key_id=envelope.current_key_id)
    for row in rows:
        try:
            credentials = open_credentials(envelope, row)
        except EnvelopeError as exc:
            raise RewrapError(
                f"provider {row.name} ({row.id}): credentials under master key "
                f"{row.credentials_key_id!r} cannot be opened: {exc}"
            ) from exc
        if credentials is None:
            continue
        sealed = seal_credentials(envelope, row.id, credentials)
        await provider_queries.set_provider_credentials(
            conn,
            id=row.id,
            credentials_ciphertext=sealed.ciphertext,
            credentials_nonce=sealed.nonce,
            credentials_wrapped_key=sealed.wrapped_key,
            credentials_key_id=sealed.key_id,
        )
    return len(rows)


SEALED_RECORDS: tuple[SealedRecords, ...] = (
    SealedRecords("provider_credentials", _rewrap_provider_credentials),
)


async def rewrap_all(conn: Connection, envelope: EnvelopeCipher) -> dict[str, int]:
    """Re-seal every stale record of every kind in one transaction; counts by kind."""
    counts: dict[str, int] = {}
    async with conn.transaction():
        for kind in SEALED_RECORDS:
            counts[kind.name] = await kind.rewrap(conn, envelope)
    log.info("re-sealed secrets under master key %s", envelope.current_key_id, extra={"counts": counts})
    return counts
