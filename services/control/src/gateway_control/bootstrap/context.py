"""What one bootstrap run carries around: its connection, secrets' sources, and what it changed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway_control.database import Connection
from gateway_control.domain.audit.services import Actor, record
from gateway_control.security.envelope import EnvelopeCipher
from gateway_control.security.passwords import PasswordHashing

BOOTSTRAP_ACTOR = Actor.system("bootstrap")


@dataclass
class BootstrapResult:
    """The changes a run made (empty when the database already matched the file)."""

    # "provider.create openai", ... in the order they were made (each has an audit record).
    changes: list[str] = field(default_factory=list)
    # A change the data plane's ConfigSnapshot shows (providers, models, routes, deployments).
    config_changed: bool = False
    # Tenants and keys whose Redis key records must be rewritten.
    tenant_ids: set[uuid.UUID] = field(default_factory=set)
    key_digests: set[str] = field(default_factory=set)
    # Entries not applied on purpose (a key without `secret_env`), as `path: why`.
    skipped: list[str] = field(default_factory=list)


@dataclass
class BootstrapContext:
    """One run: everything is written on `conn`, inside the run's single transaction."""

    conn: Connection
    environ: Mapping[str, str]
    envelope: EnvelopeCipher
    passwords: PasswordHashing
    pepper: bytes
    result: BootstrapResult = field(default_factory=BootstrapResult)

    async def audit(
        self,
        action: str,
        target_type: str,
        target_id: uuid.UUID,
        label: str,
        *,
        before: Any = None,
        after: Any = None,
        config: bool = False,
    ) -> None:
        """Record a change like the API does (actor `system:bootstrap`) and remember it."""
        await record(self.conn, BOOTSTRAP_ACTOR, action, target_type, target_id, before=before, after=after)
        self.result.changes.append(f"{action} {label}")
        self.result.config_changed = self.result.config_changed or config
