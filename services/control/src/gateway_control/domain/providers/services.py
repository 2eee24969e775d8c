"""Provider use cases: create and change (credentials sealed with envelope encryption), list.

Credentials are write-only: they go from the request straight into the envelope cipher, and
neither the API view, the audit images nor the logs ever carry them.
"""

from __future__ import annotations

import uuid

from gateway_control.database import Database
from gateway_control.db.tables import Provider as ProviderRow
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.providers.repositories import ProviderRepository
from gateway_control.domain.providers.schemas import Provider, ProviderCreate, ProviderList, ProviderUpdate
from gateway_control.publishing.publisher import ConfigPublisher
from gateway_control.publishing.snapshot import string_map
from gateway_control.security.credentials import seal_credentials
from gateway_control.security.envelope import EnvelopeCipher


def to_provider(row: ProviderRow) -> Provider:
    """The API view of a provider row: whether it has credentials, not what they are."""
    return Provider(
        id=row.id,
        name=row.name,
        type=row.type,
        base_url=row.base_url,
        settings=string_map(row.settings),
        has_credentials=row.credentials_ciphertext is not None,
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class ProviderService:
    """Provider operations; changes are audited and trigger a new config snapshot."""

    def __init__(self, db: Database, envelope: EnvelopeCipher, publisher: ConfigPublisher) -> None:
        self._db = db
        self._envelope = envelope
        self._publisher = publisher

    async def create(self, actor: Actor, data: ProviderCreate) -> Provider:
        """Create a provider; credentials are sealed under a fresh data key bound to its id."""
        async with self._db.transaction() as conn:
            repo = ProviderRepository(conn)
            row = await repo.create(
                name=data.name, type_=data.type, base_url=data.base_url, settings=dict(data.settings)
            )
            if data.credentials:
                row = await repo.set_credentials(
                    row.id, seal_credentials(self._envelope, row.id, data.credentials)
                )
            provider = to_provider(row)
            await record(conn, actor, "provider.create", "provider", provider.id, after=provider)
        self._publisher.request("provider.create")
        return provider

    async def update(self, actor: Actor, provider_id: uuid.UUID, data: ProviderUpdate) -> Provider:
        """Change a provider; new credentials are sealed like at creation. Re-publishes the snapshot."""
        async with self._db.transaction() as conn:
            repo = ProviderRepository(conn)
            row = await repo.get(provider_id)
            before = to_provider(row)
            base_url = None if data.clear_base_url else (data.base_url or row.base_url)
            row = await repo.update(
                provider_id,
                base_url=base_url,
                settings=dict(data.settings) if data.settings is not None else row.settings,
                enabled=row.enabled if data.enabled is None else data.enabled,
            )
            if data.credentials:
                row = await repo.set_credentials(
                    provider_id, seal_credentials(self._envelope, provider_id, data.credentials)
                )
            after = to_provider(row)
            changes = {"after": after, "credentials_replaced": bool(data.credentials)}
            await record(
                conn, actor, "provider.update", "provider", provider_id, before=before, after=changes
            )
        self._publisher.request("provider.update")
        return after

    async def get(self, provider_id: uuid.UUID) -> Provider:
        """One provider, without credentials."""
        async with self._db.connection() as conn:
            return to_provider(await ProviderRepository(conn).get(provider_id))

    async def list(self) -> ProviderList:
        """Every provider by name."""
        async with self._db.connection() as conn:
            rows = await ProviderRepository(conn).list()
        return ProviderList(items=[to_provider(r) for r in rows])
