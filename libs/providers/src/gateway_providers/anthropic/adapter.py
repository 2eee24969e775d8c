"""The Anthropic Messages adapter: chat (sync and stream), tools and vision.

`base_url` is the API root including the version, like OpenAI's:
`https://api.anthropic.com/v1`. Chat goes to `POST {base_url}/messages`; the probe is
`GET {base_url}/models`. Credential: `api_key`, sent as `x-api-key`. Settings:
`anthropic_version` (default `2023-06-01`), `beta` (sent as `anthropic-beta`),
`max_tokens` (the required `max_tokens` when the client gives none, default 4096)
and `header.<Name>` extra headers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import orjson

from gateway_providers.anthropic.errors import error_from_anthropic
from gateway_providers.anthropic.request import DEFAULT_MAX_TOKENS, messages_request
from gateway_providers.anthropic.response import completion_from_message
from gateway_providers.anthropic.stream import AnthropicStreamParser
from gateway_providers.base import (
    Capability,
    DeploymentTarget,
    Endpoint,
    ParsedResponse,
    ProviderConfigError,
    ProviderError,
    UnsupportedRequestError,
    UpstreamRequest,
)
from gateway_providers.openai import extra_headers

API_KEY_CREDENTIAL: Final = "api_key"
VERSION_SETTING: Final = "anthropic_version"
BETA_SETTING: Final = "beta"
MAX_TOKENS_SETTING: Final = "max_tokens"
DEFAULT_VERSION: Final = "2023-06-01"

RESERVED_HEADERS: Final = frozenset(
    {
        "x-api-key",
        "authorization",
        "anthropic-version",
        "anthropic-beta",
        "content-type",
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
    }
)

CAPABILITIES: Final = frozenset({Capability.CHAT, Capability.STREAM, Capability.TOOLS, Capability.VISION})


@dataclass(frozen=True, slots=True)
class AnthropicAdapter:
    """Adapter for Anthropic's Messages API (see the module docstring for config)."""

    provider_type: str = "anthropic"
    capabilities: frozenset[Capability] = CAPABILITIES

    def build_request(
        self, endpoint: Endpoint, body: Mapping[str, object], target: DeploymentTarget
    ) -> UpstreamRequest:
        """Build `POST /messages` for chat, or `GET /models`; other endpoints are unsupported.

        Raises `UnsupportedRequestError` for what Messages cannot express and
        `ProviderConfigError` when the `api_key` credential is missing.
        """
        headers = self._headers(target)
        base = target.provider.base_url.rstrip("/")
        if endpoint is Endpoint.MODELS:
            return UpstreamRequest("GET", f"{base}/models", headers)
        if endpoint is not Endpoint.CHAT_COMPLETIONS:
            raise UnsupportedRequestError(f"The Anthropic adapter does not serve {endpoint.value}.")
        default_max = _positive_int(target.provider.settings.get(MAX_TOKENS_SETTING), DEFAULT_MAX_TOKENS)
        payload = messages_request(body, target.upstream_model, default_max)
        headers.append(("Content-Type", "application/json"))
        return UpstreamRequest("POST", f"{base}/messages", headers, orjson.dumps(payload))

    def parse_response(
        self,
        endpoint: Endpoint,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        model_alias: str | None = None,
    ) -> ParsedResponse:
        """Translate a Messages response into a `chat.completion` (other bodies pass through)."""
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return ParsedResponse(body, None)
        if endpoint is not Endpoint.CHAT_COMPLETIONS or not isinstance(parsed, dict):
            return ParsedResponse(body, None)
        completion, usage = completion_from_message(parsed, created=int(time.time()), model_alias=model_alias)
        return ParsedResponse(orjson.dumps(completion), usage)

    def new_stream_parser(
        self, endpoint: Endpoint, *, model_alias: str | None = None
    ) -> AnthropicStreamParser:
        """A translator from Messages SSE to `chat.completion.chunk` events."""
        return AnthropicStreamParser(model_alias=model_alias)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """Translate an Anthropic error response (see `gateway_providers.anthropic.errors`)."""
        return error_from_anthropic(status, headers, body)

    def probe_request(self, target: DeploymentTarget) -> UpstreamRequest:
        """`GET {base_url}/models`: free, and proves both reachability and the key."""
        return self.build_request(Endpoint.MODELS, {}, target)

    def _headers(self, target: DeploymentTarget) -> list[tuple[str, str]]:
        provider = target.provider
        api_key = provider.credentials.get(API_KEY_CREDENTIAL)
        if not api_key:
            raise ProviderConfigError(
                f"{self.provider_type} deployment has no '{API_KEY_CREDENTIAL}' credential"
            )
        headers = extra_headers(provider.settings, RESERVED_HEADERS)
        headers.append(("x-api-key", api_key))
        headers.append(("anthropic-version", provider.settings.get(VERSION_SETTING) or DEFAULT_VERSION))
        beta = provider.settings.get(BETA_SETTING)
        if beta:
            headers.append(("anthropic-beta", beta))
        return headers


def _positive_int(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if value > 0 else default
