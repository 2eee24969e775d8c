"""The fake Vertex AI Gemini endpoint, driven through the Vertex adapter."""

from __future__ import annotations

import httpx
import orjson
from gateway_fakes import DEFAULT_VERTEX_TOKEN, FakeProcess
from gateway_providers import (
    DONE,
    DeploymentTarget,
    Endpoint,
    ProviderConfig,
    UpstreamRequest,
    Usage,
    get_adapter,
)

ADAPTER = get_adapter("vertex_gemini")
HELLO = {"messages": [{"role": "user", "content": "hello world"}]}


def target(fake: FakeProcess, token: str = DEFAULT_VERTEX_TOKEN, **settings: str) -> DeploymentTarget:
    return DeploymentTarget(
        "gemini-2.0-flash",
        ProviderConfig(
            "vertex_gemini",
            fake.root_url,
            credentials={"access_token": token},
            settings={"project": "p", **settings},
        ),
    )


def send(request: UpstreamRequest) -> httpx.Response:
    return httpx.request(request.method, request.url, headers=request.headers, content=request.body)


def test_generate_content(fake_vertex: FakeProcess) -> None:
    response = send(ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, HELLO, target(fake_vertex)))
    assert response.status_code == 200
    parsed = ADAPTER.parse_response(Endpoint.CHAT_COMPLETIONS, 200, response.headers, response.content)
    assert orjson.loads(parsed.body)["choices"][0]["message"]["content"] == "echo: hello world"
    assert parsed.usage == Usage(prompt_tokens=2, completion_tokens=3)
    record = fake_vertex.requests()[-1]
    assert (
        record["path"]
        == "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent"
    )


def test_stream_is_sse_and_without_alt_sse_a_json_array(fake_vertex: FakeProcess) -> None:
    request = ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, {**HELLO, "stream": True}, target(fake_vertex))
    response = send(request)
    assert response.headers["content-type"].startswith("text/event-stream")
    parser = ADAPTER.new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    events = parser.feed(response.content)
    assert events[-1].data is DONE
    assert parser.usage == Usage(prompt_tokens=2, completion_tokens=3)
    as_array = send(
        UpstreamRequest("POST", request.url.removesuffix("?alt=sse"), request.headers, request.body)
    )
    assert isinstance(as_array.json(), list)


def test_wrong_token_is_unauthenticated(fake_vertex: FakeProcess) -> None:
    response = send(
        ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, HELLO, target(fake_vertex, token="ya29.old"))
    )
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    assert (
        ADAPTER.parse_error(401, response.headers, response.content).code == "upstream_authentication_failed"
    )


def test_faults_and_validation(fake_vertex: FakeProcess) -> None:
    limited = send(
        ADAPTER.build_request(
            Endpoint.CHAT_COMPLETIONS, HELLO, target(fake_vertex, **{"header.x-fake-status": "429"})
        )
    )
    assert limited.status_code == 429
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    bad = httpx.post(
        f"{fake_vertex.root_url}/v1/projects/p/locations/l/publishers/google/models/m:generateContent",
        json={"contents": [], "bogus": 1},
        headers={"authorization": f"Bearer {DEFAULT_VERTEX_TOKEN}"},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["status"] == "INVALID_ARGUMENT"
    stream_error = send(
        ADAPTER.build_request(
            Endpoint.CHAT_COMPLETIONS,
            {**HELLO, "stream": True},
            target(fake_vertex, **{"header.x-fake-stream-error": "1"}),
        )
    )
    events = ADAPTER.new_stream_parser(Endpoint.CHAT_COMPLETIONS).feed(stream_error.content)
    assert events[-1].error is not None
