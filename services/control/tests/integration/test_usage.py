"""Usage summary through accounting's gRPC AccountingService (a real gRPC server in the test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from gateway_devstack.procs import free_port
from gateway_proto.v1 import accounting_pb2, accounting_pb2_grpc


class RecordingAccounting(accounting_pb2_grpc.AccountingServiceServicer):
    """Answers GetUsageSummary with fixed totals and remembers the filters it was asked."""

    def __init__(self) -> None:
        self.filters: list[accounting_pb2.UsageFilter] = []

    async def GetUsageSummary(
        self, request: accounting_pb2.GetUsageSummaryRequest, context: Any
    ) -> accounting_pb2.GetUsageSummaryResponse:
        self.filters.append(request.filter)
        totals = accounting_pb2.UsageTotals(
            requests=3, prompt_tokens=120, completion_tokens=45, cost_micro_usd=1234, errors=1
        )
        return accounting_pb2.GetUsageSummaryResponse(totals=totals)


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


async def test_usage_summary_asks_accounting(start_control: Any, accounting: Any) -> None:
    target, servicer = accounting
    control = start_control(ACCOUNTING_GRPC_TARGET=target)
    tenant_id = "3f2b8a1e-9c4d-4e6f-8a7b-1c2d3e4f5a6b"
    async with control.client(await control.login()) as client:
        response = await client.get(
            "/api/v1/usage/summary",
            params={
                "tenant_id": tenant_id,
                "start": "2026-11-01T00:00:00Z",
                "end": "2026-12-01T00:00:00+01:00",
                "timezone": "Europe/Paris",
            },
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "requests": 3,
            "prompt_tokens": 120,
            "completion_tokens": 45,
            "cost_micro_usd": 1234,
            "errors": 1,
        }
        [sent] = servicer.filters
        assert sent.tenant_id == tenant_id
        assert sent.key_id == ""
        assert sent.timezone == "Europe/Paris"
        assert sent.start.ToDatetime(tzinfo=UTC) == datetime(2026, 11, 1, tzinfo=UTC)
        assert sent.end.ToDatetime(tzinfo=UTC) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)

        for params in (
            {"timezone": "Mars/Olympus"},
            {"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
            {"start": "2026-11-02T00:00:00"},
        ):
            bad = await client.get("/api/v1/usage/summary", params=params)
            assert bad.status_code == 422, bad.text
        assert (await client.get("/api/v1/usage/summary", params={"tenant_id": "nope"})).status_code == 400
        assert len(servicer.filters) == 1


async def test_usage_summary_is_503_when_accounting_is_down(control: Any) -> None:
    async with control.client(await control.login()) as client:
        response = await client.get("/api/v1/usage/summary")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "accounting_unavailable"
