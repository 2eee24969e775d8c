"""gRPC client of the accounting service's AccountingService.

The channel is created in the app lifespan (grpc.aio channels belong to one event loop) and
connects lazily, so control starts while accounting is down; a call then fails fast with
DependencyUnavailableError instead of hanging the admin's request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import grpc
from gateway_proto.v1 import accounting_pb2, accounting_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from gateway_control.errors import DependencyUnavailableError, InvalidInputError, NotFoundError

log = logging.getLogger(__name__)

_UNAVAILABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """Which usage to sum; None fields match everything."""

    tenant_id: str | None = None
    key_id: str | None = None
    model: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    timezone: str | None = None


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def usage_filter(query: UsageQuery) -> accounting_pb2.UsageFilter:
    """The proto filter for a query (empty strings and unset timestamps match everything)."""
    proto = accounting_pb2.UsageFilter(
        tenant_id=query.tenant_id or "",
        key_id=query.key_id or "",
        model=query.model or "",
        timezone=query.timezone or "",
    )
    if query.start is not None:
        proto.start.CopyFrom(_timestamp(query.start))
    if query.end is not None:
        proto.end.CopyFrom(_timestamp(query.end))
    return proto


class AccountingClient:
    """Typed calls to AccountingService with a deadline on each."""

    def __init__(self, target: str, timeout_s: float) -> None:
        self._target = target
        self._timeout_s = timeout_s
        self._channel = grpc.aio.insecure_channel(target)
        self._stub = accounting_pb2_grpc.AccountingServiceStub(self._channel)

    async def usage_summary(self, query: UsageQuery) -> accounting_pb2.UsageTotals:
        """Totals over the query; raises DependencyUnavailableError when accounting is unreachable."""
        request = accounting_pb2.GetUsageSummaryRequest(filter=usage_filter(query))
        try:
            response = await self._stub.GetUsageSummary(request, timeout=self._timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise self._translate(exc) from exc
        return response.totals

    async def usage_breakdown(
        self, query: UsageQuery, group_by: accounting_pb2.UsageDimension.ValueType
    ) -> list[accounting_pb2.UsageGroup]:
        """Totals per group; raises DependencyUnavailableError when accounting is unreachable."""
        request = accounting_pb2.GetUsageBreakdownRequest(filter=usage_filter(query), group_by=group_by)
        try:
            response = await self._stub.GetUsageBreakdown(request, timeout=self._timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise self._translate(exc) from exc
        return list(response.groups)

    async def list_requests(
        self, query: UsageQuery, page_size: int, page_token: str
    ) -> accounting_pb2.ListRequestsResponse:
        """One page of the request log, newest first (an empty next_page_token at the end)."""
        request = accounting_pb2.ListRequestsRequest(
            filter=usage_filter(query), page_size=page_size, page_token=page_token
        )
        try:
            return await self._stub.ListRequests(request, timeout=self._timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise self._translate(exc) from exc

    async def list_alerts(
        self, *, tenant_id: str | None, budget_id: str | None, page_size: int, page_token: str
    ) -> accounting_pb2.ListAlertsResponse:
        """One page of the budget alert history, newest first (an empty next_page_token at the end)."""
        request = accounting_pb2.ListAlertsRequest(
            tenant_id=tenant_id or "", budget_id=budget_id or "", page_size=page_size, page_token=page_token
        )
        try:
            return await self._stub.ListAlerts(request, timeout=self._timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise self._translate(exc) from exc

    async def send_test_alert(self, channel_id: str) -> accounting_pb2.SendTestAlertResponse:
        """Have accounting send one test alert to the channel: delivered, or the sender's reason."""
        request = accounting_pb2.SendTestAlertRequest(channel_id=channel_id)
        try:
            return await self._stub.SendTestAlert(request, timeout=self._timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: grpc.aio.AioRpcError) -> Exception:
        code = exc.code()
        if code in _UNAVAILABLE:
            log.warning("accounting unreachable at %s: %s", self._target, code.name)
            return DependencyUnavailableError(
                "accounting", f"the accounting service is unreachable ({code.name}); retry shortly"
            )
        if code is grpc.StatusCode.INVALID_ARGUMENT:
            return InvalidInputError(exc.details() or "accounting rejected the query")
        if code is grpc.StatusCode.NOT_FOUND:
            return NotFoundError(exc.details() or "accounting does not know it")
        log.error("accounting call failed: %s %s", code.name, exc.details())
        return DependencyUnavailableError("accounting", f"the accounting service failed ({code.name})")

    async def close(self) -> None:
        """Close the channel (cancels calls still in flight)."""
        await self._channel.close(grace=1.0)
