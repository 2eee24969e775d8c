"""The gateway's OpenAI adapter against the fake: build, send, parse — as the proxy will."""

from __future__ import annotations

import random

import httpx
import orjson
from gateway_fakes import DEFAULT_API_KEY, FakeProcess
from gateway_providers import DeploymentTarget, Endpoint, ProviderConfig, Usage, get_adapter


def target(fake: FakeProcess, key: str = DEFAULT_API_KEY) -> DeploymentTarget:
    config = ProviderConfig("openai", fake.base_url, {"api_key": key}, {"organization": "org-test"})
    return DeploymentTarget("gpt-4o-2024-08-06", config)


def send(request_headers: list[tuple[str, str]], method: str, url: str, body: bytes | None) -> httpx.Response:
    return httpx.request(method, url, headers=request_headers, content=body)


def test_non_stream_round_trip(fake_openai: FakeProcess) -> None:
    adapter = get_adapter("openai")
    body = {"model": "gpt-4o-2024-08-06", "messages": [{"role": "user", "content": "a b c"}], "x_extra": 1}
    request = adapter.build_request(Endpoint.CHAT_COMPLETIONS, body, target(fake_openai))
    response = send(request.headers, request.method, request.url, request.body)
    parsed = adapter.parse_response(
        Endpoint.CHAT_COMPLETIONS,
        response.status_code,
        response.headers,
        response.content,
        model_alias="smart",
    )
    assert parsed.usage == Usage(3, 4, 0, 0)
    assert orjson.loads(parsed.body)["model"] == "smart"
    recorded = fake_openai.requests()[0]
    assert recorded["body"] == body
    headers = dict((name.lower(), value) for name, value in recorded["headers"])
    assert headers["openai-organization"] == "org-test"


def test_stream_round_trip_with_random_chunking(fake_openai: FakeProcess) -> None:
    adapter = get_adapter("openai")
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "héllo wörld 👋"}], "stream": True}
    request = adapter.build_request(Endpoint.CHAT_COMPLETIONS, body, target(fake_openai))
    raw = send(request.headers, request.method, request.url, request.body).content
    rng = random.Random(7)
    parser = adapter.new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    events = []
    position = 0
    while position < len(raw):
        step = rng.randint(1, 9)
        events.extend(parser.feed(raw[position : position + step]))
        position += step
    assert b"".join(event.raw for event in events) == raw
    assert parser.saw_done
    # The adapter asked for usage, so the fake sent the usage-only chunk.
    assert events[-2].is_usage_only
    assert parser.usage == Usage(3, 4, 0, 0)


def test_probe_and_error_mapping(fake_openai: FakeProcess) -> None:
    adapter = get_adapter("openai")
    probe = adapter.probe_request(target(fake_openai))
    assert send(probe.headers, probe.method, probe.url, probe.body).status_code == 200
    bad = adapter.probe_request(target(fake_openai, key="sk-wrong-key-0000"))
    response = send(bad.headers, bad.method, bad.url, bad.body)
    error = adapter.parse_error(response.status_code, response.headers, response.content)
    assert (error.status, error.retryable) == (502, False)
    assert "sk-wrong" not in error.message
    limited = adapter.build_request(Endpoint.EMBEDDINGS, {"model": "m", "input": "x"}, target(fake_openai))
    response = send([*limited.headers, ("x-fake-status", "429")], limited.method, limited.url, limited.body)
    error = adapter.parse_error(response.status_code, response.headers, response.content)
    assert (error.status, error.retryable, error.retry_after_s, error.code) == (
        429,
        True,
        1.0,
        "rate_limit_exceeded",
    )
