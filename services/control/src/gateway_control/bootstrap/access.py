"""Applying who may use the gateway: tenants, platform admins and API keys with pinned secrets.

Tenants are matched by name, admins by email, keys by the digest of their secret (computed
exactly as key creation does, with KEY_PEPPER), so a key declared in the file authenticates with
the secret in its environment variable. An admin's password is used only when the user is
created: a password changed later through the API survives re-applying the file (like
ADMIN_PASSWORD). Tenants, users and keys not in the file are left alone.
"""

from __future__ import annotations

import uuid
from typing import Any

from gateway_common.apikeys import display_parts, is_well_formed, key_digest

from gateway_control.bootstrap.context import BootstrapContext
from gateway_control.bootstrap.spec import (
    AdminSpec,
    BootstrapError,
    KeySpec,
    TenantSpec,
    quoted,
    resolve_env,
)
from gateway_control.db import api_keys as key_queries
from gateway_control.db import tenants as tenant_queries
from gateway_control.db.tables import Tenant as TenantRow
from gateway_control.domain.auth.repositories import UserRepository
from gateway_control.domain.keys.repositories import ApiKeyRepository, KeySettings
from gateway_control.domain.keys.services import to_api_key
from gateway_control.domain.models.repositories import ModelRepository
from gateway_control.domain.tenants.personal import ensure_personal_tenant
from gateway_control.domain.tenants.repositories import TenantRepository

_MIN_PASSWORD = 12


def _tenant_image(row: TenantRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "status": row.status,
        "allowed_models": row.allowed_models,
        "rpm_limit": row.rpm_limit,
        "tpm_limit": row.tpm_limit,
        "max_parallel": row.max_parallel,
    }


async def _known_models(ctx: BootstrapContext, models: list[str], path: str) -> list[str]:
    repo = ModelRepository(ctx.conn)
    for index, name in enumerate(models):
        if await repo.find_by_name(name) is None:
            raise BootstrapError([f"{path}[{index}]: unknown model {quoted(name)}"])
    return sorted(set(models))


async def apply_tenants(ctx: BootstrapContext, specs: list[TenantSpec]) -> None:
    """Create or update every shared tenant of the file; changed tenants get their key records rewritten."""
    repo = TenantRepository(ctx.conn)
    for index, spec in enumerate(specs):
        path = f"tenants[{index}]"
        models = await _known_models(ctx, spec.allowed_models, f"{path}.allowed_models")
        row = await tenant_queries.get_tenant_by_name(ctx.conn, name=spec.name)
        if row is not None and row.is_personal:
            raise BootstrapError([f"{path}.name: {quoted(spec.name)} is a personal tenant"])
        before = None if row is None else _tenant_image(row)
        if row is None:
            row = await repo.create(spec.name)
        if row.status != spec.status:
            row = await repo.set_status(row.id, spec.status)
        if (row.rpm_limit, row.tpm_limit, row.max_parallel) != (
            spec.rpm_limit,
            spec.tpm_limit,
            spec.max_parallel,
        ):
            limited = await tenant_queries.update_tenant_limits(
                ctx.conn,
                id=row.id,
                rpm_limit=spec.rpm_limit,
                tpm_limit=spec.tpm_limit,
                max_parallel=spec.max_parallel,
            )
            row = limited or row
        if sorted(row.allowed_models) != models:
            row = await repo.set_allowed_models(row.id, models)
        after = _tenant_image(row)
        if before is None:
            await ctx.audit("tenant.create", "tenant", row.id, spec.name, after=after)
        elif before != after:
            await ctx.audit("tenant.update", "tenant", row.id, spec.name, before=before, after=after)
            ctx.result.tenant_ids.add(row.id)


async def apply_admins(ctx: BootstrapContext, specs: list[AdminSpec]) -> None:
    """Make every listed email a platform admin (created with the password from its variable)."""
    users = UserRepository(ctx.conn)
    for index, spec in enumerate(specs):
        path = f"admins[{index}]"
        email = spec.email.lower()
        user = await users.find_by_email(email)
        if user is None:
            password = resolve_env(ctx.environ, spec.password_env, f"{path}.password_env")
            if len(password) < _MIN_PASSWORD:
                raise BootstrapError(
                    [f"{path}.password_env: {spec.password_env} is under {_MIN_PASSWORD} characters"]
                )
            created = await users.create_platform_admin(email, await ctx.passwords.hash_async(password))
            await ensure_personal_tenant(ctx.conn, created)
            after = {"email": created.email, "platform_admin": True}
            await ctx.audit("user.create", "user", created.id, email, after=after)
        elif not user.is_platform_admin:
            await users.grant_platform_admin(user.id)
            await ctx.audit(
                "user.grant_platform_admin", "user", user.id, email, after={"platform_admin": True}
            )


async def _key_settings(ctx: BootstrapContext, spec: KeySpec, tenant: TenantRow, path: str) -> KeySettings:
    models = await _known_models(ctx, spec.allowed_models, f"{path}.allowed_models")
    outside = sorted(set(models) - set(tenant.allowed_models)) if tenant.allowed_models else []
    if outside:
        raise BootstrapError(
            [f"{path}.allowed_models: tenant {quoted(tenant.name)} is not entitled to {', '.join(outside)}"]
        )
    return KeySettings(
        name=spec.name,
        allowed_models=models,
        rpm_limit=spec.rpm_limit,
        tpm_limit=spec.tpm_limit,
        max_parallel=spec.max_parallel,
        disabled=spec.disabled,
    )


async def apply_keys(ctx: BootstrapContext, specs: list[KeySpec]) -> None:
    """Create or update every key whose secret the file pins; keys without `secret_env` are skipped."""
    repo = ApiKeyRepository(ctx.conn)
    seen: dict[str, int] = {}
    for index, spec in enumerate(specs):
        path = f"keys[{index}]"
        tenant = await tenant_queries.get_tenant_by_name(ctx.conn, name=spec.tenant)
        if tenant is None:
            raise BootstrapError([f"{path}.tenant: unknown tenant {quoted(spec.tenant)}"])
        settings = await _key_settings(ctx, spec, tenant, path)
        if spec.secret_env is None:
            ctx.result.skipped.append(f"{path}: no secret_env, so the key is not created")
            continue
        secret = resolve_env(ctx.environ, spec.secret_env, f"{path}.secret_env")
        if not is_well_formed(secret):
            raise BootstrapError(
                [f"{path}.secret_env: {spec.secret_env} does not hold a well-formed gateway key (sk-gw-...)"]
            )
        digest = key_digest(ctx.pepper, secret)
        if digest in seen:
            raise BootstrapError([f"{path}.secret_env: the same secret as keys[{seen[digest]}]"])
        seen[digest] = index
        row = await key_queries.get_api_key_by_digest(ctx.conn, digest=digest)
        if row is None:
            prefix, last4 = display_parts(secret)
            created = await repo.create(
                tenant_id=tenant.id,
                user_id=None,
                digest=digest,
                prefix=prefix,
                last4=last4,
                settings=settings,
                expires_at=None,
            )
            if settings.disabled:
                created = await repo.update(created.id, settings)
            await ctx.audit("api_key.create", "api_key", created.id, spec.name, after=to_api_key(created))
            ctx.result.key_digests.add(digest)
            continue
        _check_existing_key(row.tenant_id, tenant.id, row.revoked_at is not None, spec, path)
        stored = KeySettings(
            name=row.name,
            allowed_models=sorted(row.allowed_models),
            rpm_limit=row.rpm_limit,
            tpm_limit=row.tpm_limit,
            max_parallel=row.max_parallel,
            disabled=row.disabled,
        )
        if stored != settings:
            updated = await repo.update(row.id, settings)
            await ctx.audit(
                "api_key.update",
                "api_key",
                row.id,
                spec.name,
                before=to_api_key(row),
                after=to_api_key(updated),
            )
            ctx.result.key_digests.add(digest)


def _check_existing_key(
    held_by: uuid.UUID, declared: uuid.UUID, revoked: bool, spec: KeySpec, path: str
) -> None:
    if held_by != declared:
        raise BootstrapError(
            [f"{path}.tenant: this secret belongs to a key of another tenant, not {quoted(spec.tenant)}"]
        )
    if revoked:
        raise BootstrapError([f"{path}.secret_env: the key with this secret was revoked; pin a new secret"])
