"""Encode a parsed form (text fields and `FilePart`s) as `multipart/form-data`.

Used for endpoints whose upstream wire format is a form upload (audio transcriptions).
Lists become repeated fields, as OpenAI expects for `timestamp_granularities[]`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping

import orjson

from gateway_providers.base import FilePart


def new_boundary() -> str:
    """Return a boundary that cannot plausibly occur inside the parts."""
    return f"gateway-{secrets.token_hex(16)}"


def encode_multipart(fields: Mapping[str, object], boundary: str) -> bytes:
    """Encode `fields` with `boundary`; values are FileParts, strings, numbers, bools or lists of them.

    Dicts (e.g. a `chunking_strategy` object) are sent as JSON text, which is how the
    OpenAI SDK encodes them in forms.
    """
    out = bytearray()
    for name, value in fields.items():
        for item in _items(value):
            out += f"--{boundary}\r\n".encode()
            if isinstance(item, FilePart):
                out += (
                    f'Content-Disposition: form-data; name="{_quote(name)}"; '
                    f'filename="{_quote(item.filename)}"\r\n'
                    f"Content-Type: {item.content_type}\r\n\r\n"
                ).encode()
                out += item.data
            else:
                out += f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
                out += _text(item)
            out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def _items(value: object) -> Iterable[object]:
    if isinstance(value, list | tuple):
        return value
    if value is None:
        return ()
    return (value,)


def _text(value: object) -> bytes:
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int | float):
        return str(value).encode()
    return orjson.dumps(value)


def _quote(name: str) -> str:
    # Quotes and line breaks would end the header early; browsers percent-encode them.
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
