"""Alert history use case: ask accounting for a page and map it to the API's shape."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import cast

from gateway_proto.v1 import accounting_pb2

from gateway_control.clients.accounting import AccountingClient
from gateway_control.domain.alerts.schemas import AlertDeliveryStatus, BudgetAlert, BudgetAlertPage


def budget_alert(record: accounting_pb2.AlertRecord) -> BudgetAlert:
    """One accounting record as the API's alert."""
    return BudgetAlert(
        id=record.id,
        budget_id=uuid.UUID(record.budget_id),
        tenant_id=uuid.UUID(record.tenant_id) if record.tenant_id else None,
        scope="key" if record.scope == "key" else "tenant",
        scope_id=uuid.UUID(record.scope_id),
        threshold_percent=record.threshold_percent,
        period=record.period,
        period_start=record.period_start.ToDatetime(tzinfo=UTC),
        period_end=record.period_end.ToDatetime(tzinfo=UTC),
        limit_micro_usd=record.limit_micro_usd,
        spent_micro_usd=record.spent_micro_usd,
        channel_id=uuid.UUID(record.channel_id),
        channel_kind=record.channel_kind,
        status=cast(AlertDeliveryStatus, record.status),
        attempts=record.attempts,
        last_error=record.last_error or None,
        created_at=record.created_at.ToDatetime(tzinfo=UTC),
        finished_at=record.finished_at.ToDatetime(tzinfo=UTC) if record.HasField("finished_at") else None,
    )


class AlertHistoryService:
    """Reads the alert history from accounting."""

    def __init__(self, accounting: AccountingClient) -> None:
        self._accounting = accounting

    async def page(
        self, *, tenant_id: uuid.UUID | None, budget_id: uuid.UUID | None, limit: int, page_token: str | None
    ) -> BudgetAlertPage:
        """One page, newest first; 503 when accounting is unreachable, 422 for a bad page token."""
        response = await self._accounting.list_alerts(
            tenant_id=None if tenant_id is None else str(tenant_id),
            budget_id=None if budget_id is None else str(budget_id),
            page_size=limit,
            page_token=page_token or "",
        )
        return BudgetAlertPage(
            items=[budget_alert(record) for record in response.alerts],
            next_page_token=response.next_page_token or None,
        )
