"""HTTP routes of the keys context."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from gateway_control.domain._types import PageLimit, PageOffset
from gateway_control.domain.audit.services import Actor
from gateway_control.domain.budgets.defaults import DefaultBudgets
from gateway_control.domain.keys.schemas import (
    ApiKey,
    ApiKeyCreate,
    ApiKeyPage,
    ApiKeyRotate,
    ApiKeyUpdate,
    CreatedApiKey,
)
from gateway_control.domain.keys.services import ApiKeyService
from gateway_control.security.guards import require_tenant_role
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.state import ControlState


def provide_api_key_service(control: ControlState) -> ApiKeyService:
    """An ApiKeyService over the app's database, pepper, key-record publisher and default budgets."""
    return ApiKeyService(
        control.db,
        control.settings.key_pepper_bytes,
        control.key_records,
        DefaultBudgets.from_settings(control.settings, control.publisher),
    )


class ApiKeyController(Controller):
    """Create, list, change, rotate and revoke virtual API keys."""

    tags = ["keys"]
    dependencies = {"keys": Provide(provide_api_key_service, sync_to_thread=False)}

    @post(
        "/tenants/{tenant_id:uuid}/keys",
        operation_id="createApiKey",
        summary="Create an API key",
        guards=[require_tenant_role(TenantRole.ADMIN)],
    )
    async def create_api_key(
        self, keys: ApiKeyService, actor: Actor, tenant_id: uuid.UUID, data: ApiKeyCreate
    ) -> CreatedApiKey:
        """Create a key (tenant admins); `key` in the response is the secret, shown only this once."""
        return await keys.create(actor, tenant_id, data)

    @get(
        "/tenants/{tenant_id:uuid}/keys",
        operation_id="listApiKeys",
        summary="List a tenant's API keys",
        guards=[require_tenant_role(TenantRole.VIEWER)],
    )
    async def list_api_keys(
        self, keys: ApiKeyService, tenant_id: uuid.UUID, limit: PageLimit = 50, offset: PageOffset = 0
    ) -> ApiKeyPage:
        """A tenant's keys by prefix and last four characters, newest first."""
        return await keys.page(tenant_id, limit, offset)

    @get("/keys/{key_id:uuid}", operation_id="getApiKey", summary="Get an API key")
    async def get_api_key(self, keys: ApiKeyService, principal: Principal, key_id: uuid.UUID) -> ApiKey:
        """One key (members of its tenant)."""
        return await keys.get(principal, key_id)

    @patch("/keys/{key_id:uuid}", operation_id="updateApiKey", summary="Change an API key")
    async def update_api_key(
        self, keys: ApiKeyService, actor: Actor, principal: Principal, key_id: uuid.UUID, data: ApiKeyUpdate
    ) -> ApiKey:
        """Name, model allow-list, limit overrides (0 removes one) and disabled flag."""
        return await keys.update(actor, principal, key_id, data)

    @post(
        "/keys/{key_id:uuid}/rotate",
        operation_id="rotateApiKey",
        summary="Rotate an API key",
        status_code=HTTP_201_CREATED,
    )
    async def rotate_api_key(
        self, keys: ApiKeyService, actor: Actor, principal: Principal, key_id: uuid.UUID, data: ApiKeyRotate
    ) -> CreatedApiKey:
        """A new key with the same settings; the old one keeps working for `grace_period_s`."""
        return await keys.rotate(actor, principal, key_id, data)

    @post(
        "/keys/{key_id:uuid}/revoke",
        operation_id="revokeApiKey",
        summary="Revoke an API key",
        status_code=HTTP_200_OK,
    )
    async def revoke_api_key(
        self, keys: ApiKeyService, actor: Actor, principal: Principal, key_id: uuid.UUID
    ) -> ApiKey:
        """Revoke a key; the proxy refuses it within a second."""
        return await keys.revoke(actor, principal, key_id)
