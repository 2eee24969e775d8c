"""Filter checking, hour widening for rollup reads, and the opaque page token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from gateway_accounting.errors import InvalidQuery
from gateway_accounting.page_token import PageCursor, decode_page_token, encode_page_token
from gateway_accounting.usage_query import UnsupportedQuery, floor_hour, parse_filter
from gateway_proto.v1.accounting_pb2 import UsageFilter
from google.protobuf.timestamp_pb2 import Timestamp

NOW = datetime(2026, 3, 10, 14, 25, 7, tzinfo=UTC)


def ts(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def test_defaults_cover_everything_until_the_end_of_the_current_hour() -> None:
    query = parse_filter(UsageFilter(), NOW)
    assert (query.tenant_id, query.key_id, query.model) == (None, None, None)
    assert query.start == datetime(1970, 1, 1, tzinfo=UTC)
    assert query.end == datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert query.timezone == "UTC"


def test_rollup_bounds_are_widened_to_whole_hours() -> None:
    start = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    end = datetime(2026, 3, 1, 11, 0, 0, 1, tzinfo=UTC)
    query = parse_filter(UsageFilter(start=ts(start), end=ts(end)), NOW)
    assert (query.start, query.end) == (start, end)
    assert query.rollup_start == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert query.rollup_end == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_whole_hours_are_kept() -> None:
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    end = datetime(2026, 3, 2, 9, tzinfo=UTC)
    query = parse_filter(UsageFilter(start=ts(start), end=ts(end)), NOW)
    assert (query.rollup_start, query.rollup_end) == (start, end)


def test_floor_hour_works_in_utc() -> None:
    paris_winter = timezone(timedelta(hours=1))
    moment = datetime(2026, 1, 1, 0, 45, tzinfo=paris_winter)
    assert floor_hour(moment) == datetime(2025, 12, 31, 23, tzinfo=UTC)


def test_ids_model_and_timezone_are_parsed() -> None:
    tenant, key = uuid.uuid4(), uuid.uuid4()
    query = parse_filter(
        UsageFilter(tenant_id=str(tenant), key_id=str(key), model="demo", timezone="Asia/Tokyo"), NOW
    )
    assert (query.tenant_id, query.key_id, query.model, query.timezone) == (tenant, key, "demo", "Asia/Tokyo")


@pytest.mark.parametrize(
    ("usage_filter", "message"),
    [
        (UsageFilter(tenant_id="acme"), "tenant_id"),
        (UsageFilter(key_id="12"), "key_id"),
        (UsageFilter(timezone="Mars/Olympus_Mons"), "timezone"),
        (UsageFilter(timezone="../etc/passwd"), "timezone"),
        (UsageFilter(start=ts(NOW), end=ts(NOW)), "end must be after"),
        (UsageFilter(start=ts(NOW), end=ts(NOW - timedelta(days=1))), "end must be after"),
    ],
)
def test_invalid_filters_name_the_field(usage_filter: UsageFilter, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        parse_filter(usage_filter, NOW)


def test_user_filter_is_unsupported_not_ignored() -> None:
    with pytest.raises(UnsupportedQuery, match="user_id"):
        parse_filter(UsageFilter(user_id=str(uuid.uuid4())), NOW)


def test_page_token_round_trips_to_the_microsecond() -> None:
    cursor = PageCursor(started_at=datetime(2026, 3, 1, 9, 30, 1, 123456, tzinfo=UTC), request_id="req-ü/1")
    token = encode_page_token(cursor)
    assert "=" not in token
    assert decode_page_token(token) == cursor


def test_empty_page_token_is_the_first_page() -> None:
    assert decode_page_token("") is None


@pytest.mark.parametrize("token", ["%%%", "bm90IGpzb24", "e30", "eyJ0IjogIngiLCAiciI6ICJhIn0", "W10"])
def test_malformed_page_tokens_are_invalid(token: str) -> None:
    with pytest.raises(InvalidQuery, match="page_token"):
        decode_page_token(token)
