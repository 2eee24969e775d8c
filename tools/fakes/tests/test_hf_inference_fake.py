"""The Hugging Face Inference API adapter against the fake's feature-extraction route."""

from __future__ import annotations

import json

import httpx
import pytest
from gateway_fakes import DEFAULT_TEI_KEY, FakeProcess
from gateway_fakes.openai.embeddings import embedding_vector
from gateway_providers import (
    DeploymentTarget,
    Endpoint,
    ErrorKind,
    ProviderConfig,
    ProviderError,
    UpstreamRequest,
    get_adapter,
)

ADAPTER = get_adapter("huggingface_inference")
MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def target(fake: FakeProcess, model: str = MODEL, key: str = DEFAULT_TEI_KEY) -> DeploymentTarget:
    config = ProviderConfig("huggingface_inference", f"{fake.root_url}/hf-inference/models", {"api_key": key})
    return DeploymentTarget(model, config)


def send(request: UpstreamRequest, *extra: tuple[str, str]) -> httpx.Response:
    return httpx.request(
        request.method, request.url, headers=[*request.headers, *extra], content=request.body
    )


def test_batch_embeddings(fake_tei: FakeProcess) -> None:
    request = ADAPTER.build_request(Endpoint.EMBEDDINGS, {"input": ["hello world", "x"]}, target(fake_tei))
    assert request.url == f"{fake_tei.root_url}/hf-inference/models/{MODEL}/pipeline/feature-extraction"
    response = send(request)
    assert response.status_code == 200, response.text
    parsed = ADAPTER.parse_response(Endpoint.EMBEDDINGS, 200, response.headers, response.content)
    data = json.loads(parsed.body)["data"]
    assert data[1]["embedding"] == pytest.approx(embedding_vector("x", 16))
    assert parsed.usage is None  # no token count: the caller estimates


def test_token_level_vectors_are_refused(fake_tei: FakeProcess) -> None:
    request = ADAPTER.build_request(
        Endpoint.EMBEDDINGS, {"input": "a b"}, target(fake_tei, "bert-base-token-level")
    )
    response = send(request)
    with pytest.raises(ProviderError) as raised:
        ADAPTER.parse_response(Endpoint.EMBEDDINGS, 200, response.headers, response.content)
    assert (raised.value.status, raised.value.code) == (502, "unpooled_embeddings")


def test_wrong_token_and_cold_model(fake_tei: FakeProcess) -> None:
    bad = send(ADAPTER.build_request(Endpoint.EMBEDDINGS, {"input": "x"}, target(fake_tei, key="hf_wrong")))
    error = ADAPTER.parse_error(bad.status_code, bad.headers, bad.content)
    assert (bad.status_code, error.kind, error.status) == (401, ErrorKind.AUTHENTICATION, 502)
    cold = send(
        ADAPTER.build_request(Endpoint.EMBEDDINGS, {"input": "x"}, target(fake_tei)), ("x-fake-status", "503")
    )
    error = ADAPTER.parse_error(cold.status_code, cold.headers, cold.content)
    assert (error.kind, error.retryable, error.retry_after_s) == (ErrorKind.OVERLOADED, True, 20.0)
