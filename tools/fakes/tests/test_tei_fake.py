"""The fake Text Embeddings Inference server, driven through the TEI adapter."""

from __future__ import annotations

import httpx
import orjson
from gateway_fakes import DEFAULT_TEI_KEY, FakeProcess
from gateway_fakes.openai.embeddings import embedding_vector
from gateway_providers import DeploymentTarget, Endpoint, ProviderConfig, UpstreamRequest, Usage, get_adapter

ADAPTER = get_adapter("huggingface_tei")


def target(fake: FakeProcess, key: str = DEFAULT_TEI_KEY, **settings: str) -> DeploymentTarget:
    return DeploymentTarget(
        "bge",
        ProviderConfig("huggingface_tei", fake.root_url, credentials={"api_key": key}, settings=settings),
    )


def send(request: UpstreamRequest) -> httpx.Response:
    return httpx.request(request.method, request.url, headers=request.headers, content=request.body)


def test_embed_round_trip(fake_tei: FakeProcess) -> None:
    request = ADAPTER.build_request(Endpoint.EMBEDDINGS, {"input": ["hello world", "x"]}, target(fake_tei))
    response = send(request)
    assert response.status_code == 200
    vectors = response.json()
    assert len(vectors) == 2
    assert len(vectors[0]) == 16
    assert vectors[0] == embedding_vector("hello world", 16)
    parsed = ADAPTER.parse_response(Endpoint.EMBEDDINGS, 200, response.headers, response.content)
    assert parsed.usage == Usage(prompt_tokens=3)
    assert [item["index"] for item in orjson.loads(parsed.body)["data"]] == [0, 1]
    assert fake_tei.requests("/embed")[-1]["body"] == {"inputs": ["hello world", "x"]}


def test_wrong_key_is_refused_and_info_is_the_probe(fake_tei: FakeProcess) -> None:
    refused = send(ADAPTER.build_request(Endpoint.EMBEDDINGS, {"input": "x"}, target(fake_tei, key="wrong")))
    assert refused.status_code == 401
    assert ADAPTER.parse_error(401, refused.headers, refused.content).status == 502
    info = send(ADAPTER.probe_request(target(fake_tei)))
    assert info.status_code == 200
    assert info.json()["model_id"] == "BAAI/bge-small-en-v1.5"


def test_long_input_needs_truncate(fake_tei: FakeProcess) -> None:
    long_text = " ".join(["word"] * 600)
    too_long = send(ADAPTER.build_request(Endpoint.EMBEDDINGS, {"input": long_text}, target(fake_tei)))
    assert too_long.status_code == 413
    error = ADAPTER.parse_error(413, too_long.headers, too_long.content)
    assert (error.status, error.code) == (413, "Validation")
    truncated = send(
        ADAPTER.build_request(Endpoint.EMBEDDINGS, {"input": long_text}, target(fake_tei, truncate="true"))
    )
    assert truncated.status_code == 200
    assert truncated.headers["x-compute-tokens"] == "512"


def test_overloaded_fault(fake_tei: FakeProcess) -> None:
    response = send(
        ADAPTER.build_request(
            Endpoint.EMBEDDINGS, {"input": "x"}, target(fake_tei, **{"header.x-fake-status": "429"})
        )
    )
    assert response.status_code == 429
    assert response.json() == {"error": "fake upstream fault (HTTP 429)", "error_type": "Overloaded"}
    assert ADAPTER.parse_error(429, response.headers, response.content).retryable
