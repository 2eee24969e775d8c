"""Provider rows in Postgres, through the sqlc-generated queries."""

from __future__ import annotations

import uuid

from gateway_control.database import Connection
from gateway_control.db import providers as queries
from gateway_control.db.tables import JsonValue, Provider
from gateway_control.errors import NotFoundError
from gateway_control.security.envelope import SealedRecord


class ProviderRepository:
    """Provider queries on one connection; a missing provider raises NotFoundError."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(self, *, name: str, type_: str, base_url: str | None, settings: JsonValue) -> Provider:
        """Insert a provider without credentials (they are bound to the id, known only now)."""
        row = await queries.create_provider(
            self._conn,
            name=name,
            type=type_,
            base_url=base_url,
            settings=settings,
            credentials_ciphertext=None,
            credentials_key_id=None,
            credentials_wrapped_key=None,
            credentials_nonce=None,
            enabled=True,
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return row

    async def set_credentials(self, provider_id: uuid.UUID, sealed: SealedRecord) -> Provider:
        """Store sealed credentials on a provider."""
        row = await queries.set_provider_credentials(
            self._conn,
            id=provider_id,
            credentials_ciphertext=sealed.ciphertext,
            credentials_key_id=sealed.key_id,
            credentials_wrapped_key=sealed.wrapped_key,
            credentials_nonce=sealed.nonce,
        )
        if row is None:
            raise NotFoundError(f"provider {provider_id} does not exist")
        return row

    async def update(
        self, provider_id: uuid.UUID, *, base_url: str | None, settings: JsonValue, enabled: bool
    ) -> Provider:
        """Replace a provider's endpoint, settings and enabled flag."""
        row = await queries.update_provider(
            self._conn, id=provider_id, base_url=base_url, settings=settings, enabled=enabled
        )
        if row is None:
            raise NotFoundError(f"provider {provider_id} does not exist")
        return row

    async def get(self, provider_id: uuid.UUID) -> Provider:
        """The provider with this id."""
        row = await queries.get_provider(self._conn, id=provider_id)
        if row is None:
            raise NotFoundError(f"provider {provider_id} does not exist")
        return row

    async def list(self) -> list[Provider]:
        """Every provider by name."""
        return await queries.list_providers(self._conn)
