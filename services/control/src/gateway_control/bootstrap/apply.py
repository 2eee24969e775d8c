"""Applying a bootstrap spec: one transaction, serialised across replicas, then publishing.

Replicas starting together (and a CLI run beside them) take the same transaction-level
advisory lock, so one applies the file and the others then find nothing to change. A
BootstrapError raised anywhere rolls the whole transaction back: nothing of the file is applied.
After the commit the changes reach the data plane the way API changes do: a new ConfigSnapshot
when the catalogue changed, and rewritten key records for the changed tenants and keys.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from gateway_common.migrations import advisory_lock_key

from gateway_control.bootstrap.access import apply_admins, apply_keys, apply_tenants
from gateway_control.bootstrap.catalog import apply_models, apply_providers, apply_routes
from gateway_control.bootstrap.context import BootstrapContext, BootstrapResult
from gateway_control.bootstrap.spec import BootstrapSpec
from gateway_control.database import Database
from gateway_control.publishing.key_cache import KeyRecordPublisher
from gateway_control.security.envelope import EnvelopeCipher
from gateway_control.security.passwords import PasswordHashing

log = logging.getLogger(__name__)

_LOCK = advisory_lock_key("control.bootstrap")


@dataclass(frozen=True, slots=True)
class BootstrapDeps:
    """What applying needs besides the database: the cipher, hashing, the key pepper, the environment."""

    envelope: EnvelopeCipher
    passwords: PasswordHashing
    pepper: bytes
    environ: Mapping[str, str]


async def apply_spec(db: Database, spec: BootstrapSpec, deps: BootstrapDeps) -> BootstrapResult:
    """Apply `spec` in one transaction; raises BootstrapError (nothing applied) when it cannot be."""
    async with db.transaction() as conn:
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        ctx = BootstrapContext(
            conn=conn,
            environ=deps.environ,
            envelope=deps.envelope,
            passwords=deps.passwords,
            pepper=deps.pepper,
        )
        await apply_providers(ctx, spec.providers)
        await apply_models(ctx, spec.models)
        await apply_routes(ctx, spec.routes)
        await apply_tenants(ctx, spec.tenants)
        await apply_admins(ctx, spec.admins)
        await apply_keys(ctx, spec.keys)
    result = ctx.result
    for skipped in result.skipped:
        log.warning("bootstrap entry skipped: %s", skipped)
    log.info("bootstrap applied", extra={"changes": result.changes})
    return result


async def publish_key_records(result: BootstrapResult, key_records: KeyRecordPublisher) -> None:
    """Rewrite the Redis records of the keys and tenants the run changed (never raises, retried later)."""
    for tenant_id in sorted(result.tenant_ids):
        await key_records.publish_tenant(tenant_id)
    for digest in sorted(result.key_digests):
        await key_records.publish_digest(digest)
