"""Opaque page tokens: where the previous page stopped.

The request log is ordered by (started_at, request_id) descending, so the last row of a page is a
complete keyset cursor; the alert history is ordered by id descending, so the last id is. A token
is its cursor as URL-safe base64 of JSON, the alert history's marked with its kind so neither
list accepts the other's tokens. Callers must treat tokens as opaque; a token that does not
decode is an `InvalidQuery`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from gateway_accounting.errors import InvalidQuery

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ALERTS_KIND = "alerts"
_FOREIGN = "page_token is not a token this service issued"


@dataclass(frozen=True, slots=True)
class PageCursor:
    """The (started_at, request_id) of the last row returned."""

    started_at: datetime
    request_id: str


def _encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidQuery(_FOREIGN) from None
    if not isinstance(data, dict):
        raise InvalidQuery(_FOREIGN)
    return data


def encode_page_token(cursor: PageCursor) -> str:
    """The opaque token for the page after `cursor`."""
    micros = (cursor.started_at - _EPOCH) // timedelta(microseconds=1)
    return _encode({"t": micros, "r": cursor.request_id})


def decode_page_token(token: str) -> PageCursor | None:
    """The cursor in `token`, None for the first page (empty token); InvalidQuery when malformed."""
    if not token:
        return None
    data = _decode(token)
    micros, request_id = data.get("t"), data.get("r")
    if not isinstance(micros, int) or not isinstance(request_id, str) or not request_id:
        raise InvalidQuery(_FOREIGN)
    try:
        started_at = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise InvalidQuery(_FOREIGN) from None
    return PageCursor(started_at=started_at, request_id=request_id)


def encode_alert_page_token(last_id: int) -> str:
    """The opaque token for the alert history page after the alert `last_id`."""
    return _encode({"k": _ALERTS_KIND, "i": last_id})


def decode_alert_page_token(token: str) -> int | None:
    """The last alert id in `token`, None for the first page (empty token); InvalidQuery when malformed."""
    if not token:
        return None
    data = _decode(token)
    last_id = data.get("i")
    if data.get("k") != _ALERTS_KIND or not isinstance(last_id, int) or not 0 < last_id < 2**63:
        raise InvalidQuery(_FOREIGN)
    return last_id
