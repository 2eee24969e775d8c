"""Personal tenants: every user owns one, entitled to the platform's default models.

The defaults live in the settings row `default_model_entitlements` (a JSON list of model names;
empty means every model). Changing them resyncs every personal tenant's entitlements, and the
caller re-publishes those tenants' key records (`tenant_models` in each KeyRecord).
"""

from __future__ import annotations

import uuid

from gateway_control.database import Connection
from gateway_control.db import memberships as membership_queries
from gateway_control.db import settings as setting_queries
from gateway_control.db import tenants as tenant_queries
from gateway_control.db.tables import Tenant, User

DEFAULT_ENTITLEMENTS_KEY = "default_model_entitlements"


def personal_tenant_name(user_id: uuid.UUID) -> str:
    """The unique name of a user's personal tenant."""
    return f"personal:{user_id}"


async def default_entitlements(conn: Connection) -> list[str]:
    """The default model entitlements (empty: every model)."""
    row = await setting_queries.get_setting(conn, key=DEFAULT_ENTITLEMENTS_KEY)
    if row is None or not isinstance(row.value, list):
        return []
    return sorted({str(name) for name in row.value})


async def set_default_entitlements(conn: Connection, models: list[str]) -> list[uuid.UUID]:
    """Store new defaults and apply them to every personal tenant; returns the tenants changed."""
    await setting_queries.upsert_setting(conn, key=DEFAULT_ENTITLEMENTS_KEY, value=models)
    return await tenant_queries.set_personal_tenants_allowed_models(conn, allowed_models=models)


async def ensure_personal_tenant(conn: Connection, user: User) -> Tenant:
    """The user's personal tenant, created (with the user as owner) when missing."""
    existing = await tenant_queries.get_personal_tenant(conn, personal_owner_id=user.id)
    if existing is not None:
        return existing
    created = await tenant_queries.create_personal_tenant(
        conn,
        name=personal_tenant_name(user.id),
        personal_owner_id=user.id,
        allowed_models=await default_entitlements(conn),
    )
    if created is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    await membership_queries.create_membership(conn, user_id=user.id, tenant_id=created.id, role="owner")
    return created
