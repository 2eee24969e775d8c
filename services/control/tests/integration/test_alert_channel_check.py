"""POST /api/v1/alert-channels/{id}/test: a test alert sent by accounting's gRPC SendTestAlert.

A real gRPC server stands in for accounting and records which channels it was asked to test;
accounting's own tests prove the alert is signed, SSRF-guarded and really delivered.
"""

from __future__ import annotations

import uuid
from typing import Any

from .rbac_helpers import add_member, create_user, login

REFUSED = "webhook refused the alert with 403"


async def test_a_test_alert_reports_delivery_and_is_audited(start_control: Any, accounting: Any) -> None:
    target, servicer = accounting
    control = start_control(ACCOUNTING_GRPC_TARGET=target)
    async with control.client(await control.login()) as admin:
        tenant = (await admin.post("/api/v1/tenants", json={"name": "alerting"})).json()["id"]
        hook = await admin.post(
            f"/api/v1/tenants/{tenant}/alert-channels",
            json={"name": "ops", "kind": "webhook", "target": "https://hooks.example/ops", "enabled": False},
        )
        assert hook.status_code == 201, hook.text
        channel = hook.json()["id"]

        sent = await admin.post(f"/api/v1/alert-channels/{channel}/test")
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"delivered": True, "error": None}

        servicer.test_alert_error = REFUSED
        failed = await admin.post(f"/api/v1/alert-channels/{channel}/test")
        assert failed.status_code == 200, failed.text
        assert failed.json() == {"delivered": False, "error": REFUSED}

        unknown = await admin.post(f"/api/v1/alert-channels/{uuid.uuid4()}/test")
        assert unknown.status_code == 404, unknown.text

        audit = await admin.get("/api/v1/audit", params={"action": "alert_channel.test"})
        entries = audit.json()["items"]
    assert servicer.test_alerts == [channel, channel]
    assert [(e["target_id"], e["after"]) for e in entries] == [
        (channel, {"delivered": False, "error": REFUSED}),
        (channel, {"delivered": True, "error": None}),
    ]


async def test_only_the_channels_admins_may_send_a_test_alert(start_control: Any, accounting: Any) -> None:
    target, servicer = accounting
    control = start_control(ACCOUNTING_GRPC_TARGET=target)
    async with control.client(await control.login()) as admin:
        tenant = (await admin.post("/api/v1/tenants", json={"name": "alert-roles"})).json()["id"]
        mail = await admin.post(
            f"/api/v1/tenants/{tenant}/alert-channels",
            json={"name": "finance", "kind": "email", "target": "finance@roles.example"},
        )
        platform = await admin.post(
            "/api/v1/alert-channels", json={"name": "noc", "kind": "email", "target": "noc@roles.example"}
        )
        for email, role in (("viewer@roles.example", "viewer"), ("owner@roles.example", "admin")):
            await create_user(admin, email)
            await add_member(admin, tenant, email, role)
    channel, platform_channel = mail.json()["id"], platform.json()["id"]
    async with control.client(await login(control, "viewer@roles.example")) as viewer:
        refused = await viewer.post(f"/api/v1/alert-channels/{channel}/test")
        assert refused.status_code == 403, refused.text  # a member, but not an admin of the tenant
    async with control.client(await login(control, "owner@roles.example")) as tenant_admin:
        allowed = await tenant_admin.post(f"/api/v1/alert-channels/{channel}/test")
        assert allowed.status_code == 200, allowed.text
        not_theirs = await tenant_admin.post(f"/api/v1/alert-channels/{platform_channel}/test")
        assert not_theirs.status_code == 404, not_theirs.text
    assert servicer.test_alerts == [channel]


async def test_a_test_alert_is_503_when_accounting_is_down(control: Any) -> None:
    async with control.client(await control.login()) as admin:
        platform = await admin.post(
            "/api/v1/alert-channels", json={"name": "noc", "kind": "email", "target": "noc@down.example"}
        )
        response = await admin.post(f"/api/v1/alert-channels/{platform.json()['id']}/test")
        audit = await admin.get("/api/v1/audit", params={"action": "alert_channel.test"})
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "accounting_unavailable"
    assert audit.json()["items"] == []
