"""HTTP routes of the memberships context: /tenants/{tenant_id}/members."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.di import Provide

from gateway_control.domain.audit.services import Actor
from gateway_control.domain.memberships.schemas import Member, MemberAdd, MemberList, MemberUpdate
from gateway_control.domain.memberships.services import MembershipService
from gateway_control.security.guards import require_tenant_role
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.state import ControlState

_ADMIN = [require_tenant_role(TenantRole.ADMIN)]


def provide_membership_service(control: ControlState) -> MembershipService:
    """A MembershipService over the app's database."""
    return MembershipService(control.db)


class MembershipController(Controller):
    """Who holds which role in a tenant."""

    path = "/tenants/{tenant_id:uuid}/members"
    tags = ["memberships"]
    dependencies = {"members": Provide(provide_membership_service, sync_to_thread=False)}

    @get(
        "/",
        operation_id="listMembers",
        summary="List a tenant's members",
        guards=[require_tenant_role(TenantRole.VIEWER)],
    )
    async def list_members(self, members: MembershipService, tenant_id: uuid.UUID) -> MemberList:
        """Every member with their role (any member of the tenant may look)."""
        return await members.list(tenant_id)

    @post("/", operation_id="addMember", summary="Add a member", guards=_ADMIN)
    async def add_member(
        self,
        members: MembershipService,
        actor: Actor,
        principal: Principal,
        tenant_id: uuid.UUID,
        data: MemberAdd,
    ) -> Member:
        """Give an existing user a role (tenant admins; the owner role takes an owner)."""
        return await members.add(actor, principal, tenant_id, data)

    @patch("/{user_id:uuid}", operation_id="updateMember", summary="Change a member's role", guards=_ADMIN)
    async def update_member(
        self,
        members: MembershipService,
        actor: Actor,
        principal: Principal,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID,
        data: MemberUpdate,
    ) -> Member:
        """Change a role; the last owner cannot be demoted."""
        return await members.update(actor, principal, tenant_id, user_id, data)

    @delete("/{user_id:uuid}", operation_id="removeMember", summary="Remove a member", guards=_ADMIN)
    async def remove_member(
        self,
        members: MembershipService,
        actor: Actor,
        principal: Principal,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID,
    ) -> None:
        """Remove a member; the last owner cannot be removed."""
        await members.remove(actor, principal, tenant_id, user_id)
