"""The OpenAI adapter, also the base for any OpenAI-compatible upstream.

Requests are the client's JSON with the model already swapped, forwarded with every
unknown field intact. Only headers built here are sent: the provider credential as
`Authorization: Bearer`, `OpenAI-Organization`/`OpenAI-Project` when configured (for
`openai` only), extra headers from `header.<Name>` settings, and the content type.
Nothing from the client's own headers is ever forwarded by this module.

Streaming chat/completions requests get `stream_options.include_usage = true` so the
gateway can always account for them; the proxy drops the trailing usage-only chunk
(`StreamEvent.is_usage_only`) when the client did not ask for it. The `stream_usage`
setting (`"false"`) turns this off for servers that reject `stream_options`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import orjson

from gateway_providers.base import (
    Capability,
    DeploymentTarget,
    Endpoint,
    ParsedResponse,
    ProviderConfigError,
    ProviderError,
    UpstreamRequest,
)
from gateway_providers.errors import error_from_response
from gateway_providers.multipart import encode_multipart, new_boundary
from gateway_providers.stream import JSONStreamParser
from gateway_providers.usage import usage_from_payload

API_KEY_CREDENTIAL: Final = "api_key"
ORGANIZATION_SETTING: Final = "organization"
PROJECT_SETTING: Final = "project"
STREAM_USAGE_SETTING: Final = "stream_usage"
EXTRA_HEADER_PREFIX: Final = "header."

# Extra headers may not replace what this adapter owns or what the HTTP client frames.
RESERVED_HEADERS: Final = frozenset(
    {
        "authorization",
        "content-type",
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
        "openai-organization",
        "openai-project",
    }
)


class BodyEncoding(enum.Enum):
    """How an endpoint's request body travels upstream."""

    NONE = "none"
    JSON = "json"
    MULTIPART = "multipart"


@dataclass(frozen=True, slots=True)
class Route:
    """Method, path (relative to base_url) and body encoding of one endpoint."""

    method: str
    path: str
    encoding: BodyEncoding


OPENAI_ROUTES: Final[Mapping[Endpoint, Route]] = {
    Endpoint.CHAT_COMPLETIONS: Route("POST", "/chat/completions", BodyEncoding.JSON),
    Endpoint.COMPLETIONS: Route("POST", "/completions", BodyEncoding.JSON),
    Endpoint.EMBEDDINGS: Route("POST", "/embeddings", BodyEncoding.JSON),
    Endpoint.IMAGES_GENERATIONS: Route("POST", "/images/generations", BodyEncoding.JSON),
    Endpoint.AUDIO_SPEECH: Route("POST", "/audio/speech", BodyEncoding.JSON),
    Endpoint.AUDIO_TRANSCRIPTIONS: Route("POST", "/audio/transcriptions", BodyEncoding.MULTIPART),
    Endpoint.MODERATIONS: Route("POST", "/moderations", BodyEncoding.JSON),
    Endpoint.MODELS: Route("GET", "/models", BodyEncoding.NONE),
}

# Endpoints whose success body is not JSON (audio bytes), so there is nothing to parse.
_BINARY_ENDPOINTS: Final = frozenset({Endpoint.AUDIO_SPEECH})
_STREAM_USAGE_ENDPOINTS: Final = frozenset({Endpoint.CHAT_COMPLETIONS, Endpoint.COMPLETIONS})

ALL_CAPABILITIES: Final = frozenset(Capability)

_Encoded = tuple[bytes | None, str | None]


def _encode_none(body: Mapping[str, object]) -> _Encoded:
    return None, None


def _encode_json(body: Mapping[str, object]) -> _Encoded:
    return orjson.dumps(body), "application/json"


def _encode_multipart(body: Mapping[str, object]) -> _Encoded:
    boundary = new_boundary()
    return encode_multipart(body, boundary), f"multipart/form-data; boundary={boundary}"


_ENCODERS: Final[Mapping[BodyEncoding, Callable[[Mapping[str, object]], _Encoded]]] = {
    BodyEncoding.NONE: _encode_none,
    BodyEncoding.JSON: _encode_json,
    BodyEncoding.MULTIPART: _encode_multipart,
}


@dataclass(frozen=True, slots=True)
class OpenAIAdapter:
    """Adapter for OpenAI's API and servers that speak it (`openai_compatible`).

    `send_account_headers` adds OpenAI-Organization/OpenAI-Project from settings;
    `require_api_key` refuses to build a request without the `api_key` credential
    (a local compatible server may need none).
    """

    provider_type: str = "openai"
    capabilities: frozenset[Capability] = ALL_CAPABILITIES
    send_account_headers: bool = True
    require_api_key: bool = True

    def build_request(
        self, endpoint: Endpoint, body: Mapping[str, object], target: DeploymentTarget
    ) -> UpstreamRequest:
        """Build the upstream request: URL = base_url + path, the body re-encoded as is.

        Raises `ProviderConfigError` when the deployment lacks a required credential.
        """
        route, payload, content_type = encode_body(endpoint, with_stream_usage(endpoint, body, target))
        headers = self._headers(target)
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        return UpstreamRequest(
            route.method, _join_url(target.provider.base_url, route.path), headers, payload
        )

    def parse_response(
        self,
        endpoint: Endpoint,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        model_alias: str | None = None,
    ) -> ParsedResponse:
        """Return the body untouched with its usage; re-serialise only to apply `model_alias`."""
        if endpoint in _BINARY_ENDPOINTS or not body.lstrip().startswith(b"{"):
            return ParsedResponse(body, None)
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return ParsedResponse(body, None)
        if not isinstance(parsed, dict):
            return ParsedResponse(body, None)
        if model_alias is not None and "model" in parsed:
            parsed["model"] = model_alias
            body = orjson.dumps(parsed)
        return ParsedResponse(body, usage_from_payload(parsed))

    def new_stream_parser(self, endpoint: Endpoint, *, model_alias: str | None = None) -> JSONStreamParser:
        """Return a fresh incremental parser for one streamed response."""
        return JSONStreamParser(model_alias=model_alias)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """Translate an upstream error response (see `gateway_providers.errors`)."""
        return error_from_response(status, headers, body)

    def probe_request(self, target: DeploymentTarget) -> UpstreamRequest:
        """`GET {base_url}/models`: free, and proves both reachability and the credential."""
        return self.build_request(Endpoint.MODELS, {}, target)

    def _headers(self, target: DeploymentTarget) -> list[tuple[str, str]]:
        provider = target.provider
        headers = extra_headers(provider.settings, RESERVED_HEADERS)
        api_key = provider.credentials.get(API_KEY_CREDENTIAL)
        if api_key:
            headers.append(("Authorization", f"Bearer {api_key}"))
        elif self.require_api_key:
            raise ProviderConfigError(
                f"{self.provider_type} deployment has no '{API_KEY_CREDENTIAL}' credential"
            )
        if self.send_account_headers:
            for setting, header in (
                (ORGANIZATION_SETTING, "OpenAI-Organization"),
                (PROJECT_SETTING, "OpenAI-Project"),
            ):
                value = provider.settings.get(setting)
                if value:
                    headers.append((header, value))
        return headers


def extra_headers(settings: Mapping[str, str], reserved: frozenset[str]) -> list[tuple[str, str]]:
    """The `header.<Name>` settings as headers, minus any whose lower-cased name is `reserved`."""
    return [
        (name[len(EXTRA_HEADER_PREFIX) :], value)
        for name, value in settings.items()
        if name.startswith(EXTRA_HEADER_PREFIX) and name[len(EXTRA_HEADER_PREFIX) :].lower() not in reserved
    ]


def encode_body(endpoint: Endpoint, body: Mapping[str, object]) -> tuple[Route, bytes | None, str | None]:
    """The OpenAI route of `endpoint` and `body` encoded for it: (route, payload, content type)."""
    route = OPENAI_ROUTES[endpoint]
    payload, content_type = _ENCODERS[route.encoding](body)
    return route, payload, content_type


def with_stream_usage(
    endpoint: Endpoint, body: Mapping[str, object], target: DeploymentTarget
) -> Mapping[str, object]:
    """`body` with `stream_options.include_usage` forced on when the request streams (see module doc)."""
    if endpoint in _STREAM_USAGE_ENDPOINTS and _wants_stream_usage(body, target):
        return {**body, "stream_options": {**_mapping(body.get("stream_options")), "include_usage": True}}
    return body


def _wants_stream_usage(body: Mapping[str, object], target: DeploymentTarget) -> bool:
    if body.get("stream") is not True:
        return False
    return target.provider.settings.get(STREAM_USAGE_SETTING, "true").lower() != "false"


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _join_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def client_wants_stream_usage(body: Mapping[str, object]) -> bool:
    """Whether the client itself asked for the usage chunk (`stream_options.include_usage`)."""
    return _mapping(body.get("stream_options")).get("include_usage") is True
