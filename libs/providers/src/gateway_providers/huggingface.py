"""Hugging Face Text Embeddings Inference (TEI): `POST {base_url}/embed` as OpenAI embeddings.

TEI answers `{"inputs": [...]}` with a bare list of float vectors, one per input, and
reports the token count in the `x-compute-tokens` response header. This adapter turns
that into OpenAI's `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}],
"model", "usage"}`.

`base_url` is the server root (a TEI container, or a Hugging Face Inference Endpoint
running TEI). Credential: `api_key`, optional (TEI started with `--api-key`, or an HF
token), sent as `Authorization: Bearer`. Settings: `truncate` (`true` lets TEI cut inputs
longer than the model's limit instead of refusing them), `normalize` (`false` to get raw
vectors; TEI normalises by default) and `header.<Name>` extra headers.

`encoding_format`: TEI only returns floats; `gateway_providers.embeddings.apply_encoding_format`
re-encodes them as base64 when the client asked for it (`parse_response`'s `encoding_format`
argument does the same for direct callers). `dimensions` cannot be expressed (a 400).

TEI errors are `{"error": "...", "error_type": "Validation|Tokenizer|Backend|Overloaded|Empty"}`
with 413/422/424/429/400; 424 (the model backend failed) becomes a retryable 502.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

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
    Usage,
)
from gateway_providers.embeddings import apply_encoding_format, embeddings_list
from gateway_providers.errors import error_from_response
from gateway_providers.openai import extra_headers
from gateway_providers.stream import JSONStreamParser

API_KEY_CREDENTIAL: Final = "api_key"
TRUNCATE_SETTING: Final = "truncate"
NORMALIZE_SETTING: Final = "normalize"
TOKENS_HEADER: Final = "x-compute-tokens"
RESERVED_HEADERS: Final = frozenset(
    {"authorization", "content-type", "content-length", "transfer-encoding", "host", "connection"}
)
CAPABILITIES: Final = frozenset({Capability.EMBEDDINGS})


@dataclass(frozen=True, slots=True)
class TEIAdapter:
    """Adapter for Text Embeddings Inference's native `/embed` route (see the module docstring)."""

    provider_type: str = "huggingface_tei"
    capabilities: frozenset[Capability] = CAPABILITIES

    def build_request(
        self, endpoint: Endpoint, body: Mapping[str, object], target: DeploymentTarget
    ) -> UpstreamRequest:
        """Build `POST {base_url}/embed` for embeddings (`GET /info` for models); others are unsupported."""
        base = target.provider.base_url.rstrip("/")
        if endpoint is Endpoint.MODELS:
            return UpstreamRequest("GET", f"{base}/info", bearer_headers(target))
        if endpoint is not Endpoint.EMBEDDINGS:
            raise UnsupportedRequestError(f"The TEI adapter does not serve {endpoint.value}.")
        return embed_request(f"{base}/embed", body, target)

    def parse_response(
        self,
        endpoint: Endpoint,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        model_alias: str | None = None,
        encoding_format: str = "float",
    ) -> ParsedResponse:
        """Translate TEI's list of vectors into OpenAI's embeddings list (other bodies pass through)."""
        try:
            vectors = orjson.loads(body)
        except orjson.JSONDecodeError:
            return ParsedResponse(body, None)
        if endpoint is not Endpoint.EMBEDDINGS or not _is_vector_list(vectors):
            return ParsedResponse(body, None)
        usage = _usage(headers)
        parsed = ParsedResponse(
            orjson.dumps(embeddings_list(vectors, model_alias=model_alias, usage=usage)), usage
        )
        return apply_encoding_format(endpoint, {"encoding_format": encoding_format}, parsed)

    def new_stream_parser(self, endpoint: Endpoint, *, model_alias: str | None = None) -> StreamParser:
        """TEI does not stream; a plain SSE parser keeps the protocol total."""
        return JSONStreamParser(model_alias=model_alias)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """Translate a TEI error (`{"error", "error_type"}`); a failed backend (424) is a retryable 502."""
        message, error_type = _error_fields(body)
        openai_body = orjson.dumps(
            {"error": {"message": message, "type": None, "code": error_type, "param": None}}
        )
        return error_from_response(502 if status == 424 else status, headers, openai_body)

    def probe_request(self, target: DeploymentTarget) -> UpstreamRequest:
        """`GET {base_url}/info`: free, and (with `--api-key`) checks the key."""
        return self.build_request(Endpoint.MODELS, {}, target)


def bearer_headers(target: DeploymentTarget) -> list[tuple[str, str]]:
    """The extra headers, and `Authorization: Bearer <api_key>` when there is a key."""
    headers = extra_headers(target.provider.settings, RESERVED_HEADERS)
    api_key = target.provider.credentials.get(API_KEY_CREDENTIAL)
    if api_key:
        headers.append(("Authorization", f"Bearer {api_key}"))
    return headers


def embed_request(url: str, body: Mapping[str, object], target: DeploymentTarget) -> UpstreamRequest:
    """`POST url` with `{"inputs", "truncate"?, "normalize"?}`: the body TEI's `/embed` and the
    Inference API's feature-extraction share. `dimensions` cannot be expressed (a 400)."""
    if body.get("dimensions") is not None:
        raise UnsupportedRequestError(
            "This provider cannot shorten embeddings; omit `dimensions`.", "dimensions"
        )
    payload: dict[str, object] = {"inputs": embedding_inputs(body.get("input"))}
    settings = target.provider.settings
    for name in (TRUNCATE_SETTING, NORMALIZE_SETTING):
        if name in settings:
            payload[name] = settings[name].strip().lower() == "true"
    headers = bearer_headers(target)
    headers.append(("Content-Type", "application/json"))
    return UpstreamRequest("POST", url, headers, orjson.dumps(payload))


def embedding_inputs(raw: object) -> list[object]:
    """OpenAI's `input` (a string, strings, or token id arrays) as TEI's `inputs` batch."""
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(item, int) for item in raw):
        return [raw]  # one pre-tokenised input
    if isinstance(raw, list) and raw and all(isinstance(item, str | list) for item in raw):
        return list(raw)
    raise UnsupportedRequestError("`input` must be a string or a non-empty array.", "input")


def _is_vector_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(vector, list) for vector in value)


def _usage(headers: Mapping[str, str]) -> Usage | None:
    """The `x-compute-tokens` count; None without it, so the caller estimates rather than bills 0."""
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        tokens = int(lowered.get(TOKENS_HEADER, ""))
    except ValueError:
        return None
    return Usage(prompt_tokens=tokens) if tokens >= 0 else None


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(parsed, dict):
        return None, None
    message, error_type = parsed.get("error"), parsed.get("error_type")
    return (
        message if isinstance(message, str) else None,
        error_type if isinstance(error_type, str) else None,
    )
