"""Reading usage for AccountingService: rollup-backed reports and the paginated request log.

Summaries and breakdowns read only `accounting.usage_hourly` (whole UTC hours, see
`usage_query`), so dashboards never scan raw rows and never slow ingestion down. The request
log pages through `accounting.usage` newest first with a keyset cursor.
"""

from __future__ import annotations

import asyncpg
from gateway_proto.v1.accounting_pb2 import RequestRecord, UsageDimension, UsageGroup, UsageTotals
from google.protobuf.timestamp_pb2 import Timestamp

from gateway_accounting.database import Database
from gateway_accounting.db import reports, usage
from gateway_accounting.db.tables import Usage
from gateway_accounting.errors import InvalidQuery
from gateway_accounting.page_token import PageCursor, decode_page_token, encode_page_token
from gateway_accounting.usage_query import UnsupportedQuery, UsageQuery

# UsageDimension -> the `dimension` argument of the BreakDownUsage query.
DIMENSIONS: dict[UsageDimension.ValueType, str] = {
    UsageDimension.USAGE_DIMENSION_TENANT: "tenant",
    UsageDimension.USAGE_DIMENSION_KEY: "key",
    UsageDimension.USAGE_DIMENSION_MODEL: "model",
    UsageDimension.USAGE_DIMENSION_PROVIDER: "provider",
    UsageDimension.USAGE_DIMENSION_DAY: "day",
}
DIMENSION_NAMES = frozenset(UsageDimension.Name(number) for number in DIMENSIONS)


def _totals(row: reports.SummarizeUsageRow | reports.BreakDownUsageRow) -> UsageTotals:
    return UsageTotals(
        requests=row.requests,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        cost_micro_usd=row.cost_micro_usd,
        errors=row.error_requests,
    )


def _record(row: Usage) -> RequestRecord:
    finished_at = Timestamp()
    finished_at.FromDatetime(row.finished_at)
    return RequestRecord(
        request_id=row.request_id,
        finished_at=finished_at,
        tenant_id=str(row.tenant_id),
        key_id=str(row.key_id),
        model=row.model,
        provider=row.provider,
        status_code=row.status_code,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        cost_micro_usd=row.cost_micro_usd,
        stream=row.stream,
        # The table keeps milliseconds; the record speaks microseconds.
        duration_us=row.latency_ms * 1000,
    )


class UsageReader:
    """The queries behind AccountingService, on the service's pool."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def summary(self, query: UsageQuery) -> UsageTotals:
        """Totals over the query's whole hours."""
        row = await reports.summarize_usage(
            self._database.pool,
            start_at=query.rollup_start,
            end_at=query.rollup_end,
            tenant_id=query.tenant_id,
            key_id=query.key_id,
            model=query.model,
        )
        return UsageTotals() if row is None else _totals(row)

    async def breakdown(self, query: UsageQuery, group_by: UsageDimension.ValueType) -> list[UsageGroup]:
        """Totals per group; days are cut in the query's time zone and keyed YYYY-MM-DD."""
        if group_by == UsageDimension.USAGE_DIMENSION_USER:
            raise UnsupportedQuery("grouping by user is not supported yet")
        dimension = DIMENSIONS.get(group_by)
        if dimension is None:
            raise InvalidQuery(f"group_by must be one of {sorted(DIMENSION_NAMES)}, got {group_by}")
        try:
            rows = await reports.break_down_usage(
                self._database.pool,
                dimension=dimension,
                tz=query.timezone,
                start_at=query.rollup_start,
                end_at=query.rollup_end,
                tenant_id=query.tenant_id,
                key_id=query.key_id,
                model=query.model,
            )
        except asyncpg.exceptions.InvalidParameterValueError as exc:
            # Postgres carries its own zone database, which may lack a zone Python knows.
            raise InvalidQuery(f"filter.timezone {query.timezone!r} is unknown to the database") from exc
        return [UsageGroup(key=row.group_key, totals=_totals(row)) for row in rows]

    async def list_requests(
        self, query: UsageQuery, page_size: int, page_token: str
    ) -> tuple[list[RequestRecord], str]:
        """One page of the request log, newest first, and the token of the next page ('' at the end)."""
        cursor = decode_page_token(page_token)
        # One row more than asked tells whether another page exists without a count query.
        rows = await usage.list_usage_requests(
            self._database.pool,
            start_at=query.start,
            end_at=query.end,
            tenant_id=query.tenant_id,
            key_id=query.key_id,
            model=query.model,
            before_started_at=None if cursor is None else cursor.started_at,
            before_request_id=None if cursor is None else cursor.request_id,
            limit=page_size + 1,
        )
        page = rows[:page_size]
        token = ""
        if len(rows) > page_size:
            last = page[-1]
            token = encode_page_token(PageCursor(started_at=last.started_at, request_id=last.request_id))
        return [_record(row) for row in page], token
