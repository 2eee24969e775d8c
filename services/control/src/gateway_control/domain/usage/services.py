"""Usage use cases: validate the window and ask accounting for totals, breakdowns and requests."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import UTC, datetime

from gateway_proto.v1 import accounting_pb2
from gateway_proto.v1.accounting_pb2 import UsageDimension

from gateway_control.clients.accounting import AccountingClient, UsageQuery
from gateway_control.domain.usage.schemas import (
    UsageBreakdown,
    UsageGroup,
    UsageGroupBy,
    UsageRequest,
    UsageRequestPage,
    UsageSummary,
)
from gateway_control.errors import InvalidInputError


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInputError(
            f"{name} must include a UTC offset (e.g. 2026-01-01T00:00:00Z)", details={"param": name}
        )
    return value


def check_window(
    start: datetime | None, end: datetime | None, timezone: str | None
) -> tuple[datetime | None, datetime | None]:
    """The window, validated: offsets required, end after start, a known IANA zone (422 otherwise)."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if start is not None and end is not None and end <= start:
        raise InvalidInputError("end must be after start", details={"param": "end"})
    if timezone:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInputError(f"unknown timezone {timezone!r}", details={"param": "timezone"}) from exc
    return start, end


# The API's group_by names -> accounting's dimensions.
DIMENSIONS: dict[UsageGroupBy, UsageDimension.ValueType] = {
    "tenant": UsageDimension.USAGE_DIMENSION_TENANT,
    "key": UsageDimension.USAGE_DIMENSION_KEY,
    "model": UsageDimension.USAGE_DIMENSION_MODEL,
    "provider": UsageDimension.USAGE_DIMENSION_PROVIDER,
    "day": UsageDimension.USAGE_DIMENSION_DAY,
}


def _summary(totals: accounting_pb2.UsageTotals) -> UsageSummary:
    return UsageSummary(
        requests=totals.requests,
        prompt_tokens=totals.prompt_tokens,
        completion_tokens=totals.completion_tokens,
        cost_micro_usd=totals.cost_micro_usd,
        errors=totals.errors,
    )


def _request(record: accounting_pb2.RequestRecord) -> UsageRequest:
    return UsageRequest(
        request_id=record.request_id,
        finished_at=record.finished_at.ToDatetime(tzinfo=UTC),
        tenant_id=uuid.UUID(record.tenant_id),
        key_id=uuid.UUID(record.key_id),
        model=record.model,
        provider=record.provider,
        status_code=record.status_code,
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        cost_micro_usd=record.cost_micro_usd,
        stream=record.stream,
        latency_ms=record.duration_us // 1000,
    )


class UsageService:
    """Reads usage totals from accounting."""

    def __init__(self, accounting: AccountingClient) -> None:
        self._accounting = accounting

    async def summary(
        self,
        *,
        tenant_id: uuid.UUID | None,
        key_id: uuid.UUID | None,
        start: datetime | None,
        end: datetime | None,
        timezone: str | None,
    ) -> UsageSummary:
        """Totals over [start, end) for a tenant and/or key; 503 when accounting is unreachable."""
        start, end = check_window(start, end, timezone)
        totals = await self._accounting.usage_summary(
            UsageQuery(
                tenant_id=None if tenant_id is None else str(tenant_id),
                key_id=None if key_id is None else str(key_id),
                start=start,
                end=end,
                timezone=timezone,
            )
        )
        return _summary(totals)

    async def breakdown(self, query: UsageQuery, group_by: UsageGroupBy) -> UsageBreakdown:
        """Totals per tenant, key, model, provider or day (days cut in the query's timezone)."""
        check_window(query.start, query.end, query.timezone)
        groups = await self._accounting.usage_breakdown(query, DIMENSIONS[group_by])
        return UsageBreakdown(
            group_by=group_by,
            groups=[UsageGroup(key=group.key, usage=_summary(group.totals)) for group in groups],
        )

    async def requests(self, query: UsageQuery, limit: int, page_token: str | None) -> UsageRequestPage:
        """A page of the request log, newest first."""
        check_window(query.start, query.end, None)
        page = await self._accounting.list_requests(query, limit, page_token or "")
        return UsageRequestPage(
            items=[_request(record) for record in page.requests],
            next_page_token=page.next_page_token or None,
        )
