"""Encode AWS event-stream messages (the binary framing of ConverseStream responses).

A message is: prelude (total length, headers length: big-endian uint32 each), the CRC32
of the prelude, the headers, the payload, and the CRC32 of everything before it. Headers
are `name length (1 byte), name, type (7 = string), value length (2 bytes), value`.
The gateway decodes with botocore's `EventStreamBuffer`, which checks both CRCs.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from typing import Final

import orjson

_STRING_HEADER: Final = 7


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One framed message with string `headers` and `payload`."""
    encoded_headers = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded_headers))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded_headers + payload
    return head + struct.pack(">I", zlib.crc32(head))


def event(event_type: str, payload: Mapping[str, object]) -> bytes:
    """A ConverseStream event message (`:message-type: event`, JSON payload)."""
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, orjson.dumps(payload))


def exception(exception_type: str, message: str) -> bytes:
    """A mid-stream exception message (`:message-type: exception`), e.g. `throttlingException`."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, orjson.dumps({"message": message}))


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING_HEADER, len(raw_value))
        + raw_value
    )
