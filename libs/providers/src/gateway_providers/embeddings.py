"""OpenAI's embeddings response, built from any provider's vectors, and `encoding_format`.

Adapters whose provider answers with bare vectors (TEI, Hugging Face, Bedrock Titan, Vertex)
build OpenAI's `{"object": "list", "data": [...], "model", "usage"}` with `embeddings_list`.
Those providers only return floats, so a client that asked for `encoding_format: "base64"`
gets its vectors re-encoded by `apply_encoding_format`: little-endian float32, base64, exactly
as OpenAI encodes them. The proxy calls it on every parsed embeddings response; an OpenAI or
Azure response already in base64 (the format was forwarded upstream) is left untouched.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping, Sequence

import orjson

from gateway_providers.base import Endpoint, ParsedResponse, Usage

BASE64: str = "base64"


def float32_base64(vector: Sequence[float]) -> str:
    """`vector` as OpenAI's base64 encoding: little-endian IEEE-754 float32, packed, base64."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def embeddings_list(
    vectors: Sequence[Sequence[float]], *, model_alias: str | None, usage: Usage | None
) -> dict[str, object]:
    """OpenAI's embeddings list for `vectors` (floats; `usage` None reports zero tokens)."""
    tokens = usage.prompt_tokens if usage is not None else 0
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": list(vector)}
            for index, vector in enumerate(vectors)
        ],
        "model": model_alias or "",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def wants_base64(body: Mapping[str, object]) -> bool:
    """Whether the client's embeddings request asked for base64 vectors."""
    return body.get("encoding_format") == BASE64


def apply_encoding_format(
    endpoint: Endpoint, request_body: Mapping[str, object], parsed: ParsedResponse
) -> ParsedResponse:
    """Re-encode float vectors as base64 when the client's request asked for base64.

    A no-op (the same object, no parsing) for other endpoints, for `float` requests, and for
    bodies that are not an embeddings list; vectors that are already strings stay as they are.
    """
    if endpoint is not Endpoint.EMBEDDINGS or not wants_base64(request_body):
        return parsed
    try:
        response = orjson.loads(parsed.body)
    except orjson.JSONDecodeError:
        return parsed
    data = response.get("data") if isinstance(response, dict) else None
    if not isinstance(data, list):
        return parsed
    changed = False
    for item in data:
        vector = item.get("embedding") if isinstance(item, dict) else None
        if isinstance(vector, list) and all(isinstance(v, int | float) for v in vector):
            item["embedding"] = float32_base64(vector)
            changed = True
    return ParsedResponse(orjson.dumps(response), parsed.usage) if changed else parsed
