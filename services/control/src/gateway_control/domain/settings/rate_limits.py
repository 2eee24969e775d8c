"""Platform settings: the rate-limit defaults of keys and tenants (platform admins only).

A default applies to every key (or tenant) without its own override; 0 means control sets no
default and the proxy's `DEFAULT_*` setting applies. A change is audited and published in the
next ConfigSnapshot (`default_key_limits`, `default_tenant_limits`).
"""

from __future__ import annotations

import msgspec

from gateway_control.database import Database
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.keys.schemas import Parallel, Rpm, Tpm
from gateway_control.publishing.publisher import ConfigPublisher
from gateway_control.publishing.rate_limit_defaults import (
    LimitDefaults,
    load_rate_limit_defaults,
    store_rate_limit_defaults,
)


class RateLimitSet(msgspec.Struct, forbid_unknown_fields=True):
    """Requests and tokens per minute and parallel requests; 0 leaves the field to the proxy."""

    rpm: Rpm = 0
    tpm: Tpm = 0
    max_parallel: Parallel = 0


class RateLimitDefaults(msgspec.Struct, forbid_unknown_fields=True):
    """The defaults of every key (each key on its own) and of every tenant (all its keys together)."""

    key_limits: RateLimitSet = msgspec.field(default_factory=RateLimitSet)
    tenant_limits: RateLimitSet = msgspec.field(default_factory=RateLimitSet)


def _from_stored(stored: LimitDefaults) -> RateLimitDefaults:
    return RateLimitDefaults(
        key_limits=RateLimitSet(**stored["key"]), tenant_limits=RateLimitSet(**stored["tenant"])
    )


class RateLimitDefaultsService:
    """Reads and replaces the defaults; a change publishes a new snapshot."""

    def __init__(self, db: Database, publisher: ConfigPublisher) -> None:
        self._db = db
        self._publisher = publisher

    async def get(self) -> RateLimitDefaults:
        """The current defaults."""
        async with self._db.connection() as conn:
            return _from_stored(await load_rate_limit_defaults(conn))

    async def put(self, actor: Actor, data: RateLimitDefaults) -> RateLimitDefaults:
        """Replace the defaults (audited) and ask the publisher for a new snapshot."""
        async with self._db.transaction() as conn:
            before = _from_stored(await load_rate_limit_defaults(conn))
            await store_rate_limit_defaults(
                conn,
                {
                    "key": msgspec.to_builtins(data.key_limits),
                    "tenant": msgspec.to_builtins(data.tenant_limits),
                },
            )
            after = _from_stored(await load_rate_limit_defaults(conn))
            await record(
                conn, actor, "settings.rate_limit_defaults", "settings", None, before=before, after=after
            )
        self._publisher.request("settings.rate_limit_defaults")
        return after
