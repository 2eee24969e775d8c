"""`apply_encoding_format`: floats become OpenAI's base64 float32 only when the client asked."""

from __future__ import annotations

import base64
import struct

import orjson
import pytest
from gateway_providers import Endpoint, ParsedResponse, Usage
from gateway_providers.embeddings import apply_encoding_format, embeddings_list, float32_base64


def floats_response() -> ParsedResponse:
    body = embeddings_list([[0.5, -0.25, 1.0], [0.0]], model_alias="m", usage=Usage(prompt_tokens=3))
    return ParsedResponse(orjson.dumps(body), Usage(prompt_tokens=3))


def test_float32_base64_matches_openai_encoding() -> None:
    encoded = float32_base64([0.5, -0.25, 1.0])
    assert struct.unpack("<3f", base64.b64decode(encoded)) == (0.5, -0.25, 1.0)
    assert encoded == "AAAAPwAAgL4AAIA/"


def test_base64_request_gets_base64_vectors() -> None:
    parsed = apply_encoding_format(Endpoint.EMBEDDINGS, {"encoding_format": "base64"}, floats_response())
    body = orjson.loads(parsed.body)
    assert body["data"][0]["embedding"] == "AAAAPwAAgL4AAIA/"
    assert struct.unpack("<1f", base64.b64decode(body["data"][1]["embedding"])) == (0.0,)
    assert (body["model"], body["usage"], parsed.usage) == (
        "m",
        {"prompt_tokens": 3, "total_tokens": 3},
        Usage(prompt_tokens=3),
    )


@pytest.mark.parametrize(
    ("endpoint", "request_body"),
    [
        (Endpoint.EMBEDDINGS, {}),
        (Endpoint.EMBEDDINGS, {"encoding_format": "float"}),
        (Endpoint.CHAT_COMPLETIONS, {"encoding_format": "base64"}),
    ],
)
def test_untouched_unless_asked(endpoint: Endpoint, request_body: dict[str, object]) -> None:
    original = floats_response()
    assert apply_encoding_format(endpoint, request_body, original) is original


@pytest.mark.parametrize("body", [b'{"data": [{"embedding": "AAAAPw=="}]}', b"not json", b'{"error": {}}'])
def test_already_base64_or_not_a_list_is_left_alone(body: bytes) -> None:
    original = ParsedResponse(body, None)
    assert apply_encoding_format(Endpoint.EMBEDDINGS, {"encoding_format": "base64"}, original) is original
