"""Reading a multipart form (the audio transcription upload) into fields the adapter re-encodes.

The body is read under the size cap first (`body.read_body`), then parsed with Starlette's
multipart parser: text fields become strings (a repeated field, like
`timestamp_granularities[]`, a list), files become `FilePart`s. The adapter encodes them again
as multipart for the provider, so only the fields travel, never the client's own headers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from gateway_providers import FilePart
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from gateway_proxy.errors import InvalidRequest

_MAX_FILES = 4
_MAX_FIELDS = 64


async def parse_transcription_form(headers: Headers, raw: bytes, max_part_bytes: int) -> dict[str, object]:
    """Parse `raw` as the form its content type announces; 400 unless it has a `file` upload."""
    content_type = headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise InvalidRequest(
            "The request must be multipart/form-data with a 'file' part.",
            param="file",
            code="invalid_content_type",
        )

    async def once() -> AsyncGenerator[bytes, None]:
        yield raw

    parser = MultiPartParser(
        headers, once(), max_files=_MAX_FILES, max_fields=_MAX_FIELDS, max_part_size=max_part_bytes
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidRequest(
            f"Could not parse the multipart form: {exc.message}", code="invalid_form"
        ) from None
    fields: dict[str, object] = {}
    try:
        for name, value in form.multi_items():
            item = await _field_value(value)
            if name in fields:
                previous = fields[name]
                fields[name] = [*previous, item] if isinstance(previous, list) else [previous, item]
            else:
                fields[name] = item
    finally:
        await form.close()
    if not isinstance(fields.get("file"), FilePart):
        raise InvalidRequest(
            "Missing required parameter: 'file'.", param="file", code="missing_required_parameter"
        )
    return fields


async def _field_value(value: str | UploadFile) -> object:
    if isinstance(value, str):
        return value
    data = await value.read()
    return FilePart(
        filename=value.filename or "file",
        content_type=value.content_type or "application/octet-stream",
        data=data,
    )
