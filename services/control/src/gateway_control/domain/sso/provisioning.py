"""Who a verified OIDC identity is in control's database: match, link, or provision.

In order:
1. a user linked to this issuer and subject is that user (their email may have changed);
2. else a local user with the same email is linked to the identity, when the provider allows
   linking by email and the provider says the email is verified;
3. else a new user is created (just-in-time provisioning, when allowed) with no password, their
   personal tenant, and the provider's default tenant membership if one is configured.
A disabled user never signs in. Every link and creation is audited in the sign-in's transaction.
"""

from __future__ import annotations

import logging

from gateway_control.database import Connection
from gateway_control.db import memberships as membership_queries
from gateway_control.db import tenants as tenant_queries
from gateway_control.db import users as user_queries
from gateway_control.db.tables import User
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.tenants.personal import ensure_personal_tenant
from gateway_control.oidc.errors import OidcError
from gateway_control.oidc.id_token import IdentityClaims
from gateway_control.settings import OidcProviderSettings

log = logging.getLogger(__name__)


def _checked_email(provider: OidcProviderSettings, identity: IdentityClaims) -> str:
    if identity.email is None or not identity.email_verified:
        raise OidcError("email_not_verified", f"{provider.name} did not assert a verified email")
    domain = identity.email.rsplit("@", 1)[-1]
    allowed = {d.lower() for d in provider.allowed_email_domains}
    if allowed and domain not in allowed:
        raise OidcError("email_domain_not_allowed", f"{domain!r} is not allowed for {provider.name}")
    return identity.email


async def resolve_user(
    conn: Connection, provider: OidcProviderSettings, identity: IdentityClaims, actor: Actor
) -> User:
    """The local user for `identity` (linked or provisioned as configured); OidcError otherwise."""
    user = await user_queries.get_user_by_oidc(
        conn, oidc_issuer=identity.issuer, oidc_subject=identity.subject
    )
    if user is None:
        email = _checked_email(provider, identity)
        existing = await user_queries.get_user_by_email(conn, email=email)
        if existing is not None:
            user = await _link(conn, provider, identity, existing, actor)
        else:
            user = await _provision(conn, provider, identity, email, actor)
    if user.disabled:
        raise OidcError("account_disabled", f"user {user.id} is disabled")
    return user


async def _link(
    conn: Connection, provider: OidcProviderSettings, identity: IdentityClaims, user: User, actor: Actor
) -> User:
    if not provider.link_by_email or user.oidc_issuer is not None:
        raise OidcError(
            "account_not_linked", f"an account with this email exists and {provider.name} may not claim it"
        )
    linked = await user_queries.link_user_oidc(
        conn, id=user.id, oidc_issuer=identity.issuer, oidc_subject=identity.subject
    )
    if linked != 1:
        raise OidcError("account_not_linked", "the account was linked to another identity meanwhile")
    after = {"oidc_issuer": identity.issuer, "oidc_subject": identity.subject, "provider": provider.name}
    await record(conn, actor, "user.sso_link", "user", user.id, after=after)
    refreshed = await user_queries.get_user(conn, id=user.id)
    if refreshed is None:
        raise RuntimeError("a user vanished inside its own transaction")
    return refreshed


async def _provision(
    conn: Connection, provider: OidcProviderSettings, identity: IdentityClaims, email: str, actor: Actor
) -> User:
    if not provider.provision_users:
        raise OidcError("no_account", f"no account matches and {provider.name} does not provision users")
    created = await user_queries.create_user(
        conn,
        email=email,
        display_name=(identity.name or "")[:200],
        password_hash=None,
        is_platform_admin=False,
        oidc_issuer=identity.issuer,
        oidc_subject=identity.subject,
    )
    if created is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    await ensure_personal_tenant(conn, created)
    after: dict[str, object] = {"email": email, "sso": provider.name, "oidc_subject": identity.subject}
    if provider.default_tenant:
        tenant = await tenant_queries.get_tenant_by_name(conn, name=provider.default_tenant)
        if tenant is None:
            log.warning(
                "SSO default tenant does not exist; the user gets only their personal tenant",
                extra={"provider": provider.name, "tenant": provider.default_tenant},
            )
        else:
            await membership_queries.create_membership(
                conn, user_id=created.id, tenant_id=tenant.id, role=provider.default_role
            )
            after.update(tenant_id=str(tenant.id), role=provider.default_role)
    await record(conn, actor, "user.create", "user", created.id, after=after)
    return created
