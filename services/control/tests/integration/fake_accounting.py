"""A real gRPC AccountingService on loopback with canned answers, for control's API tests.

Control's usage, request-log, alert-history and test-alert endpoints (and the OpenAPI fuzz test) talk to it
over gRPC exactly as they talk to the accounting service; it records what it was asked.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from gateway_devstack.procs import free_port
from gateway_proto.v1 import accounting_pb2, accounting_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

TOTALS = accounting_pb2.UsageTotals(
    requests=3, prompt_tokens=120, completion_tokens=45, cost_micro_usd=1234, errors=1
)
TENANT_ID = "3f2b8a1e-9c4d-4e6f-8a7b-1c2d3e4f5a6b"
KEY_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


BUDGET_ID = "0b6a2c8e-1f3d-4b5a-9c7e-2d4f6a8b0c1e"
CHANNEL_ID = "5e7c9a1b-3d5f-4e6a-8b0c-2e4a6c8e0a2b"


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class RecordingAccounting(accounting_pb2_grpc.AccountingServiceServicer):
    """Answers every AccountingService call with fixed data and remembers what it was asked."""

    def __init__(self) -> None:
        self.filters: list[accounting_pb2.UsageFilter] = []
        self.group_by: list[int] = []
        self.pages: list[tuple[int, str]] = []
        self.alert_requests: list[accounting_pb2.ListAlertsRequest] = []
        self.test_alerts: list[str] = []
        # What SendTestAlert answers: "" is delivered, anything else the sender's reason.
        self.test_alert_error = ""

    async def GetUsageSummary(
        self, request: accounting_pb2.GetUsageSummaryRequest, context: Any
    ) -> accounting_pb2.GetUsageSummaryResponse:
        self.filters.append(request.filter)
        totals = accounting_pb2.UsageTotals(
            requests=3, prompt_tokens=120, completion_tokens=45, cost_micro_usd=1234, errors=1
        )
        return accounting_pb2.GetUsageSummaryResponse(totals=totals)

    async def GetUsageBreakdown(
        self, request: accounting_pb2.GetUsageBreakdownRequest, context: Any
    ) -> accounting_pb2.GetUsageBreakdownResponse:
        self.filters.append(request.filter)
        self.group_by.append(request.group_by)
        groups = [
            accounting_pb2.UsageGroup(key="2026-11-02", totals=TOTALS),
            accounting_pb2.UsageGroup(key="2026-11-03"),
        ]
        return accounting_pb2.GetUsageBreakdownResponse(groups=groups)

    async def ListRequests(
        self, request: accounting_pb2.ListRequestsRequest, context: Any
    ) -> accounting_pb2.ListRequestsResponse:
        self.filters.append(request.filter)
        self.pages.append((request.page_size, request.page_token))
        finished = Timestamp()
        finished.FromDatetime(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
        record = accounting_pb2.RequestRecord(
            request_id="req-1",
            finished_at=finished,
            tenant_id=TENANT_ID,
            key_id=KEY_ID,
            model="gpt-4o-mini",
            provider="openai",
            status_code=200,
            prompt_tokens=12,
            completion_tokens=5,
            cost_micro_usd=42,
            stream=True,
            duration_us=1_234_567,
        )
        return accounting_pb2.ListRequestsResponse(
            requests=[record], next_page_token="" if request.page_token else "p2"
        )

    async def ListAlerts(
        self, request: accounting_pb2.ListAlertsRequest, context: Any
    ) -> accounting_pb2.ListAlertsResponse:
        self.alert_requests.append(request)
        if request.page_token == "foreign":
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "page_token is not a token this service issued"
            )
        tenant_id = request.tenant_id or str(uuid.uuid4())
        common = {
            "budget_id": BUDGET_ID,
            "tenant_id": tenant_id,
            "scope": "tenant",
            "scope_id": tenant_id,
            "period": "monthly",
            "period_start": _timestamp(datetime(2026, 11, 1, tzinfo=UTC)),
            "period_end": _timestamp(datetime(2026, 12, 1, tzinfo=UTC)),
            "limit_micro_usd": 1_000_000,
            "channel_id": CHANNEL_ID,
            "created_at": _timestamp(datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),
        }
        sent = accounting_pb2.AlertRecord(
            id=7,
            threshold_percent=80,
            spent_micro_usd=812_000,
            channel_kind="webhook",
            status="sent",
            attempts=2,
            finished_at=_timestamp(datetime(2026, 11, 20, 8, 0, 3, tzinfo=UTC)),
            **common,
        )
        pending = accounting_pb2.AlertRecord(
            id=6,
            threshold_percent=50,
            spent_micro_usd=500_001,
            channel_kind="email",
            status="pending",
            **common,
        )
        return accounting_pb2.ListAlertsResponse(
            alerts=[sent, pending], next_page_token="" if request.page_token else "p2"
        )

    async def SendTestAlert(
        self, request: accounting_pb2.SendTestAlertRequest, context: Any
    ) -> accounting_pb2.SendTestAlertResponse:
        self.test_alerts.append(request.channel_id)
        return accounting_pb2.SendTestAlertResponse(
            delivered=not self.test_alert_error, error=self.test_alert_error
        )


@pytest.fixture
async def accounting() -> AsyncIterator[tuple[str, RecordingAccounting]]:
    server = grpc.aio.server()
    servicer = RecordingAccounting()
    accounting_pb2_grpc.add_AccountingServiceServicer_to_server(servicer, server)
    target = f"127.0.0.1:{free_port()}"
    server.add_insecure_port(target)
    await server.start()
    try:
        yield target, servicer
    finally:
        await server.stop(grace=None)
