"""The self-service /user API: profile, password, my tenants, my keys, my usage."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from .rbac_helpers import PASSWORD, add_member, create_user, login
from .test_api import create_catalog


async def test_profile_read_and_update(control: Any) -> None:
    async with control.client(await control.login()) as admin:
        user = await create_user(admin, "pat@example.com")
    async with control.client(await login(control, "pat@example.com")) as me:
        profile = await me.get("/api/v1/user")
        assert profile.status_code == 200
        assert profile.json()["id"] == user["id"]
        assert profile.json()["has_password"] is True
        assert "password_hash" not in profile.text
        changed = await me.patch("/api/v1/user", json={"display_name": "Pat"})
        assert changed.status_code == 200
        assert changed.json()["display_name"] == "Pat"
        # Only the display name is self-service: privilege fields are unknown here (400).
        for body in ({"platform_admin": True}, {"disabled": False}, {"email": "x@example.com"}):
            assert (await me.patch("/api/v1/user", json=body)).status_code == 400
        assert (await me.get("/api/v1/user")).json()["platform_admin"] is False
    async with control.client() as anonymous:
        assert (await anonymous.get("/api/v1/user")).status_code == 401


async def test_password_change(control: Any) -> None:
    async with control.client(await control.login()) as admin:
        await create_user(admin, "quinn@example.com")
    async with control.client() as client:
        signed_in = await client.post(
            "/api/v1/auth/login", json={"email": "quinn@example.com", "password": PASSWORD}
        )
    refresh = signed_in.cookies.get("omg_refresh") or ""
    csrf = signed_in.cookies.get("omg_csrf") or ""
    assert refresh
    assert csrf
    async with control.client(signed_in.json()["access_token"]) as me:
        wrong = await me.post(
            "/api/v1/user/password",
            json={"current_password": "not-it-at-all", "new_password": "brand-new-password-1"},
        )
        assert wrong.status_code == 403
        short = await me.post(
            "/api/v1/user/password", json={"current_password": PASSWORD, "new_password": "short"}
        )
        assert short.status_code == 400
        ok = await me.post(
            "/api/v1/user/password",
            json={"current_password": PASSWORD, "new_password": "brand-new-password-1"},
        )
        assert ok.status_code == 204, ok.text
        # The access token keeps working (it is short-lived); the refresh tokens were revoked.
        refreshed = await me.post(
            "/api/v1/auth/refresh",
            headers={"Cookie": f"omg_refresh={refresh}; omg_csrf={csrf}", "X-CSRF-Token": csrf},
        )
        assert refreshed.status_code == 401
    async with control.client() as client:
        old = await client.post(
            "/api/v1/auth/login", json={"email": "quinn@example.com", "password": PASSWORD}
        )
        assert old.status_code == 401
        new = {"email": "quinn@example.com", "password": "brand-new-password-1"}
        assert (await client.post("/api/v1/auth/login", json=new)).status_code == 200


async def test_password_change_is_refused_for_sso_accounts(control: Any) -> None:
    async with control.client(await control.login()) as admin:
        created = await admin.post("/api/v1/users", json={"email": "sso@example.com"})
        assert created.status_code == 201
    # An SSO account has no password to sign in with, so mint its access token directly.
    now = int(time.time())
    claims = {
        "iss": "open-model-gateway/control",
        "aud": "open-model-gateway/control-api",
        "sub": created.json()["id"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, control.env["JWT_SECRET"], algorithm="HS256")
    async with control.client(token) as me:
        assert (await me.get("/api/v1/user")).json()["has_password"] is False
        refused = await me.post(
            "/api/v1/user/password",
            json={"current_password": "anything", "new_password": "brand-new-password-1"},
        )
    assert refused.status_code == 409


async def test_my_tenants_and_keys(control: Any) -> None:
    async with control.client(await control.login()) as admin:
        await create_catalog(admin, control.canary, model="m-open")
        await create_catalog(admin, control.canary, model="m-closed")
        await create_user(admin, "rae@example.com")
        await create_user(admin, "sam@example.com")
        shared = (await admin.post("/api/v1/tenants", json={"name": "acme"})).json()
        viewing = (await admin.post("/api/v1/tenants", json={"name": "peek"})).json()
        foreign = (await admin.post("/api/v1/tenants", json={"name": "other"})).json()
        limited = await admin.patch(f"/api/v1/tenants/{shared['id']}", json={"allowed_models": ["m-open"]})
        assert limited.status_code == 200
        await add_member(admin, shared["id"], "rae@example.com", "member")
        await add_member(admin, viewing["id"], "rae@example.com", "viewer")
        await add_member(admin, shared["id"], "sam@example.com", "admin")
    async with control.client(await login(control, "rae@example.com")) as rae:
        tenants = (await rae.get("/api/v1/user/tenants")).json()["items"]
        roles = {(t["name"], t["role"], t["is_personal"]) for t in tenants}
        assert ("acme", "member", False) in roles
        assert ("peek", "viewer", False) in roles
        assert len(tenants) == 3
        assert any(t["is_personal"] and t["role"] == "owner" for t in tenants)
        personal_id = next(t["id"] for t in tenants if t["is_personal"])

        mine = await rae.post("/api/v1/user/keys", json={"name": "laptop"})
        assert mine.status_code == 201, mine.text
        assert mine.json()["tenant_id"] == personal_id
        assert mine.json()["key"].startswith("sk-")
        in_shared = await rae.post(
            "/api/v1/user/keys", json={"name": "ci", "tenant_id": shared["id"], "allowed_models": ["m-open"]}
        )
        assert in_shared.status_code == 201, in_shared.text
        outside = await rae.post(
            "/api/v1/user/keys", json={"name": "x", "tenant_id": shared["id"], "allowed_models": ["m-closed"]}
        )
        assert outside.status_code == 422
        as_viewer = await rae.post("/api/v1/user/keys", json={"name": "x", "tenant_id": viewing["id"]})
        assert as_viewer.status_code == 403
        not_member = await rae.post("/api/v1/user/keys", json={"name": "x", "tenant_id": foreign["id"]})
        unknown = await rae.post("/api/v1/user/keys", json={"name": "x", "tenant_id": str(uuid.uuid4())})
        assert not_member.status_code == unknown.status_code == 404
        assert not_member.json()["error"]["code"] == "not_found"

        listed = (await rae.get("/api/v1/user/keys")).json()
        assert {k["name"] for k in listed["items"]} == {"laptop", "ci"}
        assert listed["total"] == 2
        assert all("key" not in k for k in listed["items"])
    async with control.client(await login(control, "sam@example.com")) as sam:
        sams = await sam.post("/api/v1/user/keys", json={"name": "sam's", "tenant_id": shared["id"]})
        assert sams.status_code == 201
        # Sam administers acme, but /user/keys only lists and revokes Sam's own keys.
        assert [k["name"] for k in (await sam.get("/api/v1/user/keys")).json()["items"]] == ["sam's"]
        foreign_key = await sam.post(f"/api/v1/user/keys/{in_shared.json()['id']}/revoke")
        assert foreign_key.status_code == 404
    async with control.client(await login(control, "rae@example.com")) as rae:
        assert (await rae.post(f"/api/v1/user/keys/{sams.json()['id']}/revoke")).status_code == 404
        revoked = await rae.post(f"/api/v1/user/keys/{mine.json()['id']}/revoke")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        assert (await rae.post(f"/api/v1/user/keys/{uuid.uuid4()}/revoke")).status_code == 404


async def test_my_usage_sums_my_keys(start_control: Any, accounting: Any) -> None:
    target, servicer = accounting
    control = start_control(ACCOUNTING_GRPC_TARGET=target)
    async with control.client(await control.login()) as admin:
        await create_user(admin, "uma@example.com")
        await create_user(admin, "vic@example.com")
    async with control.client(await login(control, "vic@example.com")) as vic:
        assert (await vic.post("/api/v1/user/keys", json={"name": "not-uma"})).status_code == 201
    async with control.client(await login(control, "uma@example.com")) as uma:
        empty = await uma.get("/api/v1/user/usage")
        assert empty.status_code == 200
        assert empty.json()["total"]["requests"] == 0
        assert empty.json()["keys"] == []
        ids = {(await uma.post("/api/v1/user/keys", json={"name": n})).json()["id"] for n in ("a", "b")}
        servicer.filters.clear()
        usage = await uma.get(
            "/api/v1/user/usage", params={"start": "2026-11-01T00:00:00Z", "timezone": "UTC"}
        )
        assert usage.status_code == 200, usage.text
        body = usage.json()
        assert body["total"] == {
            "requests": 6,
            "prompt_tokens": 240,
            "completion_tokens": 90,
            "cost_micro_usd": 2468,
            "errors": 2,
        }
        assert {k["key_id"] for k in body["keys"]} == ids
        assert {f.key_id for f in servicer.filters} == ids
        assert all(f.tenant_id == "" for f in servicer.filters)
        bad = await uma.get("/api/v1/user/usage", params={"timezone": "Mars/Olympus"})
        assert bad.status_code == 422


async def test_my_usage_is_503_when_accounting_is_down(control: Any) -> None:
    async with control.client(await control.login()) as admin:
        assert (await admin.post("/api/v1/user/keys", json={"name": "k"})).status_code == 201
        response = await admin.get("/api/v1/user/usage")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "accounting_unavailable"
