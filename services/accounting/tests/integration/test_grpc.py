"""AccountingService over a real grpc.aio channel, answered from the rollup and the usage table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from gateway_proto.v1 import accounting_pb2, accounting_pb2_grpc
from gateway_proto.v1.accounting_pb2 import UsageDimension, UsageFilter
from google.protobuf.timestamp_pb2 import Timestamp

OTHER_TENANT = "7d2f0b0a-94a5-4d9e-8a57-3b5e6f1c2d03"
OTHER_KEY = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a04"
# 14:30 and 15:30 UTC are the same UTC day but 23:30 and 00:30 in Tokyo (UTC+9): different days.
DAY = datetime(2026, 3, 10, tzinfo=UTC)


@pytest.fixture
async def service(kit, publisher, db, settings_for, run_app):
    """The service with a known data set stored, and a stub on its gRPC port."""
    events = [
        kit.make_event("r1", started_at=DAY + timedelta(hours=14, minutes=30), model="demo"),
        kit.make_event("r2", started_at=DAY + timedelta(hours=15, minutes=30), model="demo", status_code=429),
        kit.make_event(
            "r3", started_at=DAY + timedelta(hours=15, minutes=45), model="mini", provider="azure"
        ),
        kit.make_event(
            "r4",
            started_at=DAY + timedelta(hours=16),
            tenant_id=OTHER_TENANT,
            key_id=OTHER_KEY,
            prompt_tokens=1,
            completion_tokens=1,
        ),
    ]
    for event in events:
        await publisher.event(event)
    settings = settings_for()
    async with run_app(settings):
        await kit.wait_for(lambda: _rows(kit, db, len(events)), what="4 rows")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{settings.accounting_grpc_port}") as channel:
            yield accounting_pb2_grpc.AccountingServiceStub(channel), {e.request_id: e for e in events}


async def _rows(kit, db, n: int) -> bool:
    return await kit.count_rows(db) == n


def _range(timezone: str = "", **ids: str) -> UsageFilter:
    """Two days from DAY: whole hours, so the rollup answers exactly."""
    start, end = Timestamp(), Timestamp()
    start.FromDatetime(DAY)
    end.FromDatetime(DAY + timedelta(days=2))
    return UsageFilter(start=start, end=end, timezone=timezone, **ids)


async def test_summary_totals_come_from_the_rollup(service, kit):
    stub, events = service
    mine = [events[i] for i in ("r1", "r2", "r3")]
    answer = await stub.GetUsageSummary(
        accounting_pb2.GetUsageSummaryRequest(filter=_range(tenant_id=kit.TENANT))
    )
    assert answer.totals.requests == 3
    assert answer.totals.errors == 1
    assert answer.totals.cost_micro_usd == sum(kit.expected_cost(e) for e in mine)
    assert answer.totals.prompt_tokens == 3000

    everything = await stub.GetUsageSummary(accounting_pb2.GetUsageSummaryRequest(filter=_range()))
    assert everything.totals.requests == 4
    by_model = await stub.GetUsageSummary(accounting_pb2.GetUsageSummaryRequest(filter=_range(model="mini")))
    assert by_model.totals.requests == 1
    by_key = await stub.GetUsageSummary(
        accounting_pb2.GetUsageSummaryRequest(filter=_range(key_id=OTHER_KEY))
    )
    assert by_key.totals.cost_micro_usd == 13  # 2.5 + 10 micro-USD, rounded up
    nothing = await stub.GetUsageSummary(
        accounting_pb2.GetUsageSummaryRequest(filter=_range(tenant_id=str(uuid.uuid4())))
    )
    assert nothing.totals.requests == 0


async def test_breakdown_by_day_cuts_days_in_the_callers_timezone(service):
    stub, _ = service

    async def days(timezone: str) -> dict[str, int]:
        answer = await stub.GetUsageBreakdown(
            accounting_pb2.GetUsageBreakdownRequest(
                filter=_range(timezone=timezone), group_by=UsageDimension.USAGE_DIMENSION_DAY
            )
        )
        return {g.key: g.totals.requests for g in answer.groups}

    assert await days("UTC") == {"2026-03-10": 4}
    assert await days("") == {"2026-03-10": 4}
    assert await days("Asia/Tokyo") == {"2026-03-10": 1, "2026-03-11": 3}
    # New York is UTC-4 on 10 March 2026 (DST began on the 8th): everything is on the 10th.
    assert await days("America/New_York") == {"2026-03-10": 4}


async def test_breakdown_by_each_dimension(service, kit):
    stub, events = service

    async def groups(dimension, **ids) -> dict[str, int]:
        answer = await stub.GetUsageBreakdown(
            accounting_pb2.GetUsageBreakdownRequest(filter=_range(**ids), group_by=dimension)
        )
        return {g.key: g.totals.requests for g in answer.groups}

    assert await groups(UsageDimension.USAGE_DIMENSION_MODEL) == {"demo": 3, "mini": 1}
    assert await groups(UsageDimension.USAGE_DIMENSION_PROVIDER) == {"openai": 3, "azure": 1}
    assert await groups(UsageDimension.USAGE_DIMENSION_TENANT) == {kit.TENANT: 3, OTHER_TENANT: 1}
    assert await groups(UsageDimension.USAGE_DIMENSION_KEY, tenant_id=kit.TENANT) == {kit.KEY: 3}
    answer = await stub.GetUsageBreakdown(
        accounting_pb2.GetUsageBreakdownRequest(
            filter=_range(), group_by=UsageDimension.USAGE_DIMENSION_MODEL
        )
    )
    # Most expensive first, with exact costs.
    assert [g.key for g in answer.groups] == ["demo", "mini"]
    assert answer.groups[1].totals.cost_micro_usd == kit.expected_cost(events["r3"])


async def test_request_log_pages_newest_first(service, kit):
    stub, events = service
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await stub.ListRequests(
            accounting_pb2.ListRequestsRequest(filter=_range(), page_size=3, page_token=token)
        )
        pages += 1
        seen.extend(r.request_id for r in page.requests)
        token = page.next_page_token
        if not token:
            break
    assert pages == 2
    assert seen == ["r4", "r3", "r2", "r1"]
    first = await stub.ListRequests(accounting_pb2.ListRequestsRequest(filter=_range(model="mini")))
    record = first.requests[0]
    assert (record.request_id, record.provider, record.status_code) == ("r3", "azure", 200)
    assert record.cost_micro_usd == kit.expected_cost(events["r3"])
    assert record.duration_us == 123_000
    assert record.finished_at.ToDatetime(tzinfo=UTC) == DAY + timedelta(hours=15, minutes=45)


async def test_budget_status_is_empty_until_budgets_exist(service):
    stub, _ = service
    answer = await stub.GetBudgetStatus(accounting_pb2.GetBudgetStatusRequest())
    assert list(answer.budgets) == []


@pytest.mark.parametrize(
    ("call", "request_", "code", "message"),
    [
        (
            "GetUsageSummary",
            accounting_pb2.GetUsageSummaryRequest(filter=UsageFilter(tenant_id="acme")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "tenant_id",
        ),
        (
            "GetUsageBreakdown",
            accounting_pb2.GetUsageBreakdownRequest(
                filter=UsageFilter(timezone="Nowhere/Land"), group_by=UsageDimension.USAGE_DIMENSION_DAY
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "timezone",
        ),
        (
            "GetUsageBreakdown",
            accounting_pb2.GetUsageBreakdownRequest(),
            grpc.StatusCode.INVALID_ARGUMENT,
            "group_by",
        ),
        (
            "GetUsageBreakdown",
            accounting_pb2.GetUsageBreakdownRequest(group_by=UsageDimension.USAGE_DIMENSION_USER),
            grpc.StatusCode.UNIMPLEMENTED,
            "user",
        ),
        (
            "ListRequests",
            accounting_pb2.ListRequestsRequest(page_token="garbage!"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "page_token",
        ),
        (
            "ListRequests",
            accounting_pb2.ListRequestsRequest(page_size=-1),
            grpc.StatusCode.INVALID_ARGUMENT,
            "page_size",
        ),
    ],
)
async def test_invalid_arguments_are_refused_with_a_message(service, call, request_, code, message):
    stub, _ = service
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await getattr(stub, call)(request_)
    assert raised.value.code() == code
    assert message in raised.value.details()
