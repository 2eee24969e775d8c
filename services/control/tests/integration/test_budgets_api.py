"""Budgets and alert channels: CRUD, validation, roles, isolation, audit, and the snapshot."""

from __future__ import annotations

import uuid
from typing import Any

from gateway_proto.v1.budget_pb2 import BUDGET_SCOPE_KEY, BUDGET_SCOPE_TENANT
from gateway_proto.v1.config_pb2 import ConfigSnapshot

from .rbac_helpers import add_member, create_user, login

WEBHOOK_SECRET = "canary-webhook-secret-0123456789"


async def _tenant_with_admin(control: Any, name: str) -> tuple[str, str, str]:
    """A tenant, one of its keys, and a token of its tenant admin."""
    async with control.client(await control.login()) as admin:
        tenant_id = (await admin.post("/api/v1/tenants", json={"name": name})).json()["id"]
        key_id = (await admin.post(f"/api/v1/tenants/{tenant_id}/keys", json={"name": "k"})).json()["id"]
        await create_user(admin, f"admin@{name}.example")
        await add_member(admin, tenant_id, f"admin@{name}.example", "admin")
    return tenant_id, key_id, await login(control, f"admin@{name}.example")


async def test_budget_lifecycle_reaches_the_snapshot_and_the_audit(control: Any, probe: Any) -> None:
    tenant_id, key_id, _ = await _tenant_with_admin(control, "budgets")
    async with control.client(await control.login()) as admin:
        created = await admin.post(
            f"/api/v1/tenants/{tenant_id}/budgets",
            json={"limit_micro_usd": 1_000_000, "period": "monthly", "timezone": "Europe/Paris"},
        )
        assert created.status_code == 201, created.text
        tenant_budget = created.json()
        assert tenant_budget["scope"] == "tenant"
        assert tenant_budget["scope_id"] == tenant_id
        assert (tenant_budget["hard"], tenant_budget["thresholds"]) == (True, [50, 80, 100])
        rolling = await admin.post(
            f"/api/v1/tenants/{tenant_id}/budgets",
            json={
                "scope": "key",
                "key_id": key_id,
                "limit_micro_usd": 5_000,
                "period": "rolling",
                "rolling_days": 7,
                "hard": False,
                "thresholds": [90, 10, 90],
            },
        )
        assert rolling.status_code == 201, rolling.text
        key_budget = rolling.json()
        assert (key_budget["scope_id"], key_budget["thresholds"]) == (key_id, [10, 90])

        listed = (await admin.get(f"/api/v1/tenants/{tenant_id}/budgets")).json()["items"]
        assert {b["id"] for b in listed} == {tenant_budget["id"], key_budget["id"]}

        def published(snapshot: ConfigSnapshot) -> bool:
            return {b.id for b in snapshot.budgets} >= {tenant_budget["id"], key_budget["id"]}

        snapshot, _ = await probe.wait_for_snapshot(published)
        by_id = {b.id: b for b in snapshot.budgets}
        first = by_id[tenant_budget["id"]]
        assert (first.scope, first.scope_id, first.limit_micro_usd) == (
            BUDGET_SCOPE_TENANT,
            tenant_id,
            1_000_000,
        )
        assert (first.period, first.timezone, first.hard) == ("monthly", "Europe/Paris", True)
        second = by_id[key_budget["id"]]
        assert (second.scope, second.period, second.rolling_days, second.hard) == (
            BUDGET_SCOPE_KEY,
            "rolling",
            7,
            False,
        )

        changed = await admin.patch(
            f"/api/v1/budgets/{tenant_budget['id']}", json={"limit_micro_usd": 2_000_000, "period": "daily"}
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["limit_micro_usd"], changed.json()["period"]) == (2_000_000, "daily")
        await probe.wait_for_snapshot(
            lambda s: any(b.id == tenant_budget["id"] and b.limit_micro_usd == 2_000_000 for b in s.budgets)
        )
        assert (await admin.delete(f"/api/v1/budgets/{key_budget['id']}")).status_code == 204
        assert (await admin.get(f"/api/v1/budgets/{key_budget['id']}")).status_code == 404
        await probe.wait_for_snapshot(lambda s: all(b.id != key_budget["id"] for b in s.budgets))

        actions = [
            e["action"]
            for e in (await admin.get("/api/v1/audit", params={"target_type": "budget"})).json()["items"]
        ]
        assert sorted(actions) == ["budget.create", "budget.create", "budget.delete", "budget.update"]


async def test_budget_validation(control: Any) -> None:
    tenant_id, key_id, _ = await _tenant_with_admin(control, "invalid")
    other_tenant, other_key, _ = await _tenant_with_admin(control, "invalid-other")
    path = f"/api/v1/tenants/{tenant_id}/budgets"
    async with control.client(await control.login()) as admin:
        cases = [
            ({"limit_micro_usd": 1, "period": "rolling"}, 422, "rolling_days"),
            ({"limit_micro_usd": 1, "period": "daily", "rolling_days": 3}, 422, "rolling_days"),
            ({"limit_micro_usd": 1, "period": "daily", "timezone": "Mars/Olympus"}, 422, "timezone"),
            ({"limit_micro_usd": 1, "period": "hourly"}, 400, None),
            ({"limit_micro_usd": -1, "period": "daily"}, 400, None),
            ({"limit_micro_usd": 1, "period": "daily", "thresholds": [0]}, 400, None),
            ({"limit_micro_usd": 1, "period": "daily", "scope": "key"}, 422, "key_id"),
            ({"limit_micro_usd": 1, "period": "daily", "key_id": key_id}, 422, "key_id"),
            ({"limit_micro_usd": 1, "period": "daily", "scope": "key", "key_id": other_key}, 422, "key_id"),
        ]
        for body, status, param in cases:
            response = await admin.post(path, json=body)
            assert response.status_code == status, (body, response.text)
            if param is not None:
                assert response.json()["error"]["details"]["param"] == param, body
        ok = {"limit_micro_usd": 1, "period": "weekly"}
        assert (await admin.post(path, json=ok)).status_code == 201
        duplicate = await admin.post(path, json=ok)
        assert duplicate.status_code == 409, duplicate.text
        assert (await admin.get(f"/api/v1/tenants/{other_tenant}/budgets")).json()["items"] == []


async def test_budget_roles_and_isolation(control: Any) -> None:
    tenant_id, key_id, tenant_admin = await _tenant_with_admin(control, "roles")
    other_tenant, other_key, other_admin = await _tenant_with_admin(control, "roles-other")
    async with control.client(await control.login()) as admin:
        tenant_budget = (
            await admin.post(
                f"/api/v1/tenants/{tenant_id}/budgets", json={"limit_micro_usd": 9, "period": "daily"}
            )
        ).json()
    async with control.client(tenant_admin) as client:
        # A tenant admin caps its keys, not its own tenant (that is the platform's call).
        own = await client.post(
            f"/api/v1/tenants/{tenant_id}/budgets",
            json={"limit_micro_usd": 9, "period": "daily", "scope": "key", "key_id": key_id},
        )
        assert own.status_code == 201, own.text
        assert (
            await client.post(
                f"/api/v1/tenants/{tenant_id}/budgets", json={"limit_micro_usd": 9, "period": "weekly"}
            )
        ).status_code == 403
        assert (await client.get(f"/api/v1/budgets/{tenant_budget['id']}")).status_code == 200
        assert (
            await client.patch(f"/api/v1/budgets/{tenant_budget['id']}", json={"limit_micro_usd": 10**9})
        ).status_code == 403
        assert (await client.delete(f"/api/v1/budgets/{tenant_budget['id']}")).status_code == 403
        assert (
            await client.patch(f"/api/v1/budgets/{own.json()['id']}", json={"hard": False})
        ).status_code == 200
    async with control.client(other_admin) as client:
        for method, path, body in [
            ("GET", f"/api/v1/tenants/{tenant_id}/budgets", None),
            ("POST", f"/api/v1/tenants/{tenant_id}/budgets", {"limit_micro_usd": 1, "period": "daily"}),
            ("GET", f"/api/v1/budgets/{own.json()['id']}", None),
            ("PATCH", f"/api/v1/budgets/{own.json()['id']}", {"hard": True}),
            ("DELETE", f"/api/v1/budgets/{own.json()['id']}", None),
        ]:
            foreign = await client.request(method, path, json=body)
            assert foreign.status_code == 404, (method, path, foreign.text)
        unknown = await client.get(f"/api/v1/budgets/{uuid.uuid4()}")
        assert unknown.status_code == 404
        # Its own key, in its own tenant, is fine; another tenant's key is not.
        assert (
            await client.post(
                f"/api/v1/tenants/{other_tenant}/budgets",
                json={"limit_micro_usd": 1, "period": "daily", "scope": "key", "key_id": key_id},
            )
        ).status_code == 422
        assert (
            await client.post(
                f"/api/v1/tenants/{other_tenant}/budgets",
                json={"limit_micro_usd": 1, "period": "daily", "scope": "key", "key_id": other_key},
            )
        ).status_code == 201


async def test_alert_channels_keep_the_webhook_secret_write_only(control: Any) -> None:
    tenant_id, _, tenant_admin = await _tenant_with_admin(control, "alerts")
    _, _, other_admin = await _tenant_with_admin(control, "alerts-other")
    path = f"/api/v1/tenants/{tenant_id}/alert-channels"
    async with control.client(tenant_admin) as client:
        hook = await client.post(
            path,
            json={
                "name": "ops",
                "kind": "webhook",
                "target": "https://hooks.example/x",
                "secret": WEBHOOK_SECRET,
            },
        )
        assert hook.status_code == 201, hook.text
        assert hook.json()["has_secret"] is True
        mail = await client.post(
            path, json={"name": "finance", "kind": "email", "target": "money@alerts.example"}
        )
        assert mail.status_code == 201, mail.text
        bad = [
            {"name": "a", "kind": "webhook", "target": "ftp://x"},
            {"name": "a2", "kind": "webhook", "target": "http://[::1"},
            {"name": "b", "kind": "email", "target": "not-an-address"},
            {"name": "c", "kind": "email", "target": "a@b.example", "secret": WEBHOOK_SECRET},
        ]
        for body in bad:
            assert (await client.post(path, json=body)).status_code == 422, body
        assert (
            await client.post(path, json={"name": "ops", "kind": "email", "target": "a@b.example"})
        ).status_code == 409
        listed = (await client.get(path)).json()["items"]
        assert [c["name"] for c in listed] == ["finance", "ops"]
        disabled = await client.patch(f"/api/v1/alert-channels/{hook.json()['id']}", json={"enabled": False})
        assert disabled.status_code == 200
        assert (disabled.json()["enabled"], disabled.json()["has_secret"]) == (False, True)
        assert (await client.get("/api/v1/alert-channels")).status_code == 403  # platform channels
        assert (await client.delete(f"/api/v1/alert-channels/{mail.json()['id']}")).status_code == 204
    async with control.client(other_admin) as client:
        assert (await client.get(f"/api/v1/alert-channels/{hook.json()['id']}")).status_code == 404
        assert (await client.get(path)).status_code == 404
    async with control.client(await control.login()) as admin:
        platform = await admin.post(
            "/api/v1/alert-channels", json={"name": "noc", "kind": "email", "target": "noc@platform.example"}
        )
        assert platform.status_code == 201, platform.text
        assert platform.json()["tenant_id"] is None
        assert [c["name"] for c in (await admin.get("/api/v1/alert-channels")).json()["items"]] == ["noc"]
        audit = (await admin.get("/api/v1/audit", params={"target_type": "alert_channel"})).json()["items"]
        assert len(audit) == 5
    async with control.client(tenant_admin) as client:
        assert (await client.get(f"/api/v1/alert-channels/{platform.json()['id']}")).status_code == 404
    assert all(WEBHOOK_SECRET not in str(response) for response in control.responses)
    assert all(WEBHOOK_SECRET not in str(entry) for entry in audit)


async def test_new_tenants_and_keys_get_the_default_budgets(start_control: Any, probe: Any) -> None:
    control = start_control(
        DEFAULT_TENANT_BUDGET_MICRO_USD="25000000",
        DEFAULT_KEY_BUDGET_MICRO_USD="1000000",
        DEFAULT_BUDGET_PERIOD="weekly",
        DEFAULT_BUDGET_TIMEZONE="America/New_York",
    )
    async with control.client(await control.login()) as admin:
        tenant_id = (await admin.post("/api/v1/tenants", json={"name": "defaults"})).json()["id"]
        key_id = (await admin.post(f"/api/v1/tenants/{tenant_id}/keys", json={"name": "k"})).json()["id"]
        budgets = (await admin.get(f"/api/v1/tenants/{tenant_id}/budgets")).json()["items"]
        by_scope = {b["scope"]: b for b in budgets}
        assert set(by_scope) == {"tenant", "key"}
        assert (by_scope["tenant"]["scope_id"], by_scope["tenant"]["limit_micro_usd"]) == (
            tenant_id,
            25_000_000,
        )
        assert (by_scope["key"]["scope_id"], by_scope["key"]["limit_micro_usd"]) == (key_id, 1_000_000)
        for budget in budgets:
            assert (budget["period"], budget["timezone"], budget["hard"]) == (
                "weekly",
                "America/New_York",
                True,
            )
        # Ordinary budgets afterwards: an admin may drop the default.
        assert (await admin.delete(f"/api/v1/budgets/{by_scope['key']['id']}")).status_code == 204
    await probe.wait_for_snapshot(lambda s: any(b.id == by_scope["tenant"]["id"] for b in s.budgets))


async def test_without_defaults_nothing_is_budgeted(control: Any) -> None:
    tenant_id, _, _ = await _tenant_with_admin(control, "no-defaults")
    async with control.client(await control.login()) as admin:
        assert (await admin.get(f"/api/v1/tenants/{tenant_id}/budgets")).json()["items"] == []


async def test_a_rotated_key_keeps_its_budgets(control: Any, probe: Any) -> None:
    tenant_id, key_id, tenant_admin = await _tenant_with_admin(control, "rotation")
    async with control.client(tenant_admin) as client:
        created = await client.post(
            f"/api/v1/tenants/{tenant_id}/budgets",
            json={"limit_micro_usd": 7_000, "period": "weekly", "scope": "key", "key_id": key_id},
        )
        assert created.status_code == 201, created.text
        rotated = await client.post(f"/api/v1/keys/{key_id}/rotate", json={"grace_period_s": 0})
        assert rotated.status_code == 201, rotated.text
        successor = rotated.json()["id"]
        budgets = (await client.get(f"/api/v1/tenants/{tenant_id}/budgets")).json()["items"]
    carried = [b for b in budgets if b["scope_id"] == successor]
    assert [(b["limit_micro_usd"], b["period"], b["hard"]) for b in carried] == [(7_000, "weekly", True)]
    await probe.wait_for_snapshot(lambda s: any(b.scope_id == successor for b in s.budgets))
