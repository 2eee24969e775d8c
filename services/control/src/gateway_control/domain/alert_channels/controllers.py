"""HTTP routes of the alert channels context."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from gateway_control.domain.alert_channels.schemas import (
    AlertChannel,
    AlertChannelCreate,
    AlertChannelList,
    AlertChannelTestResult,
    AlertChannelUpdate,
)
from gateway_control.domain.alert_channels.services import AlertChannelService
from gateway_control.domain.audit.services import Actor
from gateway_control.security.guards import require_platform_admin, require_tenant_role
from gateway_control.security.principal import Principal, TenantRole
from gateway_control.state import ControlState


def provide_alert_channel_service(control: ControlState) -> AlertChannelService:
    """An AlertChannelService over the app's database."""
    return AlertChannelService(control.db, control.accounting)


class AlertChannelController(Controller):
    """Webhooks and email addresses that receive budget alerts."""

    tags = ["alert-channels"]
    dependencies = {"channels": Provide(provide_alert_channel_service, sync_to_thread=False)}

    @post(
        "/tenants/{tenant_id:uuid}/alert-channels",
        operation_id="createAlertChannel",
        summary="Create a tenant's alert channel",
        guards=[require_tenant_role(TenantRole.ADMIN)],
    )
    async def create_alert_channel(
        self, channels: AlertChannelService, actor: Actor, tenant_id: uuid.UUID, data: AlertChannelCreate
    ) -> AlertChannel:
        """A webhook or email address for the tenant's budget alerts (tenant admins)."""
        return await channels.create(actor, tenant_id, data)

    @get(
        "/tenants/{tenant_id:uuid}/alert-channels",
        operation_id="listAlertChannels",
        summary="List a tenant's alert channels",
        guards=[require_tenant_role(TenantRole.ADMIN)],
    )
    async def list_alert_channels(
        self, channels: AlertChannelService, tenant_id: uuid.UUID
    ) -> AlertChannelList:
        """The tenant's channels by name."""
        return await channels.list(tenant_id)

    @post(
        "/alert-channels",
        operation_id="createPlatformAlertChannel",
        summary="Create a platform-wide alert channel",
        guards=[require_platform_admin],
    )
    async def create_platform_alert_channel(
        self, channels: AlertChannelService, actor: Actor, data: AlertChannelCreate
    ) -> AlertChannel:
        """A channel that hears about every tenant's budgets (platform admins)."""
        return await channels.create(actor, None, data)

    @get(
        "/alert-channels",
        operation_id="listPlatformAlertChannels",
        summary="List the platform-wide alert channels",
        guards=[require_platform_admin],
    )
    async def list_platform_alert_channels(self, channels: AlertChannelService) -> AlertChannelList:
        """The platform-wide channels by name."""
        return await channels.list(None)

    @get("/alert-channels/{channel_id:uuid}", operation_id="getAlertChannel", summary="Get an alert channel")
    async def get_alert_channel(
        self, channels: AlertChannelService, principal: Principal, channel_id: uuid.UUID
    ) -> AlertChannel:
        """One channel (its tenant's admins, or platform admins)."""
        return await channels.get(principal, channel_id)

    @patch(
        "/alert-channels/{channel_id:uuid}",
        operation_id="updateAlertChannel",
        summary="Change an alert channel",
    )
    async def update_alert_channel(
        self,
        channels: AlertChannelService,
        actor: Actor,
        principal: Principal,
        channel_id: uuid.UUID,
        data: AlertChannelUpdate,
    ) -> AlertChannel:
        """Name, target, secret (write-only) or enabled flag."""
        return await channels.update(actor, principal, channel_id, data)

    @post(
        "/alert-channels/{channel_id:uuid}/test",
        operation_id="sendTestAlert",
        summary="Send a test alert to an alert channel",
        status_code=HTTP_200_OK,
    )
    async def send_test_alert(
        self, channels: AlertChannelService, actor: Actor, principal: Principal, channel_id: uuid.UUID
    ) -> AlertChannelTestResult:
        """One clearly-marked test alert, sent now through the channel's webhook (signed, SSRF-guarded)
        or email sender, paused channels included; 200 with `delivered` false and the reason when the
        channel did not accept it, 503 when accounting is unreachable. Audited."""
        return await channels.send_test_alert(actor, principal, channel_id)

    @delete(
        "/alert-channels/{channel_id:uuid}",
        operation_id="deleteAlertChannel",
        summary="Delete an alert channel",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_alert_channel(
        self, channels: AlertChannelService, actor: Actor, principal: Principal, channel_id: uuid.UUID
    ) -> None:
        """Remove a channel."""
        await channels.delete(actor, principal, channel_id)
