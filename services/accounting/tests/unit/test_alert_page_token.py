"""Page tokens of the alert history: opaque, round-tripping, and never a request-log token."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
import pytest
from gateway_accounting.errors import InvalidQuery
from gateway_accounting.page_token import (
    PageCursor,
    decode_alert_page_token,
    decode_page_token,
    encode_alert_page_token,
    encode_page_token,
)


def _token(data: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def test_alert_page_token_round_trips() -> None:
    assert decode_alert_page_token(encode_alert_page_token(12345)) == 12345
    assert decode_alert_page_token("") is None


def test_request_log_and_alert_tokens_are_not_interchangeable() -> None:
    log_token = encode_page_token(PageCursor(datetime(2026, 1, 1, tzinfo=UTC), "req-1"))
    with pytest.raises(InvalidQuery, match="page_token"):
        decode_alert_page_token(log_token)
    with pytest.raises(InvalidQuery, match="page_token"):
        decode_page_token(encode_alert_page_token(7))


@pytest.mark.parametrize(
    "token",
    [
        "%%%",
        _token([1, 2]),
        _token({"k": "alerts"}),
        _token({"k": "alerts", "i": "7"}),
        _token({"k": "alerts", "i": 0}),
        _token({"k": "alerts", "i": -3}),
        _token({"k": "alerts", "i": 2**63}),
        _token({"k": "requests", "i": 7}),
    ],
)
def test_malformed_alert_page_tokens_are_invalid(token: str) -> None:
    with pytest.raises(InvalidQuery, match="page_token"):
        decode_alert_page_token(token)
