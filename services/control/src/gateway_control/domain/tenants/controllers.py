"""HTTP routes of the tenants context."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.di import Provide

from gateway_control.domain._types import PageLimit, PageOffset
from gateway_control.domain.audit.services import Actor
from gateway_control.domain.tenants.schemas import Tenant, TenantCreate, TenantPage, TenantUpdate
from gateway_control.domain.tenants.services import TenantService
from gateway_control.state import ControlState


def provide_tenant_service(control: ControlState) -> TenantService:
    """A TenantService over the app's database and key-record publisher."""
    return TenantService(control.db, control.key_records)


class TenantController(Controller):
    """Create, list, read and suspend tenants."""

    path = "/tenants"
    tags = ["tenants"]
    dependencies = {"tenants": Provide(provide_tenant_service, sync_to_thread=False)}

    @post("/", operation_id="createTenant", summary="Create a tenant")
    async def create_tenant(self, tenants: TenantService, actor: Actor, data: TenantCreate) -> Tenant:
        """Create an active tenant; 409 when the name is taken."""
        return await tenants.create(actor, data)

    @get("/", operation_id="listTenants", summary="List tenants")
    async def list_tenants(
        self,
        tenants: TenantService,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> TenantPage:
        """One page of tenants ordered by name."""
        return await tenants.page(limit, offset)

    @get("/{tenant_id:uuid}", operation_id="getTenant", summary="Get a tenant")
    async def get_tenant(self, tenants: TenantService, tenant_id: uuid.UUID) -> Tenant:
        """One tenant by id."""
        return await tenants.get(tenant_id)

    @patch("/{tenant_id:uuid}", operation_id="updateTenant", summary="Activate or suspend a tenant")
    async def update_tenant(
        self, tenants: TenantService, actor: Actor, tenant_id: uuid.UUID, data: TenantUpdate
    ) -> Tenant:
        """Change a tenant's status; a suspended tenant's keys stop working at the proxy."""
        return await tenants.update(actor, tenant_id, data)
