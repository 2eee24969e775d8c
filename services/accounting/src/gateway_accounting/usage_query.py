"""A `UsageFilter` from a gRPC request, checked and turned into the bounds the queries take.

Summaries and breakdowns read the hourly rollup, whose resolution is one UTC hour: their range
is widened to whole hours (start rounded down, end rounded up), so they count every request of
every hour the range touches. The request log reads raw rows and uses the exact range.
Unset bounds mean "since the beginning" and "until now" (the current hour included).
"""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway_proto.v1.accounting_pb2 import UsageFilter

from gateway_accounting.errors import InvalidQuery

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR = timedelta(hours=1)


class UnsupportedQuery(InvalidQuery):
    """A well-formed query this version cannot answer (gRPC UNIMPLEMENTED)."""


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """A validated filter: ids parsed, bounds resolved, timezone checked."""

    tenant_id: uuid.UUID | None
    key_id: uuid.UUID | None
    model: str | None
    start: datetime
    end: datetime
    timezone: str

    @property
    def rollup_start(self) -> datetime:
        """`start` rounded down to its UTC hour."""
        return floor_hour(self.start)

    @property
    def rollup_end(self) -> datetime:
        """`end` rounded up to a UTC hour."""
        floored = floor_hour(self.end)
        return floored if floored == self.end else floored + _HOUR


def floor_hour(moment: datetime) -> datetime:
    """The start of the UTC hour holding `moment`."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def optional_uuid(field: str, value: str) -> uuid.UUID | None:
    """The UUID in a request field (None when empty); InvalidQuery naming `field` otherwise."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidQuery(f"{field} {value!r} is not a UUID") from None


def check_timezone(name: str) -> str:
    """Return the IANA zone name (UTC when empty) or raise InvalidQuery for an unknown one."""
    if not name:
        return "UTC"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidQuery(f"filter.timezone {name!r} is not an IANA time zone") from None
    return name


def parse_filter(usage_filter: UsageFilter, now: datetime) -> UsageQuery:
    """Check a filter and resolve its defaults; raise InvalidQuery naming the bad field."""
    if usage_filter.user_id:
        # The hourly rollup has no user dimension yet; budgets per user arrive with it.
        raise UnsupportedQuery("filtering by user_id is not supported yet")
    start = usage_filter.start.ToDatetime(tzinfo=UTC) if usage_filter.HasField("start") else _EPOCH
    end = usage_filter.end.ToDatetime(tzinfo=UTC) if usage_filter.HasField("end") else floor_hour(now) + _HOUR
    if end <= start:
        raise InvalidQuery("filter.end must be after filter.start")
    return UsageQuery(
        tenant_id=optional_uuid("filter.tenant_id", usage_filter.tenant_id),
        key_id=optional_uuid("filter.key_id", usage_filter.key_id),
        model=usage_filter.model or None,
        start=start,
        end=end,
        timezone=check_timezone(usage_filter.timezone),
    )
