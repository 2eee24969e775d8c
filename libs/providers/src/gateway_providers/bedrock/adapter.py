"""The AWS Bedrock adapter: Converse and ConverseStream (Claude, Llama, Mistral...), InvokeModel for
Titan embeddings and Titan / Nova / Stability images, SigV4-signed.

`base_url` is the runtime endpoint, `https://bedrock-runtime.<region>.amazonaws.com`.
Chat goes to `POST {base_url}/model/{modelId}/converse` (or `/converse-stream` when
`stream` is true); embeddings and images go to `POST {base_url}/model/{modelId}/invoke` with
the model family's body (`invoke.py`). The model id is URL-encoded except for the characters a
path segment allows (`:` in `...-v1:0` stays; the `/` of an inference-profile ARN becomes `%2F`).
Credentials: `access_key_id`, `secret_access_key`, optional `session_token` (with a
`role_arn` setting these are the base keys and `gateway_providers.credentials` swaps in
the role's temporary ones). Settings: `region` (required; the SigV4 scope) and
`header.<Name>` extra headers (signed too).
The probe is a one-token Converse call (an embedding of `ping` for an embeddings model):
Bedrock's runtime has no free listing endpoint.
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
from gateway_providers.bedrock.invoke import invoke_family, parse_embedding, parse_images
from gateway_providers.bedrock.request import converse_request
from gateway_providers.bedrock.response import completion_from_converse, completion_id
from gateway_providers.bedrock.signing import aws_credentials, sign
from gateway_providers.bedrock.stream import BedrockStreamParser
from gateway_providers.openai import extra_headers

REGION_SETTING: Final = "region"
EVENT_STREAM_TYPE: Final = "application/vnd.amazon.eventstream"
# Characters a path segment may carry unencoded (RFC 3986 pchar). They are sent raw because
# some HTTP clients requote URLs (yarl, under aiohttp, turns `%3A` back into `:`), which would
# change the canonical URI the signature covers; `/` stays `%2F`.
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

CAPABILITIES: Final = frozenset(
    {
        Capability.CHAT,
        Capability.STREAM,
        Capability.TOOLS,
        Capability.VISION,
        Capability.EMBEDDINGS,
        Capability.IMAGES,
    }
)
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
        """Build the signed Converse/ConverseStream (chat) or InvokeModel (embeddings, images) request.

        Raises `UnsupportedRequestError` for what the model cannot express (or an endpoint its
        family does not serve) and `ProviderConfigError` when the credentials or the `region`
        setting are missing.
        """
        provider = target.provider
        region = provider.settings.get(REGION_SETTING)
        if not region:
            raise ProviderConfigError(f"{self.provider_type} deployment has no '{REGION_SETTING}' setting")
        credentials = aws_credentials(provider.credentials)
        stream = body.get("stream") is True and endpoint is Endpoint.CHAT_COMPLETIONS
        if endpoint is Endpoint.CHAT_COMPLETIONS:
            operation, payload = (
                ("converse-stream" if stream else "converse"),
                orjson.dumps(converse_request(body)),
            )
        else:
            family = invoke_family(endpoint, target.upstream_model)
            if family is None:
                raise UnsupportedRequestError(
                    f"The Bedrock model `{target.upstream_model}` does not serve {endpoint.value}."
                )
            operation, payload = "invoke", orjson.dumps(family.build(body))
        base = provider.base_url.rstrip("/")
        url = f"{base}/model/{quote(target.upstream_model, safe=PATH_SAFE)}/{operation}"
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
        """Translate a Converse response into a `chat.completion`, an InvokeModel one into OpenAI's
        embeddings list or images response (bodies of another shape pass through).

        Raises a 400 `content_policy` `ProviderError` for an image the model filtered.
        """
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return ParsedResponse(body, None)
        if not isinstance(parsed, dict):
            return ParsedResponse(body, None)
        if endpoint is Endpoint.EMBEDDINGS:
            embedded = parse_embedding(parsed, model_alias)
            return (
                ParsedResponse(body, None)
                if embedded is None
                else ParsedResponse(orjson.dumps(embedded[0]), embedded[1])
            )
        if endpoint is Endpoint.IMAGES_GENERATIONS:
            images = parse_images(parsed)
            return (
                ParsedResponse(body, None) if images is None else ParsedResponse(orjson.dumps(images), None)
            )
        if endpoint is not Endpoint.CHAT_COMPLETIONS:
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
        """A one-token Converse call, or one embedding for an embeddings model (Bedrock's runtime has
        no free endpoint that checks the key)."""
        if invoke_family(Endpoint.EMBEDDINGS, target.upstream_model) is not None:
            return self.build_request(Endpoint.EMBEDDINGS, {"input": "ping"}, target)
        return self.build_request(Endpoint.CHAT_COMPLETIONS, _PROBE_BODY, target)
