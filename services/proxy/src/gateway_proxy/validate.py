"""Per-endpoint checks of the fields the gateway (or a client's mistake) depends on.

Each validator reads a parsed JSON body (or the text fields of a form), checks the types of
the endpoint's main fields with OpenAI's wording and the field in `param`, and returns the
`ClientRequest` the forwarder needs. Everything else in the body is forwarded untouched, so
the provider stays the judge of values (ranges, enums) the gateway does not rely on.

Endpoints whose `model` OpenAI makes optional (moderations, images) fall back to OpenAI's own
default model name as the alias: an operator who wants those calls to work without a model
defines a model with that name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from gateway_providers import Endpoint

from gateway_proxy.body import (
    ClientRequest,
    optional,
    required,
    required_model,
    stream_flags,
    validate_chat,
)
from gateway_proxy.errors import InvalidRequest

Validator = Callable[[Mapping[str, object]], ClientRequest]

DEFAULT_MODERATION_MODEL: Final = "omni-moderation-latest"
DEFAULT_IMAGE_MODEL: Final = "dall-e-2"

_KIND_NAMES: Final[Mapping[type, str]] = {
    str: "a string",
    list: "an array",
    dict: "an object",
    int: "an integer",
    float: "a number",
}


def one_of(body: Mapping[str, object], name: str, kinds: tuple[type, ...], *, needed: bool) -> object:
    """The field `name` when its JSON type is one of `kinds` (e.g. string or array), else 400."""
    value = body.get(name)
    if value is None:
        if needed:
            raise InvalidRequest(
                f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
            )
        return None
    if isinstance(value, bool) or not isinstance(value, kinds):
        expected = " or ".join(_KIND_NAMES.get(kind, kind.__name__) for kind in kinds)
        raise InvalidRequest(
            f"Invalid type for '{name}': expected {expected}, but got {_json_name(value)} instead.",
            param=name,
            code="invalid_type",
        )
    return value


def _json_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return _KIND_NAMES.get(type(value), type(value).__name__)


def validate_completions(body: Mapping[str, object]) -> ClientRequest:
    """Legacy completions: `prompt` (string or array), `max_tokens`, `n`, `stream` flags."""
    model = required_model(body)
    one_of(body, "prompt", (str, list), needed=True)
    optional(body, "max_tokens", int)
    optional(body, "n", int)
    return stream_flags(body, model)


def validate_embeddings(body: Mapping[str, object]) -> ClientRequest:
    """Embeddings: `input` (string or array), `encoding_format` and `dimensions`."""
    model = required_model(body)
    one_of(body, "input", (str, list), needed=True)
    optional(body, "encoding_format", str)
    optional(body, "dimensions", int)
    return ClientRequest(model=model, stream=False, include_usage=False)


def validate_images(body: Mapping[str, object]) -> ClientRequest:
    """Image generation: `prompt` (string), `n`, `size`, `response_format`."""
    model = required_model(body, default=DEFAULT_IMAGE_MODEL)
    required(body, "prompt", str)
    optional(body, "n", int)
    optional(body, "size", str)
    optional(body, "response_format", str)
    return ClientRequest(model=model, stream=False, include_usage=False)


def validate_speech(body: Mapping[str, object]) -> ClientRequest:
    """Text to speech: `input` (string), `voice` (string or object), `response_format`, `speed`."""
    model = required_model(body)
    required(body, "input", str)
    one_of(body, "voice", (str, dict), needed=True)
    optional(body, "response_format", str)
    one_of(body, "speed", (int, float), needed=False)
    return ClientRequest(model=model, stream=False, include_usage=False)


def validate_moderations(body: Mapping[str, object]) -> ClientRequest:
    """Moderations: `input` (string or array)."""
    model = required_model(body, default=DEFAULT_MODERATION_MODEL)
    one_of(body, "input", (str, list), needed=True)
    return ClientRequest(model=model, stream=False, include_usage=False)


def validate_transcription(fields: Mapping[str, object]) -> ClientRequest:
    """Transcription form: `model` (text) and `file` (an uploaded file; checked by the route)."""
    model = required_model(fields)
    return ClientRequest(model=model, stream=False, include_usage=False)


JSON_VALIDATORS: Final[Mapping[Endpoint, Validator]] = {
    Endpoint.CHAT_COMPLETIONS: validate_chat,
    Endpoint.COMPLETIONS: validate_completions,
    Endpoint.EMBEDDINGS: validate_embeddings,
    Endpoint.IMAGES_GENERATIONS: validate_images,
    Endpoint.AUDIO_SPEECH: validate_speech,
    Endpoint.MODERATIONS: validate_moderations,
}
