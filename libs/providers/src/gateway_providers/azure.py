"""The Azure OpenAI adapter: OpenAI's bodies behind deployment URLs.

`base_url` is the resource endpoint (`https://{resource}.openai.azure.com`); the
deployment name is the deployment's `upstream_model`. Requests go to
`{base_url}/openai/deployments/{deployment}/{operation}?api-version={api_version}` and
the probe to `GET {base_url}/openai/models?api-version=...`.

Credentials: `api_key` (sent as `api-key`) or `azure_ad_token` (an Entra ID access token,
sent as `Authorization: Bearer`; acquiring and refreshing it is I/O, so the caller does it).
Settings: `api_version` (default `2024-10-21`), `stream_usage` and `header.<Name>`, as
for OpenAI. Responses, streams and errors are OpenAI's, so their parsing is shared.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

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
from gateway_providers.openai import (
    RESERVED_HEADERS,
    OpenAIAdapter,
    encode_body,
    extra_headers,
    with_stream_usage,
)
from gateway_providers.stream import JSONStreamParser

API_KEY_CREDENTIAL: Final = "api_key"
AD_TOKEN_CREDENTIAL: Final = "azure_ad_token"
API_VERSION_SETTING: Final = "api_version"
DEFAULT_API_VERSION: Final = "2024-10-21"

_AZURE_RESERVED: Final = RESERVED_HEADERS | {"api-key"}

CAPABILITIES: Final = frozenset(
    {
        Capability.CHAT,
        Capability.STREAM,
        Capability.TOOLS,
        Capability.VISION,
        Capability.JSON_MODE,
        Capability.COMPLETIONS,
        Capability.EMBEDDINGS,
        Capability.IMAGES,
        Capability.SPEECH,
        Capability.TRANSCRIPTION,
    }
)

# Moderations have no Azure OpenAI data-plane operation; models are listed per resource.
_UNSUPPORTED: Final = frozenset({Endpoint.MODERATIONS})

# Shared parsing: Azure answers with OpenAI's bodies, SSE and error JSON.
_OPENAI: Final = OpenAIAdapter(
    provider_type="azure_openai", send_account_headers=False, require_api_key=False
)


@dataclass(frozen=True, slots=True)
class AzureOpenAIAdapter:
    """Adapter for Azure OpenAI deployments (see the module docstring for config)."""

    provider_type: str = "azure_openai"
    capabilities: frozenset[Capability] = CAPABILITIES

    def build_request(
        self, endpoint: Endpoint, body: Mapping[str, object], target: DeploymentTarget
    ) -> UpstreamRequest:
        """Build the deployment-scoped request; raises `ProviderConfigError` without a credential."""
        if endpoint in _UNSUPPORTED:
            raise UnsupportedRequestError(f"Azure OpenAI does not serve {endpoint.value}.")
        headers = self._headers(target)
        version = target.provider.settings.get(API_VERSION_SETTING) or DEFAULT_API_VERSION
        query = urllib.parse.urlencode({"api-version": version})
        base = target.provider.base_url.rstrip("/")
        if endpoint is Endpoint.MODELS:
            return UpstreamRequest("GET", f"{base}/openai/models?{query}", headers)
        route, payload, content_type = encode_body(endpoint, with_stream_usage(endpoint, body, target))
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        deployment = urllib.parse.quote(target.upstream_model, safe="")
        url = f"{base}/openai/deployments/{deployment}{route.path}?{query}"
        return UpstreamRequest(route.method, url, headers, payload)

    def parse_response(
        self,
        endpoint: Endpoint,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        model_alias: str | None = None,
    ) -> ParsedResponse:
        """As for OpenAI: the body untouched with its usage (re-serialised only for an alias)."""
        return _OPENAI.parse_response(endpoint, status, headers, body, model_alias=model_alias)

    def new_stream_parser(self, endpoint: Endpoint, *, model_alias: str | None = None) -> JSONStreamParser:
        """As for OpenAI (Azure may send a leading `choices: []` content-filter chunk; it is forwarded)."""
        return _OPENAI.new_stream_parser(endpoint, model_alias=model_alias)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """As for OpenAI; Azure's `{"error": {"code": "429", "message"}}` is one of its variants."""
        return _OPENAI.parse_error(status, headers, body)

    def probe_request(self, target: DeploymentTarget) -> UpstreamRequest:
        """`GET {base_url}/openai/models?api-version=...`: free and authenticated."""
        return self.build_request(Endpoint.MODELS, {}, target)

    def _headers(self, target: DeploymentTarget) -> list[tuple[str, str]]:
        credentials = target.provider.credentials
        headers = extra_headers(target.provider.settings, _AZURE_RESERVED)
        api_key = credentials.get(API_KEY_CREDENTIAL)
        token = credentials.get(AD_TOKEN_CREDENTIAL)
        if api_key:
            headers.append(("api-key", api_key))
        elif token:
            headers.append(("Authorization", f"Bearer {token}"))
        else:
            raise ProviderConfigError(
                f"{self.provider_type} deployment needs an '{API_KEY_CREDENTIAL}' or "
                f"'{AD_TOKEN_CREDENTIAL}' credential"
            )
        return headers
