"""The Vertex AI adapter: Gemini generateContent / streamGenerateContent (SSE), and text-embedding
models through `:predict` (`embeddings.py`).

`base_url` is the regional endpoint, `https://{location}-aiplatform.googleapis.com`.
Chat goes to `POST {base_url}/v1/projects/{project}/locations/{location}/publishers/google/
models/{model}:generateContent` (`:streamGenerateContent?alt=sse` when streaming);
embeddings to `...models/{model}:predict`.
Settings: `project` and `location` (default `us-central1`), `header.<Name>` extra headers,
and for embeddings `task_type` and `auto_truncate`.
Per-model project and location: a deployment whose upstream model is a full resource name
(`projects/P/locations/L/publishers/google/models/M`) uses it as is.

Credential: `access_token`, an OAuth2 bearer token, sent as `Authorization: Bearer`. A
provider may instead hold `service_account_json` (a key file): minting the token from it is
I/O, done by `gateway_providers.credentials.CredentialResolver` (JWT assertion -> token
endpoint, cached, refreshed before expiry), which hands this adapter the `access_token`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
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
    UnsupportedRequestError,
    UpstreamRequest,
)
from gateway_providers.openai import extra_headers
from gateway_providers.vertex.embeddings import embeddings_from_predict, predict_request
from gateway_providers.vertex.request import generate_content_request
from gateway_providers.vertex.response import completion_from_gemini, error_from_google
from gateway_providers.vertex.stream import GeminiStreamParser

TOKEN_CREDENTIAL: Final = "access_token"
PROJECT_SETTING: Final = "project"
LOCATION_SETTING: Final = "location"
DEFAULT_LOCATION: Final = "us-central1"
RESERVED_HEADERS: Final = frozenset(
    {"authorization", "content-type", "content-length", "transfer-encoding", "host", "connection"}
)
CAPABILITIES: Final = frozenset(
    {
        Capability.CHAT,
        Capability.STREAM,
        Capability.TOOLS,
        Capability.VISION,
        Capability.JSON_MODE,
        Capability.EMBEDDINGS,
    }
)
_PROBE_BODY: Final[Mapping[str, object]] = {
    "messages": [{"role": "user", "content": "ping"}],
    "max_tokens": 1,
}


@dataclass(frozen=True, slots=True)
class VertexGeminiAdapter:
    """Adapter for Gemini on Vertex AI (see the module docstring for config)."""

    provider_type: str = "vertex_gemini"
    capabilities: frozenset[Capability] = CAPABILITIES

    def build_request(
        self, endpoint: Endpoint, body: Mapping[str, object], target: DeploymentTarget
    ) -> UpstreamRequest:
        """Build generateContent (or streamGenerateContent?alt=sse) for chat, `:predict` for embeddings."""
        provider = target.provider
        if endpoint is Endpoint.CHAT_COMPLETIONS:
            stream = body.get("stream") is True
            action = "streamGenerateContent?alt=sse" if stream else "generateContent"
            payload = generate_content_request(body)
        elif endpoint is Endpoint.EMBEDDINGS:
            action, payload = "predict", predict_request(body, provider.settings)
        else:
            raise UnsupportedRequestError(f"The Vertex adapter does not serve {endpoint.value}.")
        token = provider.credentials.get(TOKEN_CREDENTIAL)
        if not token:
            raise ProviderConfigError(
                f"{self.provider_type} deployment has no '{TOKEN_CREDENTIAL}' credential (a "
                "'service_account_json' provider must be resolved by the CredentialResolver first)"
            )
        url = f"{provider.base_url.rstrip('/')}/v1/{self._resource(target)}:{action}"
        headers = extra_headers(provider.settings, RESERVED_HEADERS)
        headers.append(("Authorization", f"Bearer {token}"))
        headers.append(("Content-Type", "application/json"))
        return UpstreamRequest("POST", url, headers, orjson.dumps(payload))

    def parse_response(
        self,
        endpoint: Endpoint,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        model_alias: str | None = None,
    ) -> ParsedResponse:
        """Translate a `GenerateContentResponse` into a `chat.completion`, a `:predict` answer into
        OpenAI's embeddings list (other bodies pass through)."""
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return ParsedResponse(body, None)
        if endpoint is Endpoint.EMBEDDINGS and isinstance(parsed, dict):
            embedded = embeddings_from_predict(parsed, model_alias)
            if embedded is None:
                return ParsedResponse(body, None)
            return ParsedResponse(orjson.dumps(embedded[0]), embedded[1])
        if endpoint is not Endpoint.CHAT_COMPLETIONS or not isinstance(parsed, dict):
            return ParsedResponse(body, None)
        completion, usage = completion_from_gemini(parsed, created=int(time.time()), model_alias=model_alias)
        return ParsedResponse(orjson.dumps(completion), usage)

    def new_stream_parser(self, endpoint: Endpoint, *, model_alias: str | None = None) -> GeminiStreamParser:
        """A translator from Gemini SSE to `chat.completion.chunk` events."""
        return GeminiStreamParser(model_alias=model_alias)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """Translate Google's error JSON (`gateway_providers.vertex.response.error_from_google`)."""
        return error_from_google(status, headers, body)

    def probe_request(self, target: DeploymentTarget) -> UpstreamRequest:
        """A one-token generateContent call (it checks the token, the project and the model)."""
        return self.build_request(Endpoint.CHAT_COMPLETIONS, _PROBE_BODY, target)

    def _resource(self, target: DeploymentTarget) -> str:
        model = target.upstream_model
        if model.startswith("projects/"):
            return model
        settings = target.provider.settings
        project = settings.get(PROJECT_SETTING)
        if not project:
            raise ProviderConfigError(f"{self.provider_type} deployment has no '{PROJECT_SETTING}' setting")
        location = settings.get(LOCATION_SETTING) or DEFAULT_LOCATION
        return f"projects/{project}/locations/{location}/publishers/google/models/{model}"
