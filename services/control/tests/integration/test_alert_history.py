"""GET /api/v1/alerts: the budget alert history through accounting's gRPC ListAlerts.

A real gRPC server stands in for accounting and records what control asked.
"""

from __future__ import annotations

import uuid
from typing import Any

from .fake_accounting import BUDGET_ID, CHANNEL_ID
from .rbac_helpers import add_member, create_user, login


async def test_alert_history_pages_through_accounting(start_control: Any, accounting: Any) -> None:
    target, servicer = accounting
    control = start_control(ACCOUNTING_GRPC_TARGET=target)
    tenant_id = str(uuid.uuid4())
    async with control.client(await control.login()) as client:
        first = await client.get(
            "/api/v1/alerts", params={"tenant_id": tenant_id, "budget_id": BUDGET_ID, "limit": 2}
        )
        assert first.status_code == 200, first.text
        page = first.json()
        assert page["next_page_token"] == "p2"
        sent, pending = page["items"]
        assert sent == {
            "id": 7,
            "budget_id": BUDGET_ID,
            "tenant_id": tenant_id,
            "scope": "tenant",
            "scope_id": tenant_id,
            "threshold_percent": 80,
            "period": "monthly",
            "period_start": "2026-11-01T00:00:00Z",
            "period_end": "2026-12-01T00:00:00Z",
            "limit_micro_usd": 1_000_000,
            "spent_micro_usd": 812_000,
            "channel_id": CHANNEL_ID,
            "channel_kind": "webhook",
            "status": "sent",
            "attempts": 2,
            "last_error": None,
            "created_at": "2026-11-20T08:00:00Z",
            "finished_at": "2026-11-20T08:00:03Z",
        }
        assert (pending["status"], pending["finished_at"], pending["threshold_percent"]) == (
            "pending",
            None,
            50,
        )
        second = await client.get("/api/v1/alerts", params={"page_token": "p2"})
        assert second.status_code == 200, second.text
        assert second.json()["next_page_token"] is None
        asked = [(r.tenant_id, r.budget_id, r.page_size, r.page_token) for r in servicer.alert_requests]
        assert asked == [(tenant_id, BUDGET_ID, 2, ""), ("", "", 100, "p2")]

        foreign = await client.get("/api/v1/alerts", params={"page_token": "foreign"})
        assert foreign.status_code == 422, foreign.text
        assert "page_token" in foreign.json()["error"]["message"]
        for bad in ({"limit": 501}, {"limit": 0}, {"tenant_id": "nope"}, {"budget_id": "42"}):
            refused = await client.get("/api/v1/alerts", params=bad)
            assert refused.status_code == 400, (bad, refused.text)
            assert "error" in refused.json()
        assert len(servicer.alert_requests) == 3


async def test_tenant_members_see_only_their_tenants_alerts(start_control: Any, accounting: Any) -> None:
    target, servicer = accounting
    control = start_control(ACCOUNTING_GRPC_TARGET=target)
    async with control.client(await control.login()) as admin:
        mine = (await admin.post("/api/v1/tenants", json={"name": "alerts-mine"})).json()["id"]
        other = (await admin.post("/api/v1/tenants", json={"name": "alerts-other"})).json()["id"]
        await create_user(admin, "viewer@alerts.example")
        await add_member(admin, mine, "viewer@alerts.example", "viewer")
    async with control.client(await login(control, "viewer@alerts.example")) as viewer:
        allowed = await viewer.get("/api/v1/alerts", params={"tenant_id": mine})
        assert allowed.status_code == 200, allowed.text
        assert {item["tenant_id"] for item in allowed.json()["items"]} == {mine}
        everything = await viewer.get("/api/v1/alerts")
        assert everything.status_code == 403, everything.text
        foreign = await viewer.get("/api/v1/alerts", params={"tenant_id": other})
        assert foreign.status_code == 404, foreign.text
        by_budget_only = await viewer.get("/api/v1/alerts", params={"budget_id": BUDGET_ID})
        assert by_budget_only.status_code == 403, by_budget_only.text
    assert [r.tenant_id for r in servicer.alert_requests] == [mine]


async def test_alert_history_is_503_when_accounting_is_down(control: Any) -> None:
    async with control.client(await control.login()) as client:
        response = await client.get("/api/v1/alerts")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "accounting_unavailable"
