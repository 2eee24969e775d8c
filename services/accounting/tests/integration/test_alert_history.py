"""AccountingService.ListAlerts: the stored alert history, filtered by tenant and budget, paged.

Alerts are produced the real way: budgets and channels in control's tables, usage events that
cross a threshold, the dispatcher claiming and recording one delivery per channel. The email
channels have no SMTP relay configured, so every delivery ends `failed` (a permanent error, one
attempt) with its error recorded.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import grpc
import pytest
from gateway_accounting.app import migrations_dir
from gateway_common.migrations import apply_migrations
from gateway_proto.v1 import accounting_pb2, accounting_pb2_grpc

OTHER_TENANT = "7d2f0b0a-94a5-4d9e-8a57-3b5e6f1c2d03"
OTHER_KEY = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a04"


async def _finished(db, n: int) -> bool:
    rows = await db.fetch("SELECT status FROM accounting.alert_deliveries")
    return len(rows) == n and all(r["status"] != "pending" for r in rows)


async def _loaded(state, n: int) -> bool:
    return len(state.book.budgets) == n


@pytest.fixture
async def history(kit, publisher, db, control, settings_for, run_app):
    """Three alerts stored (two for the test tenant's budget, one for another tenant's) and a stub."""
    mine = await control.budget(limit_micro_usd=10_000, thresholds=(50, 100))
    await control.tenant(OTHER_TENANT)
    theirs = await control.budget(OTHER_TENANT, limit_micro_usd=10_000, thresholds=(50,))
    await control.channel("email", "finance@example.com")
    await control.channel("email", "other@example.com", tenant_id=OTHER_TENANT)
    settings = settings_for(accounting_budget_refresh_s=0.2)
    async with run_app(settings) as (_app, state):
        await kit.wait_for(lambda: _loaded(state, 2), what="budgets loaded")
        await publisher.event(kit.make_event())  # 7,500 of 10,000: 50 %
        await kit.wait_for(lambda: _finished(db, 1), what="the first alert recorded")
        await publisher.event(kit.make_event(tenant_id=OTHER_TENANT, key_id=OTHER_KEY))
        await kit.wait_for(lambda: _finished(db, 2), what="the other tenant's alert recorded")
        await publisher.event(kit.make_event())  # 15,000: 100 %
        await kit.wait_for(lambda: _finished(db, 3), what="the 100 % alert recorded")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{settings.accounting_grpc_port}") as channel:
            yield accounting_pb2_grpc.AccountingServiceStub(channel), mine, theirs


async def test_alert_history_lists_every_alert_newest_first_with_what_it_reported(history, kit):
    stub, mine, theirs = history
    answer = await stub.ListAlerts(accounting_pb2.ListAlertsRequest())
    assert answer.next_page_token == ""
    assert [(a.budget_id, a.threshold_percent) for a in answer.alerts] == [
        (str(mine), 100),
        (str(theirs), 50),
        (str(mine), 50),
    ]
    newest = answer.alerts[0]
    assert (newest.tenant_id, newest.scope, newest.scope_id, newest.period) == (
        kit.TENANT,
        "tenant",
        kit.TENANT,
        "daily",
    )
    assert (newest.limit_micro_usd, newest.spent_micro_usd) == (10_000, 15_000)
    assert (newest.channel_kind, newest.status, newest.attempts) == ("email", "failed", 1)
    assert "ALERT_SMTP_HOST" in newest.last_error
    assert newest.HasField("finished_at")
    assert newest.created_at.ToDatetime() <= newest.finished_at.ToDatetime()
    assert newest.period_start.ToDatetime() < newest.period_end.ToDatetime()
    assert answer.alerts[1].tenant_id == OTHER_TENANT


async def test_alert_history_filters_by_tenant_and_by_budget(history, kit):
    stub, mine, theirs = history
    by_tenant = await stub.ListAlerts(accounting_pb2.ListAlertsRequest(tenant_id=kit.TENANT))
    assert [(a.budget_id, a.threshold_percent) for a in by_tenant.alerts] == [
        (str(mine), 100),
        (str(mine), 50),
    ]
    by_budget = await stub.ListAlerts(accounting_pb2.ListAlertsRequest(budget_id=str(theirs)))
    assert [a.tenant_id for a in by_budget.alerts] == [OTHER_TENANT]
    both = await stub.ListAlerts(
        accounting_pb2.ListAlertsRequest(tenant_id=kit.TENANT, budget_id=str(theirs))
    )
    assert list(both.alerts) == []
    nobody = await stub.ListAlerts(accounting_pb2.ListAlertsRequest(tenant_id=str(uuid.uuid4())))
    assert list(nobody.alerts) == []


async def test_alert_history_pages_with_an_opaque_token(history):
    stub, _mine, _theirs = history
    seen: list[int] = []
    token = ""
    for _ in range(5):
        page = await stub.ListAlerts(accounting_pb2.ListAlertsRequest(page_size=2, page_token=token))
        assert len(page.alerts) <= 2
        seen += [a.id for a in page.alerts]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == 3
    assert seen == sorted(seen, reverse=True)


async def test_alert_history_refuses_bad_arguments(history):
    stub, _mine, _theirs = history
    for fields, message in (
        ({"tenant_id": "not-a-uuid"}, "tenant_id"),
        ({"budget_id": "42"}, "budget_id"),
        ({"page_size": -1}, "page_size"),
        ({"page_token": "bm90IGEgdG9rZW4"}, "page_token"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ListAlerts(accounting_pb2.ListAlertsRequest(**fields))
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, fields
        assert message in (caught.value.details() or ""), fields


async def test_a_request_log_token_is_no_alert_history_token(history):
    stub, _mine, _theirs = history
    log = await stub.ListRequests(accounting_pb2.ListRequestsRequest(page_size=1))
    assert log.next_page_token
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListAlerts(accounting_pb2.ListAlertsRequest(page_token=log.next_page_token))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_migration_0004_gives_older_alerts_their_tenant(fresh_database_url, db, tmp_path):
    """Alerts stored before the tenant column: a tenant budget's tenant is its scope, a key
    budget's the tenant the key's usage was recorded under, unknown (NULL) for a key never used."""
    migrations = Path(migrations_dir())
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(migrations.glob("000[1-3]_*.sql")):
        shutil.copy(path, before / path.name)
    await apply_migrations(fresh_database_url, "accounting", before)
    used_key, unused_key = uuid.uuid4(), uuid.uuid4()
    await db.execute(
        "INSERT INTO accounting.usage (request_id, tenant_id, key_id, model, endpoint, status_code, stream,"
        " cost_micro_usd, pricing_revision, started_at, finished_at, latency_ms)"
        " VALUES ('r1', $1, $2, 'm', 'chat', 200, false, 0, 0, now(), now(), 0)",
        uuid.UUID(OTHER_TENANT),
        used_key,
    )
    scopes = {"tenant": uuid.UUID(OTHER_TENANT), "used": used_key, "unused": unused_key}
    for name, scope_id in scopes.items():
        budget_id = uuid.uuid5(uuid.NAMESPACE_OID, name)
        await db.execute(
            "INSERT INTO accounting.budget_alerts (budget_id, period_start, threshold, spent_micro_usd)"
            " VALUES ($1, '2026-11-01', 50, 5)",
            budget_id,
        )
        await db.execute(
            "INSERT INTO accounting.alert_deliveries (budget_id, period_start, threshold, channel_id,"
            " channel_kind, scope, scope_id, period, period_end, limit_micro_usd, spent_micro_usd)"
            " VALUES ($1, '2026-11-01', 50, $2, 'email', $3, $4, 'monthly', '2026-12-01', 10, 5)",
            budget_id,
            uuid.uuid4(),
            "tenant" if name == "tenant" else "key",
            scope_id,
        )
    applied = await apply_migrations(fresh_database_url, "accounting", migrations)
    assert applied[0] == "0004_alert_history_tenant"
    rows = await db.fetch("SELECT scope_id, tenant_id FROM accounting.alert_deliveries")
    tenants = {r["scope_id"]: r["tenant_id"] for r in rows}
    assert tenants == {
        uuid.UUID(OTHER_TENANT): uuid.UUID(OTHER_TENANT),
        used_key: uuid.UUID(OTHER_TENANT),
        unused_key: None,
    }
