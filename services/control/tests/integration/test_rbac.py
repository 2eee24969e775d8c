"""RBAC: the role matrix of tenant routes, and isolation between two tenants (404, never 403)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from gateway_common.apikeys import key_digest

from .rbac_helpers import add_member, create_user, login

ROLES = ("owner", "admin", "member", "viewer", "outsider", "platform")


async def _setup_matrix(control: Any) -> tuple[str, str, dict[str, str]]:
    """A tenant with one user per role (plus an outsider) and their tokens."""
    admin_token = await control.login()
    tokens = {"platform": admin_token}
    async with control.client(admin_token) as admin:
        tenant_id = (await admin.post("/api/v1/tenants", json={"name": "matrix"})).json()["id"]
        other_id = (await admin.post("/api/v1/tenants", json={"name": "elsewhere"})).json()["id"]
        for role in ROLES[:5]:
            email = f"{role}@matrix.example"
            await create_user(admin, email)
            if role != "outsider":
                await add_member(admin, tenant_id, email, role)
            else:
                await add_member(admin, other_id, email, "owner")
    for role in ROLES[:5]:
        tokens[role] = await login(control, f"{role}@matrix.example")
    return tenant_id, admin_token, tokens


def _expect(allowed: set[str], ok: int, platform_only: bool = False) -> dict[str, int]:
    result = {}
    for role in ROLES:
        if role in allowed:
            result[role] = ok
        elif role == "outsider":
            result[role] = 403 if platform_only else 404
        else:
            result[role] = 403
    return result


READERS = {"owner", "admin", "member", "viewer", "platform"}
ADMINS = {"owner", "admin", "platform"}


async def test_role_matrix(control: Any) -> None:
    tenant_id, admin_token, tokens = await _setup_matrix(control)
    async with control.client(admin_token) as admin:
        victims = [
            (await admin.post(f"/api/v1/tenants/{tenant_id}/keys", json={"name": f"v{i}"})).json()["id"]
            for i in range(len(ROLES))
        ]
        for i in range(len(ROLES)):
            await create_user(admin, f"new{i}@matrix.example")

    cases: list[tuple[str, str, str, Any, dict[str, int]]] = [
        ("getTenant", "GET", f"/api/v1/tenants/{tenant_id}", None, _expect(READERS, 200)),
        ("listApiKeys", "GET", f"/api/v1/tenants/{tenant_id}/keys", None, _expect(READERS, 200)),
        ("listMembers", "GET", f"/api/v1/tenants/{tenant_id}/members", None, _expect(READERS, 200)),
        ("createApiKey", "POST", f"/api/v1/tenants/{tenant_id}/keys", {"name": "k"}, _expect(ADMINS, 201)),
        (
            "updateTenant",
            "PATCH",
            f"/api/v1/tenants/{tenant_id}",
            {"status": "active"},
            _expect({"platform"}, 200),
        ),
        ("createTenant", "POST", "/api/v1/tenants", None, _expect({"platform"}, 201, platform_only=True)),
        ("listProviders", "GET", "/api/v1/providers", None, _expect({"platform"}, 200, platform_only=True)),
        ("listModels", "GET", "/api/v1/models", None, _expect({"platform"}, 200, platform_only=True)),
        ("listRoutes", "GET", "/api/v1/routes", None, _expect({"platform"}, 200, platform_only=True)),
        ("listUsers", "GET", "/api/v1/users", None, _expect({"platform"}, 200, platform_only=True)),
        ("listAudit", "GET", "/api/v1/audit", None, _expect({"platform"}, 200, platform_only=True)),
    ]
    failures = []
    for index, role in enumerate(ROLES):
        async with control.client(tokens[role]) as client:
            for name, method, path, body, expected in cases:
                if name == "createTenant":
                    body = {"name": f"t-{role}"}
                response = await client.request(method, path, json=body)
                if response.status_code != expected[role]:
                    failures.append((name, role, response.status_code, expected[role], response.text[:200]))
            revoke = await client.post(f"/api/v1/keys/{victims[index]}/revoke")
            expected_revoke = _expect(ADMINS, 200)[role]
            if revoke.status_code != expected_revoke:
                failures.append(
                    ("revokeApiKey", role, revoke.status_code, expected_revoke, revoke.text[:200])
                )
            add = await client.post(
                f"/api/v1/tenants/{tenant_id}/members",
                json={"email": f"new{index}@matrix.example", "role": "viewer"},
            )
            expected_add = _expect(ADMINS, 201)[role]
            if add.status_code != expected_add:
                failures.append(("addMember", role, add.status_code, expected_add, add.text[:200]))
    assert not failures, failures


async def test_two_tenants_are_isolated(control: Any, probe: Any) -> None:
    admin_token = await control.login()
    async with control.client(admin_token) as admin:
        tenant_a = (await admin.post("/api/v1/tenants", json={"name": "tenant-a"})).json()["id"]
        tenant_b = (await admin.post("/api/v1/tenants", json={"name": "tenant-b"})).json()["id"]
        for email, tenant in (("alice@a.example", tenant_a), ("bob@b.example", tenant_b)):
            await create_user(admin, email)
            await add_member(admin, tenant, email, "admin")
    alice = await login(control, "alice@a.example")
    bob = await login(control, "bob@b.example")
    async with control.client(bob) as client:
        created = await client.post(f"/api/v1/tenants/{tenant_b}/keys", json={"name": "bobs"})
        assert created.status_code == 201, created.text
        b_key = created.json()
    unknown_tenant, unknown_key = uuid.uuid4(), uuid.uuid4()

    async with control.client(alice) as client:
        listed = (await client.get("/api/v1/tenants")).json()
        names = {t["name"] for t in listed["items"]}
        assert "tenant-a" in names
        assert "tenant-b" not in names
        assert listed["total"] == 2  # tenant-a and alice's personal tenant
        attempts = [
            ("GET", "/api/v1/tenants/{t}", None),
            ("PATCH", "/api/v1/tenants/{t}", {"status": "suspended"}),
            ("GET", "/api/v1/tenants/{t}/keys", None),
            ("POST", "/api/v1/tenants/{t}/keys", {"name": "sneaky"}),
            ("GET", "/api/v1/tenants/{t}/members", None),
            ("POST", "/api/v1/tenants/{t}/members", {"email": "alice@a.example", "role": "owner"}),
            ("GET", "/api/v1/usage/summary?tenant_id={t}", None),
            ("GET", "/api/v1/usage/breakdown?group_by=day&tenant_id={t}", None),
            ("GET", "/api/v1/usage/requests?tenant_id={t}", None),
        ]
        for method, template, body in attempts:
            foreign = await client.request(method, template.format(t=tenant_b), json=body)
            missing = await client.request(method, template.format(t=unknown_tenant), json=body)
            assert foreign.status_code == 404, (template, foreign.text)
            assert missing.status_code == 404, (template, missing.text)
            assert foreign.json()["error"]["message"].replace(tenant_b, "X") == missing.json()["error"][
                "message"
            ].replace(str(unknown_tenant), "X")
        key_attempts = [
            ("GET", "/api/v1/keys/{k}", None),
            ("PATCH", "/api/v1/keys/{k}", {"disabled": True}),
            ("POST", "/api/v1/keys/{k}/rotate", {"grace_period_s": 0}),
            ("POST", "/api/v1/keys/{k}/revoke", None),
            ("GET", "/api/v1/usage/summary?key_id={k}", None),
            ("GET", "/api/v1/usage/breakdown?group_by=model&key_id={k}", None),
            ("GET", "/api/v1/usage/requests?key_id={k}", None),
        ]
        for method, template, body in key_attempts:
            foreign = await client.request(method, template.format(k=b_key["id"]), json=body)
            missing = await client.request(method, template.format(k=unknown_key), json=body)
            assert foreign.status_code == 404, (template, foreign.text)
            assert missing.status_code == 404, (template, missing.text)
        assert b_key["key"] not in str(control.responses[-1])

    # Bob's key is untouched: not revoked, not disabled, not rotated.
    record, _ttl = await probe.key_record(key_digest(control.pepper, b_key["key"]))
    assert record is not None
    assert not record.revoked
    assert not record.disabled
    assert not record.HasField("expires_at")
    async with control.client(bob) as client:
        assert (await client.get(f"/api/v1/tenants/{tenant_b}")).status_code == 200
        assert (await client.get(f"/api/v1/tenants/{tenant_a}")).status_code == 404


@pytest.mark.parametrize("granter_role", ["admin", "owner"])
async def test_membership_rules(control: Any, granter_role: str) -> None:
    async with control.client(await control.login()) as admin:
        tenant_id = (await admin.post("/api/v1/tenants", json={"name": "members"})).json()["id"]
        for email in ("granter@m.example", "target@m.example", "owner@m.example"):
            await create_user(admin, email)
        await add_member(admin, tenant_id, "owner@m.example", "owner")
        await add_member(admin, tenant_id, "granter@m.example", granter_role)
        personal = (
            await admin.get("/api/v1/tenants", params={"include_personal": True, "limit": 500})
        ).json()
        personal_id = next(t["id"] for t in personal["items"] if t["is_personal"])
        # A personal tenant has only its owner.
        denied = await admin.post(
            f"/api/v1/tenants/{personal_id}/members", json={"email": "target@m.example", "role": "viewer"}
        )
        assert denied.status_code == 409, denied.text
    async with control.client(await login(control, "granter@m.example")) as client:
        owner_grant = await client.post(
            f"/api/v1/tenants/{tenant_id}/members", json={"email": "target@m.example", "role": "owner"}
        )
        assert owner_grant.status_code == (201 if granter_role == "owner" else 403), owner_grant.text
        if granter_role == "admin":
            assert (
                await client.post(
                    f"/api/v1/tenants/{tenant_id}/members",
                    json={"email": "target@m.example", "role": "member"},
                )
            ).status_code == 201
        duplicate = await client.post(
            f"/api/v1/tenants/{tenant_id}/members", json={"email": "target@m.example", "role": "viewer"}
        )
        assert duplicate.status_code == 409
        unknown = await client.post(
            f"/api/v1/tenants/{tenant_id}/members", json={"email": "nobody@m.example", "role": "viewer"}
        )
        assert unknown.status_code == 422
        members = (await client.get(f"/api/v1/tenants/{tenant_id}/members")).json()["items"]
        target = next(m for m in members if m["email"] == "target@m.example")
        if granter_role == "owner":
            # Demote every other owner, then the last owner cannot demote or remove themselves.
            assert (
                await client.patch(
                    f"/api/v1/tenants/{tenant_id}/members/{target['user_id']}", json={"role": "viewer"}
                )
            ).status_code == 200
            owner = next(m for m in members if m["email"] == "owner@m.example")
            assert (
                await client.delete(f"/api/v1/tenants/{tenant_id}/members/{owner['user_id']}")
            ).status_code == 204
            me = next(m for m in members if m["email"] == "granter@m.example")
            last = await client.patch(
                f"/api/v1/tenants/{tenant_id}/members/{me['user_id']}", json={"role": "admin"}
            )
            assert last.status_code == 409, last.text
            assert (
                await client.delete(f"/api/v1/tenants/{tenant_id}/members/{me['user_id']}")
            ).status_code == 409
        else:
            owner = next(m for m in members if m["email"] == "owner@m.example")
            assert (
                await client.delete(f"/api/v1/tenants/{tenant_id}/members/{owner['user_id']}")
            ).status_code == 403
            changed = await client.patch(
                f"/api/v1/tenants/{tenant_id}/members/{target['user_id']}", json={"role": "viewer"}
            )
            assert changed.status_code == 200
            assert changed.json()["role"] == "viewer"
            assert (
                await client.delete(f"/api/v1/tenants/{tenant_id}/members/{target['user_id']}")
            ).status_code == 204


async def test_users_admin_api(control: Any) -> None:
    admin_token = await control.login()
    async with control.client(admin_token) as admin:
        user = await create_user(admin, "Carol@Users.example")
        assert user["email"] == "carol@users.example"
        assert user["has_password"] is True
        assert user["platform_admin"] is False
        assert "password" not in user
        assert "password_hash" not in user
        assert (await admin.post("/api/v1/users", json={"email": "carol@users.example"})).status_code == 409
        assert (
            await admin.post("/api/v1/users", json={"email": "x@y.example", "password": "short"})
        ).status_code == 400
        assert (await admin.get(f"/api/v1/users/{user['id']}")).json()["email"] == "carol@users.example"
        assert (await admin.get(f"/api/v1/users/{uuid.uuid4()}")).status_code == 404
        page = (await admin.get("/api/v1/users")).json()
        assert page["total"] == 2
        me = next(u for u in page["items"] if u["email"] == control.admin_email)
        assert (
            await admin.patch(f"/api/v1/users/{me['id']}", json={"platform_admin": False})
        ).status_code == 409
    carol = await login(control, "carol@users.example")
    async with control.client(carol) as client:
        tenants = (await client.get("/api/v1/tenants")).json()["items"]
        assert [t["is_personal"] for t in tenants] == [True]
        assert (await client.get("/api/v1/users")).status_code == 403
    async with control.client(admin_token) as admin:
        disabled = await admin.patch(f"/api/v1/users/{user['id']}", json={"disabled": True})
        assert disabled.status_code == 200
        assert disabled.json()["disabled"] is True
    async with control.client(carol) as client:
        assert (await client.get("/api/v1/tenants")).status_code == 401
