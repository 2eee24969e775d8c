"""Hugging Face Inference API and Inference Endpoints: `feature-extraction` as OpenAI embeddings.

Serverless (the default): `POST {base_url}/{model}/pipeline/feature-extraction`, with
`base_url` `https://router.huggingface.co/hf-inference/models`. A dedicated Inference
Endpoint (setting `dedicated: true`): `POST {base_url}` — the endpoint URL serves one model.
Body `{"inputs": str | [str], "normalize"?, "truncate"?}` (settings `normalize`, `truncate`);
the answer is a JSON list of vectors (a single vector for a single string). A model without
a pooling layer answers token-level vectors (one more nesting level): that is refused as a
502, since OpenAI's API has one vector per input.

Credential: `api_key`, a Hugging Face token (`hf_...`), sent as `Authorization: Bearer`.
No token count is reported, so the usage is left to the caller's estimate.
Errors are `{"error": "..." | [...]}`; a cold model answers 503 with `estimated_time`
(seconds), used as the back-off hint of a retryable `overloaded` error.
"""

from __future__ import annotations

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
    ProviderError,
    StreamParser,
    UnsupportedRequestError,
    UpstreamRequest,
)
from gateway_providers.embeddings import embeddings_list
from gateway_providers.errors import error_from_response
from gateway_providers.huggingface import embed_request
from gateway_providers.stream import JSONStreamParser

DEDICATED_SETTING: Final = "dedicated"
CAPABILITIES: Final = frozenset({Capability.EMBEDDINGS})


@dataclass(frozen=True, slots=True)
class HFInferenceAdapter:
    """Adapter for Hugging Face's hosted feature-extraction (see the module docstring)."""

    provider_type: str = "huggingface_inference"
    capabilities: frozenset[Capability] = CAPABILITIES

    def build_request(
        self, endpoint: Endpoint, body: Mapping[str, object], target: DeploymentTarget
    ) -> UpstreamRequest:
        """Build the feature-extraction POST for embeddings; other endpoints are unsupported."""
        if endpoint is not Endpoint.EMBEDDINGS:
            raise UnsupportedRequestError(
                f"The Hugging Face Inference adapter does not serve {endpoint.value}."
            )
        return embed_request(self._url(target), body, target)

    def parse_response(
        self,
        endpoint: Endpoint,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        model_alias: str | None = None,
    ) -> ParsedResponse:
        """Translate the list of vectors into OpenAI's embeddings list (other bodies pass through).

        Raises a 502 `ProviderError` for token-level (unpooled) vectors.
        """
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return ParsedResponse(body, None)
        if endpoint is not Endpoint.EMBEDDINGS or not isinstance(parsed, list) or not parsed:
            return ParsedResponse(body, None)
        vectors = [parsed] if all(_is_number(v) for v in parsed) else parsed
        if not all(isinstance(v, list) and all(_is_number(x) for x in v) for v in vectors):
            raise ProviderError(
                502,
                "The model returned token-level vectors; deploy a sentence-embedding model (with pooling).",
                "upstream_error",
                code="unpooled_embeddings",
            )
        return ParsedResponse(
            orjson.dumps(embeddings_list(vectors, model_alias=model_alias, usage=None)), None
        )

    def new_stream_parser(self, endpoint: Endpoint, *, model_alias: str | None = None) -> StreamParser:
        """Feature extraction does not stream; a plain SSE parser keeps the protocol total."""
        return JSONStreamParser(model_alias=model_alias)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """Translate `{"error": ...}`; a cold model's `estimated_time` is the back-off hint."""
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            parsed = None
        fields = parsed if isinstance(parsed, dict) else {}
        error = fields.get("error")
        message = "; ".join(str(e) for e in error) if isinstance(error, list) else error
        estimated = fields.get("estimated_time")
        hint = (
            float(estimated)
            if isinstance(estimated, int | float) and not isinstance(estimated, bool)
            else None
        )
        openai_body = orjson.dumps({"error": {"message": message, "type": None, "code": None}})
        return error_from_response(status, headers, openai_body, retry_after_hint=hint)

    def probe_request(self, target: DeploymentTarget) -> UpstreamRequest:
        """One embedding of `ping` (the hosted API has no free endpoint that checks the token)."""
        return self.build_request(Endpoint.EMBEDDINGS, {"input": "ping"}, target)

    def _url(self, target: DeploymentTarget) -> str:
        base = target.provider.base_url.rstrip("/")
        if target.provider.settings.get(DEDICATED_SETTING, "").strip().lower() == "true":
            return base
        return f"{base}/{quote(target.upstream_model, safe='/')}/pipeline/feature-extraction"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
