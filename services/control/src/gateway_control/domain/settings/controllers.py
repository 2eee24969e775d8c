"""Platform settings (platform admins only): default model entitlements and rate-limit defaults."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, put
from litestar.di import Provide

from gateway_control.database import Database
from gateway_control.domain._types import ModelName
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.settings.rate_limits import RateLimitDefaults, RateLimitDefaultsService
from gateway_control.domain.tenants.personal import default_entitlements, set_default_entitlements
from gateway_control.domain.tenants.services import check_models_exist
from gateway_control.publishing.key_cache import KeyRecordPublisher
from gateway_control.security.guards import require_platform_admin
from gateway_control.state import ControlState


class DefaultEntitlements(msgspec.Struct, forbid_unknown_fields=True):
    """Models every personal tenant may use; empty means every model."""

    models: Annotated[list[ModelName], msgspec.Meta(max_length=500)]


class EntitlementService:
    """Reads and changes the defaults; a change resyncs every personal tenant."""

    def __init__(self, db: Database, key_records: KeyRecordPublisher) -> None:
        self._db = db
        self._key_records = key_records

    async def get(self) -> DefaultEntitlements:
        """The current defaults."""
        async with self._db.connection() as conn:
            return DefaultEntitlements(models=await default_entitlements(conn))

    async def put(self, actor: Actor, data: DefaultEntitlements) -> DefaultEntitlements:
        """Replace the defaults, apply them to every personal tenant, re-publish their keys."""
        async with self._db.transaction() as conn:
            before = DefaultEntitlements(models=await default_entitlements(conn))
            models = await check_models_exist(conn, data.models, "models")
            changed = await set_default_entitlements(conn, models)
            after = DefaultEntitlements(models=models)
            await record(
                conn,
                actor,
                "settings.default_model_entitlements",
                "settings",
                None,
                before=before,
                after=after,
            )
        for tenant_id in changed:
            await self._key_records.publish_tenant(tenant_id)
        return after


def provide_entitlement_service(control: ControlState) -> EntitlementService:
    """An EntitlementService over the app's database and key-record publisher."""
    return EntitlementService(control.db, control.key_records)


def provide_rate_limit_defaults(control: ControlState) -> RateLimitDefaultsService:
    """A RateLimitDefaultsService over the app's database and config publisher."""
    return RateLimitDefaultsService(control.db, control.publisher)


class SettingsController(Controller):
    """Platform-wide defaults."""

    path = "/settings"
    tags = ["settings"]
    guards = [require_platform_admin]
    dependencies = {
        "entitlements": Provide(provide_entitlement_service, sync_to_thread=False),
        "rate_limits": Provide(provide_rate_limit_defaults, sync_to_thread=False),
    }

    @get(
        "/default-model-entitlements",
        operation_id="getDefaultModelEntitlements",
        summary="Default entitlements",
    )
    async def get_defaults(self, entitlements: EntitlementService) -> DefaultEntitlements:
        """The models every personal tenant may use (empty: every model)."""
        return await entitlements.get()

    @put(
        "/default-model-entitlements",
        operation_id="setDefaultModelEntitlements",
        summary="Set default entitlements",
    )
    async def set_defaults(
        self, entitlements: EntitlementService, actor: Actor, data: DefaultEntitlements
    ) -> DefaultEntitlements:
        """Replace the defaults; every personal tenant (and its keys' records) follows at once."""
        return await entitlements.put(actor, data)

    @get("/rate-limit-defaults", operation_id="getRateLimitDefaults", summary="Rate-limit defaults")
    async def get_rate_limit_defaults(self, rate_limits: RateLimitDefaultsService) -> RateLimitDefaults:
        """The RPM / TPM / parallel defaults of keys and tenants (0: the proxy's own default)."""
        return await rate_limits.get()

    @put("/rate-limit-defaults", operation_id="setRateLimitDefaults", summary="Set rate-limit defaults")
    async def set_rate_limit_defaults(
        self, rate_limits: RateLimitDefaultsService, actor: Actor, data: RateLimitDefaults
    ) -> RateLimitDefaults:
        """Replace the defaults; the proxies apply them with the next config snapshot."""
        return await rate_limits.put(actor, data)
