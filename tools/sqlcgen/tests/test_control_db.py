"""Control's migrations and generated psycopg queries, run against a fresh real database."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from gateway_common.migrations import apply_migrations, discover_migrations
from gateway_control.db import (
    api_keys,
    audit,
    budgets,
    config_revisions,
    deployments,
    memberships,
    models,
    providers,
    routes,
    settings,
    tenants,
    users,
)

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "control" / "migrations"
NIL = uuid.UUID(int=0)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@pytest.fixture
async def conn(fresh_database_url: str) -> AsyncIterator[psycopg.AsyncConnection[object]]:
    applied = await apply_migrations(fresh_database_url, "control", MIGRATIONS)
    assert applied == [m.version for m in discover_migrations(MIGRATIONS)]
    assert applied[0] == "0001_init"
    async with await psycopg.AsyncConnection.connect(fresh_database_url, autocommit=True) as connection:
        yield connection


async def new_tenant(conn: psycopg.AsyncConnection[object], name: str) -> uuid.UUID:
    tenant = await tenants.create_tenant(
        conn, name=name, is_personal=False, rpm_limit=None, tpm_limit=None, max_parallel=None
    )
    assert tenant is not None
    return tenant.id


async def new_key(
    conn: psycopg.AsyncConnection[object], tenant_id: uuid.UUID, secret: str
) -> api_keys.ApiKey:
    key = await api_keys.create_api_key(
        conn,
        tenant_id=tenant_id,
        user_id=None,
        name=secret,
        digest=digest(secret),
        prefix="sk-gw-",
        last4=secret[-4:],
        allowed_models=["gpt-4o-mini"],
        allowed_endpoints=[],
        rpm_limit=60,
        tpm_limit=None,
        max_parallel=None,
        expires_at=None,
        last_rotated_from=None,
    )
    assert key is not None
    return key


async def test_tenant_create_get_list_and_status(conn: psycopg.AsyncConnection[object]) -> None:
    created = await tenants.create_tenant(
        conn, name="acme", is_personal=False, rpm_limit=600, tpm_limit=None, max_parallel=4
    )
    assert created is not None
    assert (created.status, created.rpm_limit, created.tpm_limit) == ("active", 600, None)

    assert await tenants.get_tenant(conn, id=created.id) == created
    assert await tenants.get_tenant(conn, id=uuid.uuid4()) is None
    assert await tenants.get_tenant_by_name(conn, name="acme") == created

    await new_tenant(conn, "zeta")
    await new_tenant(conn, "beta")
    page = await tenants.list_tenants(conn, limit=2, offset=1)
    assert [t.name for t in page] == ["beta", "zeta"]
    assert await tenants.count_tenants(conn) == 3

    suspended = await tenants.update_tenant_status(conn, id=created.id, status="suspended")
    assert suspended is not None
    assert suspended.status == "suspended"
    assert suspended.updated_at >= created.updated_at
    with pytest.raises(psycopg.errors.CheckViolation):
        await tenants.update_tenant_status(conn, id=created.id, status="deleted")


async def test_users_are_stored_lower_cased_and_found_by_email(conn: psycopg.AsyncConnection[object]) -> None:
    user = await users.create_user(
        conn,
        email="Ada@Example.COM",
        display_name="Ada",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        is_platform_admin=True,
        oidc_issuer=None,
        oidc_subject=None,
    )
    assert user is not None
    assert user.email == "ada@example.com"
    assert await users.get_user_by_email(conn, email="ADA@example.com") == user
    assert await users.update_user_password_hash(conn, id=user.id, password_hash=None) == 1
    assert await users.set_user_disabled(conn, id=uuid.uuid4(), disabled=True) == 0

    with pytest.raises(psycopg.errors.CheckViolation):
        await users.create_user(
            conn,
            email="bob@example.com",
            display_name="",
            password_hash="plain-text",
            is_platform_admin=False,
            oidc_issuer=None,
            oidc_subject=None,
        )


async def test_memberships_join_users_and_tenants(conn: psycopg.AsyncConnection[object]) -> None:
    tenant_id = await new_tenant(conn, "acme")
    user = await users.create_user(
        conn,
        email="ada@example.com",
        display_name="Ada",
        password_hash=None,
        is_platform_admin=False,
        oidc_issuer="https://issuer",
        oidc_subject="42",
    )
    assert user is not None
    await memberships.create_membership(conn, user_id=user.id, tenant_id=tenant_id, role="admin")

    (for_user,) = await memberships.list_memberships_for_user(conn, user_id=user.id)
    assert (for_user.tenant_name, for_user.role) == ("acme", "admin")
    (for_tenant,) = await memberships.list_memberships_for_tenant(conn, tenant_id=tenant_id)
    assert (for_tenant.email, for_tenant.role) == ("ada@example.com", "admin")
    assert await users.get_user_by_oidc(conn, oidc_issuer="https://issuer", oidc_subject="42") == user


async def test_api_keys_by_digest_revocation_and_active_listing(
    conn: psycopg.AsyncConnection[object],
) -> None:
    tenant_id = await new_tenant(conn, "acme")
    other_id = await new_tenant(conn, "suspended-co")
    kept = await new_key(conn, tenant_id, "sk-gw-kept-1111")
    revoked = await new_key(conn, tenant_id, "sk-gw-revoked-2222")
    await new_key(conn, other_id, "sk-gw-other-3333")
    await tenants.update_tenant_status(conn, id=other_id, status="suspended")

    assert await api_keys.get_api_key_by_digest(conn, digest=digest("sk-gw-kept-1111")) == kept
    assert kept.allowed_models == ["gpt-4o-mini"]
    assert kept.allowed_endpoints == []
    first = await api_keys.revoke_api_key(conn, id=revoked.id)
    assert first is not None
    assert first.revoked_at is not None
    assert await api_keys.revoke_api_key(conn, id=revoked.id) is None

    active = await api_keys.list_active_api_keys(conn, after_id=NIL, limit=100)
    assert [(k.id, k.digest, k.rpm_limit) for k in active] == [(kept.id, kept.digest, 60)]
    listed = await api_keys.list_api_keys_by_tenant(conn, tenant_id=tenant_id, limit=10, offset=0)
    assert {k.id for k in listed} == {kept.id, revoked.id}
    with pytest.raises(psycopg.errors.UniqueViolation):
        await new_key(conn, tenant_id, "sk-gw-kept-1111")


async def test_catalogue_providers_models_deployments_routes(conn: psycopg.AsyncConnection[object]) -> None:
    provider = await providers.create_provider(
        conn,
        name="openai-main",
        type="openai",
        base_url="https://api.openai.com/v1",
        settings={"organization": "org-1", "retries": 2},
        credentials_ciphertext=b"\x00sealed",
        credentials_key_id="kek-1",
        credentials_wrapped_key=b"\x01wrapped",
        credentials_nonce=b"\x02" * 12,
        enabled=True,
    )
    assert provider is not None
    assert provider.settings == {"organization": "org-1", "retries": 2}
    assert provider.credentials_ciphertext == b"\x00sealed"

    model = await models.create_model(
        conn,
        name="gpt-4o-mini",
        owned_by="openai",
        capabilities=["chat", "tools"],
        context_window=128_000,
        input_price_micro_usd_per_mtok=150_000,
        output_price_micro_usd_per_mtok=600_000,
        cached_input_price_micro_usd_per_mtok=75_000,
        reasoning_price_micro_usd_per_mtok=None,
        sync_timeout_ms=None,
        stream_idle_timeout_ms=30_000,
        total_timeout_ms=None,
        upstream_timeout_ms=None,
        enabled=True,
    )
    assert model is not None
    repriced = await models.update_model_pricing(
        conn,
        id=model.id,
        input_price_micro_usd_per_mtok=100_000,
        output_price_micro_usd_per_mtok=400_000,
        cached_input_price_micro_usd_per_mtok=None,
        reasoning_price_micro_usd_per_mtok=None,
    )
    assert repriced is not None
    assert (repriced.input_price_micro_usd_per_mtok, repriced.cached_input_price_micro_usd_per_mtok) == (
        100_000,
        None,
    )

    deployment = await deployments.create_deployment(
        conn,
        model_id=model.id,
        provider_id=provider.id,
        upstream_model="gpt-4o-mini-2024-07-18",
        weight=3,
        priority=0,
        rpm_limit=None,
        tpm_limit=2_000_000,
        settings={},
        enabled=True,
        cost_input_micro_usd_per_mtok=120_000,
        cost_output_micro_usd_per_mtok=480_000,
        cost_cached_input_micro_usd_per_mtok=None,
    )
    assert deployment is not None
    assert await deployments.list_deployments_by_model(conn, model_id=model.id) == [deployment]
    created_route = await routes.create_route(
        conn, model_id=model.id, strategy="weighted", fallback_models=["gpt-4o"]
    )
    assert created_route is not None
    (route,) = await routes.list_routes(conn)
    assert (route.model_name, route.fallback_models) == ("gpt-4o-mini", ["gpt-4o"])
    # 0003_routing_cost: the lowest-cost strategy is allowed, a cost is input and output together.
    cheapest = await routes.update_route(
        conn, id=created_route.id, strategy="lowest_cost", fallback_models=[]
    )
    assert cheapest is not None
    assert cheapest.strategy == "lowest_cost"
    with pytest.raises(psycopg.errors.CheckViolation):
        await routes.update_route(conn, id=created_route.id, strategy="cheapest", fallback_models=[])
    with pytest.raises(psycopg.errors.CheckViolation):
        await deployments.update_deployment(
            conn,
            id=deployment.id,
            weight=1,
            priority=0,
            rpm_limit=None,
            tpm_limit=None,
            enabled=True,
            cost_input_micro_usd_per_mtok=1,
            cost_output_micro_usd_per_mtok=None,
            cost_cached_input_micro_usd_per_mtok=None,
        )


async def test_budget_timezone_is_validated(conn: psycopg.AsyncConnection[object]) -> None:
    tenant_id = await new_tenant(conn, "acme")
    budget = await budgets.create_budget(
        conn,
        scope="tenant",
        scope_id=tenant_id,
        limit_micro_usd=5_000_000,
        period="monthly",
        rolling_days=None,
        timezone="Europe/Paris",
        hard=True,
        thresholds=[50, 80, 100],
    )
    assert budget is not None
    assert await budgets.list_budgets_by_scope(conn, scope="tenant", scope_id=tenant_id) == [budget]
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        await budgets.create_budget(
            conn,
            scope="tenant",
            scope_id=tenant_id,
            limit_micro_usd=1,
            period="daily",
            rolling_days=None,
            timezone="Mars/Olympus_Mons",
            hard=False,
            thresholds=[],
        )


async def test_settings_upsert_and_config_revisions(conn: psycopg.AsyncConnection[object]) -> None:
    await settings.upsert_setting(conn, key="defaults.rpm", value=60)
    updated = await settings.upsert_setting(conn, key="defaults.rpm", value={"value": 120})
    assert updated is not None
    assert await settings.get_setting(conn, key="defaults.rpm") == updated
    assert updated.value == {"value": 120}

    assert await config_revisions.latest_config_revision(conn) == 0
    first = await config_revisions.next_config_revision(conn, actor_id=None, reason="boot")
    second = await config_revisions.next_config_revision(conn, actor_id=uuid.uuid4(), reason="model added")
    assert first is not None
    assert second is not None
    assert second.revision > first.revision
    assert await config_revisions.latest_config_revision(conn) == second.revision


async def test_audit_log_filters_and_is_append_only(conn: psycopg.AsyncConnection[object]) -> None:
    actor = uuid.uuid4()
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    until = since + datetime.timedelta(hours=1)
    for index in range(3):
        await audit.insert_audit_entry(
            conn,
            actor_id=actor if index < 2 else None,
            actor_email="ada@example.com",
            action="tenant.create",
            target_type="tenant",
            target_id=str(index),
            before=None,
            after={"name": f"t{index}"},
            request_id=f"req-{index}",
            ip="10.0.0.7" if index == 0 else None,
        )

    mine = await audit.list_audit_entries(
        conn,
        since=since,
        until=until,
        actor_id=actor,
        target_type=None,
        target_id=None,
        before_id=None,
        limit=10,
    )
    assert [e.target_id for e in mine] == ["1", "0"]
    assert [e.ip for e in mine] == [None, "10.0.0.7"]
    assert mine[1].after == {"name": "t0"}
    older = await audit.list_audit_entries(
        conn,
        since=since,
        until=until,
        actor_id=None,
        target_type="tenant",
        target_id=None,
        before_id=mine[0].id,
        limit=10,
    )
    assert [e.target_id for e in older] == ["0"]

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        await conn.execute("UPDATE control.audit_log SET action = 'x'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        await conn.execute("DELETE FROM control.audit_log")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        await conn.execute("TRUNCATE control.audit_log")
