"""Opaque page tokens for the request log: where the previous page stopped.

The log is ordered by (started_at, request_id) descending, so the last row of a page is a
complete keyset cursor. The token is that pair as URL-safe base64 of JSON; callers must treat
it as opaque, and a token that does not decode is an `InvalidQuery`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from gateway_accounting.errors import InvalidQuery

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PageCursor:
    """The (started_at, request_id) of the last row returned."""

    started_at: datetime
    request_id: str


def encode_page_token(cursor: PageCursor) -> str:
    """The opaque token for the page after `cursor`."""
    micros = (cursor.started_at - _EPOCH) // timedelta(microseconds=1)
    raw = orjson.dumps({"t": micros, "r": cursor.request_id})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> PageCursor | None:
    """The cursor in `token`, None for the first page (empty token); InvalidQuery when malformed."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        micros, request_id = data["t"], data["r"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidQuery("page_token is not a token this service issued") from None
    if not isinstance(micros, int) or not isinstance(request_id, str) or not request_id:
        raise InvalidQuery("page_token is not a token this service issued")
    try:
        started_at = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise InvalidQuery("page_token is not a token this service issued") from None
    return PageCursor(started_at=started_at, request_id=request_id)
