"""Reading and checking request bodies: size cap, JSON parsing, and per-endpoint field types.

The body is parsed once with orjson and the resulting dict is forwarded with every unknown
field intact; only the fields the gateway itself relies on are type-checked here, with
OpenAI's wording and the field in `param`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import orjson
from starlette.requests import ClientDisconnect, Request

from gateway_proxy.errors import InvalidRequest, PayloadTooLarge

T = TypeVar("T")

_JSON_TYPE_NAMES: Mapping[type, str] = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a decimal",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


async def read_body(request: Request, limit: int) -> bytes:
    """Read the whole body, refusing with 413 as soon as it is known to exceed `limit` bytes.

    A Content-Length over the limit is refused before reading anything.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    # The ASGI messages are read here rather than through `request.stream()`, an async
    # generator per request; nothing reads the body a second time.
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)  # one chunk: returned as it is, not copied


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body is larger than the gateway's limit of {limit} bytes.")


def parse_json_object(raw: bytes) -> dict[str, object]:
    """Parse the body as a JSON object (400 when it is not JSON or not an object)."""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
            "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
            "sent was not valid JSON.)",
            code="invalid_json",
        ) from None
    if not isinstance(parsed, dict):
        raise InvalidRequest(
            f"The request body must be a JSON object, but got {_type_name(parsed)} instead.",
            code="invalid_type",
        )
    return parsed


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """What the gateway reads from a request body (model, stream flags); the body is forwarded whole."""

    model: str
    stream: bool
    include_usage: bool


# The name the chat validator's result had before other endpoints shared it.
ChatRequest = ClientRequest


def validate_chat(body: Mapping[str, object]) -> ClientRequest:
    """Check the types of `model`, `messages`, `stream` and `stream_options` (400 with param)."""
    model = required_model(body)
    required(body, "messages", list)
    return stream_flags(body, model)


def required_model(body: Mapping[str, object], default: str | None = None) -> str:
    """The `model` field: a non-empty string (or `default` when absent and one is given)."""
    if default is not None and body.get("model") is None:
        return default
    model = required(body, "model", str)
    if not model:
        raise InvalidRequest("you must provide a model parameter", param="model", code="invalid_value")
    return model


def stream_flags(body: Mapping[str, object], model: str) -> ClientRequest:
    """Read `stream` and `stream_options.include_usage` (the latter only counts when streaming)."""
    stream = optional(body, "stream", bool) or False
    options = optional(body, "stream_options", dict)
    include_usage = False
    if options is not None:
        include_usage = optional(options, "include_usage", bool, prefix="stream_options.") or False
    return ClientRequest(model=model, stream=stream, include_usage=stream and include_usage)


def required(body: Mapping[str, object], name: str, kind: type[T]) -> T:
    """The field `name`, which must be present, not null and of JSON type `kind` (else 400)."""
    if name not in body or body[name] is None:
        raise InvalidRequest(
            f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
        )
    return typed(body[name], name, kind)


def optional(body: Mapping[str, object], name: str, kind: type[T], prefix: str = "") -> T | None:
    """The field `name` when present and not null, checked to be of JSON type `kind` (else 400)."""
    value = body.get(name)
    if value is None:
        return None
    return typed(value, prefix + name, kind)


def typed(value: object, param: str, kind: type[T]) -> T:
    """`value` itself when it has JSON type `kind`; 400 `invalid_type` naming `param` otherwise."""
    # bool is an int subclass in Python but not in JSON.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise InvalidRequest(
            f"Invalid type for '{param}': expected {_JSON_TYPE_NAMES[kind]}, "
            f"but got {_type_name(value)} instead.",
            param=param,
            code="invalid_type",
        )
    return value


def _type_name(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)
