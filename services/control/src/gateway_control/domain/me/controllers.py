"""HTTP routes of the self-service `/user` API (any signed-in user, about themselves)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gateway_control.domain._types import PageLimit, PageOffset
from gateway_control.domain.audit.services import Actor
from gateway_control.domain.keys.controllers import provide_api_key_service
from gateway_control.domain.keys.schemas import ApiKey, ApiKeyPage, CreatedApiKey
from gateway_control.domain.me.schemas import (
    MyApiKeyCreate,
    MyTenantList,
    MyUsage,
    PasswordChange,
    ProfileUpdate,
)
from gateway_control.domain.me.services import SelfService
from gateway_control.domain.usage.services import UsageService
from gateway_control.domain.users.schemas import User
from gateway_control.security.principal import Principal
from gateway_control.state import ControlState


def provide_self_service(control: ControlState) -> SelfService:
    """A SelfService over the app's database, hashing, login limits, keys and accounting."""
    return SelfService(
        control.db,
        control.passwords,
        control.login_limits,
        provide_api_key_service(control),
        UsageService(control.accounting),
    )


class SelfServiceController(Controller):
    """My profile, password, tenants, keys and usage."""

    path = "/user"
    tags = ["user"]
    dependencies = {"me": Provide(provide_self_service, sync_to_thread=False)}

    @get("", operation_id="getMyProfile", summary="My profile")
    async def get_my_profile(self, me: SelfService, principal: Principal) -> User:
        """The signed-in user's account (never the password hash)."""
        return await me.profile(principal)

    @patch("", operation_id="updateMyProfile", summary="Change my profile")
    async def update_my_profile(
        self, me: SelfService, actor: Actor, principal: Principal, data: ProfileUpdate
    ) -> User:
        """Change my display name."""
        return await me.update_profile(actor, principal, data)

    @post(
        "/password",
        operation_id="changeMyPassword",
        summary="Change my password",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def change_my_password(
        self, me: SelfService, actor: Actor, principal: Principal, data: PasswordChange
    ) -> None:
        """Local accounts only (409 for SSO); 403 on a wrong current password; revokes my sessions."""
        await me.change_password(actor, principal, data)

    @get("/tenants", operation_id="listMyTenants", summary="My tenants")
    async def list_my_tenants(self, me: SelfService, principal: Principal) -> MyTenantList:
        """Every tenant I belong to, with my role."""
        return await me.tenants(principal)

    @get("/keys", operation_id="listMyApiKeys", summary="My API keys")
    async def list_my_api_keys(
        self, control: ControlState, principal: Principal, limit: PageLimit = 50, offset: PageOffset = 0
    ) -> ApiKeyPage:
        """The keys I own, in every tenant, newest first (revoked ones included)."""
        return await provide_api_key_service(control).page_for_user(principal.user_id, limit, offset)

    @post(
        "/keys",
        operation_id="createMyApiKey",
        summary="Create an API key of my own",
        status_code=HTTP_201_CREATED,
    )
    async def create_my_api_key(
        self, me: SelfService, actor: Actor, principal: Principal, data: MyApiKeyCreate
    ) -> CreatedApiKey:
        """In my personal tenant, or `tenant_id` where I am at least a member; the secret is shown once."""
        return await me.create_key(actor, principal, data)

    @post(
        "/keys/{key_id:uuid}/revoke",
        operation_id="revokeMyApiKey",
        summary="Revoke one of my API keys",
        status_code=HTTP_200_OK,
    )
    async def revoke_my_api_key(
        self, me: SelfService, actor: Actor, principal: Principal, key_id: uuid.UUID
    ) -> ApiKey:
        """Revoke a key I own (idempotent); other keys answer 404."""
        return await me.revoke_key(actor, principal, key_id)

    @get("/usage", operation_id="getMyUsage", summary="My usage")
    async def get_my_usage(
        self,
        me: SelfService,
        principal: Principal,
        start: Annotated[datetime | None, Parameter(description="Inclusive start, with UTC offset")] = None,
        end: Annotated[datetime | None, Parameter(description="Exclusive end, with UTC offset")] = None,
        timezone: Annotated[
            str | None, Parameter(max_length=64, description="IANA zone days are cut in, e.g. Europe/Paris")
        ] = None,
    ) -> MyUsage:
        """Totals of my keys (the newest 500), per key and summed; 503 when accounting is down."""
        return await me.usage(principal, start, end, timezone)
