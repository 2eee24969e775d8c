"""What every fake OpenAI endpoint shares: recording, auth, faults, and SSE streaming.

Each handler receives a `FakeCall` (the parsed body, the faults asked for, the record)
and returns a response; `endpoint()` wraps it so that a request is recorded first, then
authenticated, then delayed/hung/failed as its `x-fake-*` headers ask.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway_fakes.dialect import Dialect
from gateway_fakes.openai.errors import error_response, invalid_request, masked_key, shape_for_status
from gateway_fakes.openai.faults import Faults
from gateway_fakes.recorder import Outcome, RecordedRequest, RequestLog


class BodyKind(Enum):
    """How an endpoint's request body is encoded."""

    NONE = "none"
    JSON = "json"
    FORM = "form"


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file field of a multipart body."""

    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class FakeCall:
    """One request, as a handler sees it."""

    request: Request
    body: dict[str, object]
    faults: Faults
    record: RecordedRequest
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def model(self) -> str:
        """The requested model ("" if absent; handlers that need one check first)."""
        model = self.body.get("model")
        return model if isinstance(model, str) else ""


Handler = Callable[[FakeCall], Awaitable[Response]]


class DroppedConnection(Exception):
    """Raised inside a stream to make the server abort the connection mid-body."""


def _openai_admit(request: Request, api_key: str) -> Response | None:
    return _check_auth(request.headers.get("authorization"), api_key)


def _openai_fault_error(status: int, retry_after: str) -> Response:
    shape = shape_for_status(status)
    headers = {"retry-after": retry_after} if status == 429 else None
    return error_response(status, shape.message, shape.type, shape.code, headers=headers)


def _openai_bad_json() -> Response:
    return invalid_request(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
        "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
        "valid JSON.)"
    )


OPENAI_DIALECT = Dialect(admit=_openai_admit, fault_error=_openai_fault_error, bad_json=_openai_bad_json)


@dataclass(frozen=True, slots=True)
class FakeContext:
    """State shared by one fake app's endpoints."""

    api_key: str
    log: RequestLog
    dialect: Dialect = OPENAI_DIALECT


def endpoint(
    context: FakeContext, handler: Handler, body_kind: BodyKind
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap `handler` with recording, Bearer auth and header-driven faults."""

    async def run(request: Request) -> Response:
        body, files, parse_error = await _read_body(request, body_kind)
        record = context.log.record(
            request.method,
            request.url.path,
            request.url.query,
            [(key.decode("latin-1"), value.decode("latin-1")) for key, value in request.headers.raw],
            _recorded_body(body_kind, body, parse_error),
        )
        response = await _respond(context, handler, request, record, body, files, parse_error)
        record.status = response.status_code
        if not isinstance(response, StreamingResponse):
            record.close(Outcome.COMPLETED)
        return response

    return run


def _recorded_body(kind: BodyKind, body: dict[str, object], parse_error: str | None) -> object:
    if kind is BodyKind.NONE:
        return None
    return body if parse_error is None else {"unparsed": parse_error}


async def _respond(
    context: FakeContext,
    handler: Handler,
    request: Request,
    record: RecordedRequest,
    body: dict[str, object],
    files: dict[str, UploadedFile],
    parse_error: str | None,
) -> Response:
    refused = context.dialect.admit(request, context.api_key)
    if refused is not None:
        return refused
    faults = Faults.from_headers(request.headers)
    if faults.delay_s:
        await asyncio.sleep(faults.delay_s)
    if faults.hang:
        await _wait_for_disconnect(request)
        record.close(Outcome.DISCONNECTED)
        return Response(status_code=499)
    if faults.status is not None:
        return context.dialect.fault_error(faults.status, faults.retry_after)
    if parse_error is not None:
        return context.dialect.bad_json()
    response = await handler(FakeCall(request, body, faults, record, files))
    response.headers.setdefault("x-request-id", f"req_{secrets.token_hex(16)}")
    response.headers.setdefault("openai-processing-ms", str(int((time.time() - record.received_at) * 1000)))
    return response


async def _wait_for_disconnect(request: Request) -> None:
    """Block until the client goes away; the body was already read, so only disconnect remains."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _check_auth(authorization: str | None, api_key: str) -> Response | None:
    if authorization is None or not authorization.startswith("Bearer "):
        message = (
            "You didn't provide an API key. You need to provide your API key in an Authorization header "
            "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
        return error_response(401, message, "invalid_request_error", "invalid_api_key")
    presented = authorization.removeprefix("Bearer ").strip()
    if not secrets.compare_digest(presented.encode(), api_key.encode()):
        message = (
            f"Incorrect API key provided: {masked_key(presented)}. "
            "You can find your API key at https://platform.openai.com/account/api-keys."
        )
        return error_response(401, message, "invalid_request_error", "invalid_api_key")
    return None


async def _read_body(
    request: Request, kind: BodyKind
) -> tuple[dict[str, object], dict[str, UploadedFile], str | None]:
    """Parse the body; on failure return the raw text as the error so it is still recorded."""
    if kind is BodyKind.NONE:
        return {}, {}, None
    if kind is BodyKind.FORM:
        # Read whole first (the form parser then replays it) so admission can hash the exact bytes.
        request.state.raw_body = await request.body()
        return await _read_form(request)
    raw = await request.body()
    # Kept for admission checks that cover the exact bytes (Bedrock's SigV4 payload hash).
    request.state.raw_body = raw
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}, {}, raw.decode("utf-8", errors="replace")
    if not isinstance(parsed, dict):
        return {}, {}, raw.decode("utf-8", errors="replace")
    return parsed, {}, None


async def _read_form(request: Request) -> tuple[dict[str, object], dict[str, UploadedFile], str | None]:
    body: dict[str, object] = {}
    files: dict[str, UploadedFile] = {}
    async with request.form() as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                upload = UploadedFile(value.filename or "file", value.content_type or "", data)
                files[name] = upload
                body[name] = {
                    "filename": upload.filename,
                    "content_type": upload.content_type,
                    "size": len(data),
                }
            elif name in body:
                previous = body[name]
                body[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                body[name] = value
    return body, files, None


def sse_response(call: FakeCall, payloads: Iterable[dict[str, object]]) -> StreamingResponse:
    """Stream `payloads` as `data: {json}\\n\\n` events, then `data: [DONE]\\n\\n`.

    Honours chunk delays and `x-fake-drop-after`, and records when and how the stream ended.
    """
    events = [b"data: " + orjson.dumps(payload) + b"\n\n" for payload in payloads]
    events.append(b"data: [DONE]\n\n")
    return stream_events(call, events)


def stream_events(
    call: FakeCall, events: list[bytes], media_type: str = "text/event-stream; charset=utf-8"
) -> StreamingResponse:
    """Stream already-framed `events` (SSE unless `media_type` says otherwise), honouring
    chunk delays and `x-fake-drop-after`."""
    call.record.stream = True
    return StreamingResponse(
        _stream(call, events),
        media_type=media_type,
        headers={"cache-control": "no-cache", "x-request-id": f"req_{secrets.token_hex(16)}"},
    )


async def _stream(call: FakeCall, events: list[bytes]) -> AsyncIterator[bytes]:
    record, faults = call.record, call.faults
    outcome = Outcome.DISCONNECTED
    try:
        for index, event in enumerate(events):
            if faults.drop_after is not None and index >= faults.drop_after:
                outcome = Outcome.DROPPED
                raise DroppedConnection(f"dropping the stream after {index} events (x-fake-drop-after)")
            if faults.stall_after is not None and index >= faults.stall_after:
                await asyncio.Event().wait()  # until the client gives up (x-fake-stall-after)
            if index and faults.chunk_delay_s:
                await asyncio.sleep(faults.chunk_delay_s)
            yield event
            record.events_sent += 1
        outcome = Outcome.COMPLETED
    finally:
        record.close(outcome)
