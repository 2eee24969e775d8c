"""Hugging Face Text Embeddings Inference: `/embed` requests, OpenAI embeddings responses, errors."""

from __future__ import annotations

import base64
import struct

import orjson
import pytest
from gateway_providers import (
    Capability,
    DeploymentTarget,
    Endpoint,
    ProviderConfig,
    UnsupportedRequestError,
    Usage,
    get_adapter,
)

ADAPTER = get_adapter("huggingface_tei")


def target(credentials: dict[str, str] | None = None, **settings: str) -> DeploymentTarget:
    return DeploymentTarget(
        "bge-small",
        ProviderConfig(
            "huggingface_tei", "http://tei:8080/", credentials=credentials or {}, settings=settings
        ),
    )


def test_capabilities_are_embeddings_only() -> None:
    assert ADAPTER.capabilities == frozenset({Capability.EMBEDDINGS})


@pytest.mark.parametrize(
    ("given", "inputs"),
    [("one", ["one"]), (["a", "b"], ["a", "b"]), ([1, 2, 3], [[1, 2, 3]]), ([[1], [2, 3]], [[1], [2, 3]])],
)
def test_embed_request(given: object, inputs: list[object]) -> None:
    request = ADAPTER.build_request(
        Endpoint.EMBEDDINGS,
        {"model": "bge-small", "input": given, "encoding_format": "float"},
        target({"api_key": "hf_x"}, truncate="true", **{"header.X-Team": "search"}),
    )
    assert (request.method, request.url) == ("POST", "http://tei:8080/embed")
    assert request.body is not None
    assert orjson.loads(request.body) == {"inputs": inputs, "truncate": True}
    assert request.header("authorization") == "Bearer hf_x"
    assert request.header("x-team") == "search"


def test_no_key_sends_no_authorization_and_probe_is_info() -> None:
    probe = ADAPTER.probe_request(target())
    assert (probe.method, probe.url, probe.header("authorization")) == ("GET", "http://tei:8080/info", None)


@pytest.mark.parametrize(
    ("body", "param"), [({"input": "x", "dimensions": 8}, "dimensions"), ({"input": []}, "input")]
)
def test_unsupported(body: dict[str, object], param: str) -> None:
    with pytest.raises(UnsupportedRequestError) as info:
        ADAPTER.build_request(Endpoint.EMBEDDINGS, body, target())
    assert info.value.param == param
    with pytest.raises(UnsupportedRequestError):
        ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, {"messages": []}, target())


def test_vectors_become_openai_embeddings_float_and_base64() -> None:
    vectors = [[0.5, -0.25], [1.0, 0.0]]
    parsed = ADAPTER.parse_response(
        Endpoint.EMBEDDINGS, 200, {"X-Compute-Tokens": "5"}, orjson.dumps(vectors), model_alias="embed"
    )
    assert parsed.usage == Usage(prompt_tokens=5)
    assert orjson.loads(parsed.body) == {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.5, -0.25]},
            {"object": "embedding", "index": 1, "embedding": [1.0, 0.0]},
        ],
        "model": "embed",
        "usage": {"prompt_tokens": 5, "total_tokens": 5},
    }
    encoded = ADAPTER.parse_response(  # type: ignore[call-arg]
        Endpoint.EMBEDDINGS, 200, {}, orjson.dumps(vectors), encoding_format="base64"
    )
    assert encoded.usage is None  # no token header: the caller estimates
    first = orjson.loads(encoded.body)["data"][0]["embedding"]
    assert struct.unpack("<2f", base64.b64decode(first)) == (0.5, -0.25)


@pytest.mark.parametrize(
    ("status", "error_type", "client_status", "retryable"),
    [
        (413, "Validation", 413, False),
        (422, "Tokenizer", 422, False),
        (424, "Backend", 502, True),
        (429, "Overloaded", 429, True),
    ],
)
def test_errors(status: int, error_type: str, client_status: int, retryable: bool) -> None:
    error = ADAPTER.parse_error(status, {}, orjson.dumps({"error": "boom", "error_type": error_type}))
    assert (error.status, error.code, error.message, error.retryable) == (
        client_status,
        error_type,
        "boom",
        retryable,
    )


def test_unauthorised_with_empty_body_is_a_hidden_502() -> None:
    error = ADAPTER.parse_error(401, {}, b"")
    assert (error.status, error.code, error.retryable) == (502, "upstream_authentication_failed", False)
