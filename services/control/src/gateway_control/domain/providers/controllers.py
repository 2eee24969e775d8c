"""HTTP routes of the providers context."""

from __future__ import annotations

import uuid

from gateway_providers.registry import get_adapter, registered_types
from litestar import Controller, get, patch, post
from litestar.di import Provide

from gateway_control.domain.audit.services import Actor
from gateway_control.domain.providers.schemas import (
    Provider,
    ProviderCreate,
    ProviderList,
    ProviderTypeInfo,
    ProviderTypeList,
    ProviderUpdate,
)
from gateway_control.domain.providers.services import ProviderService
from gateway_control.security.guards import require_platform_admin
from gateway_control.state import ControlState


def provide_provider_service(control: ControlState) -> ProviderService:
    """A ProviderService over the app's database, envelope cipher and publisher."""
    return ProviderService(control.db, control.envelope, control.publisher)


class ProviderController(Controller):
    """Create and list providers; credentials are accepted and never returned."""

    path = "/providers"
    tags = ["providers"]
    guards = [require_platform_admin]
    dependencies = {"providers": Provide(provide_provider_service, sync_to_thread=False)}

    @post("/", operation_id="createProvider", summary="Create a provider")
    async def create_provider(
        self, providers: ProviderService, actor: Actor, data: ProviderCreate
    ) -> Provider:
        """Create a provider; `credentials` is stored encrypted and never returned."""
        return await providers.create(actor, data)

    @get("/", operation_id="listProviders", summary="List providers")
    async def list_providers(self, providers: ProviderService) -> ProviderList:
        """Every provider, without credentials."""
        return await providers.list()

    @get("/types", operation_id="listProviderTypes", summary="List provider types")
    async def list_provider_types(self) -> ProviderTypeList:
        """The provider types with a registered adapter and each adapter's capabilities (for the UI)."""
        return ProviderTypeList(
            items=[
                ProviderTypeInfo(type=name, capabilities=sorted(get_adapter(name).capabilities))
                for name in sorted(registered_types())
            ]
        )

    @get("/{provider_id:uuid}", operation_id="getProvider", summary="Get a provider")
    async def get_provider(self, providers: ProviderService, provider_id: uuid.UUID) -> Provider:
        """One provider, without credentials."""
        return await providers.get(provider_id)

    @patch("/{provider_id:uuid}", operation_id="updateProvider", summary="Change a provider")
    async def update_provider(
        self, providers: ProviderService, actor: Actor, provider_id: uuid.UUID, data: ProviderUpdate
    ) -> Provider:
        """Endpoint, settings, enabled flag, credentials (write-only); the proxy follows within a second."""
        return await providers.update(actor, provider_id, data)
