"""The AWS Bedrock adapter: Converse and ConverseStream (Claude, Llama, Mistral...), SigV4-signed.

`base_url` is the runtime endpoint, `https://bedrock-runtime.<region>.amazonaws.com`.
Chat goes to `POST {base_url}/model/{modelId}/converse` (or `/converse-stream` when
`stream` is true), the model id URL-encoded except for the characters a path segment allows
(`:` in `...-v1:0` stays; the `/` of an inference-profile ARN becomes `%2F`).
Credentials: `access_key_id`, `secret_access_key`, optional `session_token`. Settings:
`region` (required; the SigV4 scope) and `header.<Name>` extra headers (signed too).
The probe is a one-token Converse call: Bedrock's runtime has no free listing endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

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
from gateway_providers.bedrock.errors import error_from_bedrock
from gateway_providers.bedrock.request import converse_request
from gateway_providers.bedrock.response import completion_from_converse, completion_id
from gateway_providers.bedrock.signing import aws_credentials, sign
from gateway_providers.bedrock.stream import BedrockStreamParser
from gateway_providers.openai import extra_headers

REGION_SETTING: Final = "region"
EVENT_STREAM_TYPE: Final = "application/vnd.amazon.eventstream"
# Characters a path segment may carry unencoded (RFC 3986 pchar). They are sent raw because
# HTTP clients that requote URLs (yarl, under the proxy's aiohttp transport) turn `%3A` back
# into `:`, which would change the canonical URI the signature covers; `/` stays `%2F`.
PATH_SAFE: Final = "!$&'()*+,;=:@"

RESERVED_HEADERS: Final = frozenset(
    {
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "content-type",
        "content-length",
        "accept",
        "transfer-encoding",
        "host",
        "connection",
    }
)

CAPABILITIES: Final = frozenset({Capability.CHAT, Capability.STREAM, Capability.TOOLS, Capability.VISION})
_PROBE_BODY: Final[Mapping[str, object]] = {
    "messages": [{"role": "user", "content": "ping"}],
    "max_tokens": 1,
}


@dataclass(frozen=True, slots=True)
class BedrockAdapter:
    """Adapter for the Bedrock Converse API (see the module docstring for config)."""

    provider_type: str = "bedrock"
    capabilities: frozenset[Capability] = CAPABILITIES

    def build_request(
        self, endpoint: Endpoint, body: Mapping[str, object], target: DeploymentTarget
    ) -> UpstreamRequest:
        """Build the signed Converse or ConverseStream request for chat; other endpoints are unsupported.

        Raises `UnsupportedRequestError` for what Converse cannot express and
        `ProviderConfigError` when the credentials or the `region` setting are missing.
        """
        if endpoint is not Endpoint.CHAT_COMPLETIONS:
            raise UnsupportedRequestError(f"The Bedrock adapter does not serve {endpoint.value}.")
        provider = target.provider
        region = provider.settings.get(REGION_SETTING)
        if not region:
            raise ProviderConfigError(f"{self.provider_type} deployment has no '{REGION_SETTING}' setting")
        credentials = aws_credentials(provider.credentials)
        stream = body.get("stream") is True
        operation = "converse-stream" if stream else "converse"
        base = provider.base_url.rstrip("/")
        url = f"{base}/model/{quote(target.upstream_model, safe=PATH_SAFE)}/{operation}"
        payload = orjson.dumps(converse_request(body))
        headers = extra_headers(provider.settings, RESERVED_HEADERS)
        headers.append(("Content-Type", "application/json"))
        headers.append(("Accept", EVENT_STREAM_TYPE if stream else "application/json"))
        return UpstreamRequest("POST", url, sign("POST", url, headers, payload, credentials, region), payload)

    def parse_response(
        self,
        endpoint: Endpoint,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        model_alias: str | None = None,
    ) -> ParsedResponse:
        """Translate a Converse response into a `chat.completion` (other bodies pass through)."""
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return ParsedResponse(body, None)
        if endpoint is not Endpoint.CHAT_COMPLETIONS or not isinstance(parsed, dict):
            return ParsedResponse(body, None)
        completion, usage = completion_from_converse(
            parsed, completion_id=completion_id(headers), created=int(time.time()), model_alias=model_alias
        )
        return ParsedResponse(orjson.dumps(completion), usage)

    def new_stream_parser(self, endpoint: Endpoint, *, model_alias: str | None = None) -> BedrockStreamParser:
        """A translator from the ConverseStream event-stream to `chat.completion.chunk` events."""
        return BedrockStreamParser(model_alias=model_alias)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """Translate a Bedrock error response (see `gateway_providers.bedrock.errors`)."""
        return error_from_bedrock(status, headers, body)

    def probe_request(self, target: DeploymentTarget) -> UpstreamRequest:
        """A one-token Converse call (Bedrock's runtime has no free endpoint that checks the key)."""
        return self.build_request(Endpoint.CHAT_COMPLETIONS, _PROBE_BODY, target)
