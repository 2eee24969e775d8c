"""Usage use cases: validate the window and ask accounting for the totals."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime

from gateway_control.clients.accounting import AccountingClient, UsageQuery
from gateway_control.domain.usage.schemas import UsageSummary
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
        return UsageSummary(
            requests=totals.requests,
            prompt_tokens=totals.prompt_tokens,
            completion_tokens=totals.completion_tokens,
            cost_micro_usd=totals.cost_micro_usd,
            errors=totals.errors,
        )
