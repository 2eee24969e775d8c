"""Reading the budget alert history for AccountingService.ListAlerts.

The history is `accounting.alert_deliveries`: one row per alert and channel (a budget's threshold
crossed in a period, what it reported, and how the delivery went), written by the dispatcher in
the transaction that claims the alert. Pages are newest first by id, with a keyset cursor.
"""

from __future__ import annotations

from datetime import datetime

from gateway_proto.v1.accounting_pb2 import AlertRecord, ListAlertsRequest
from google.protobuf.timestamp_pb2 import Timestamp

from gateway_accounting.database import Database
from gateway_accounting.db import alert_deliveries
from gateway_accounting.db.tables import AlertDelivery
from gateway_accounting.page_token import decode_alert_page_token, encode_alert_page_token
from gateway_accounting.usage_query import optional_uuid


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def alert_record(row: AlertDelivery) -> AlertRecord:
    """One history row as the RPC's record."""
    record = AlertRecord(
        id=row.id,
        budget_id=str(row.budget_id),
        tenant_id="" if row.tenant_id is None else str(row.tenant_id),
        scope=row.scope,
        scope_id=str(row.scope_id),
        threshold_percent=row.threshold,
        period=row.period,
        period_start=_timestamp(row.period_start),
        period_end=_timestamp(row.period_end),
        limit_micro_usd=row.limit_micro_usd,
        spent_micro_usd=row.spent_micro_usd,
        channel_id=str(row.channel_id),
        channel_kind=row.channel_kind,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error or "",
        created_at=_timestamp(row.created_at),
    )
    if row.finished_at is not None:
        record.finished_at.CopyFrom(_timestamp(row.finished_at))
    return record


class AlertHistoryReader:
    """Pages of the alert history, on the service's pool."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def page(self, request: ListAlertsRequest, page_size: int) -> tuple[list[AlertRecord], str]:
        """One page, newest first, and the token of the next page ('' at the end)."""
        tenant_id = optional_uuid("tenant_id", request.tenant_id)
        budget_id = optional_uuid("budget_id", request.budget_id)
        before_id = decode_alert_page_token(request.page_token)
        # One row more than asked tells whether another page exists without a count query.
        rows = await alert_deliveries.list_alert_history(
            self._database.pool,
            tenant_id=tenant_id,
            budget_id=budget_id,
            before_id=before_id,
            limit=page_size + 1,
        )
        page = rows[:page_size]
        token = encode_alert_page_token(page[-1].id) if len(rows) > page_size else ""
        return [alert_record(row) for row in page], token
