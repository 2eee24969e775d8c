"""The fake Azure OpenAI upstream: the SDK's AzureOpenAI client, its admission, and the adapter."""

from __future__ import annotations

import httpx
import openai
import orjson
import pytest
from gateway_fakes import DEFAULT_AZURE_KEY, DEFAULT_AZURE_TOKEN, FakeProcess
from gateway_providers import DeploymentTarget, Endpoint, ProviderConfig, Usage, get_adapter


def azure_sdk(fake: FakeProcess, **auth: str) -> openai.AzureOpenAI:
    credentials = auth or {"api_key": DEFAULT_AZURE_KEY}
    return openai.AzureOpenAI(
        azure_endpoint=fake.root_url,
        api_version="2024-10-21",
        max_retries=0,
        **credentials,  # type: ignore[arg-type]
    )


def test_sdk_chat_and_embeddings_on_a_deployment(fake_azure: FakeProcess) -> None:
    with azure_sdk(fake_azure) as client:
        completion = client.chat.completions.create(
            model="prod-4o", messages=[{"role": "user", "content": "hi"}]
        )
        embedding = client.embeddings.create(model="prod-embed", input="hello")
    assert completion.choices[0].message.content == "echo: hi"
    assert completion.model == "prod-4o"
    assert len(embedding.data[0].embedding) == 16
    paths = [(r["path"], r["query"]) for r in fake_azure.requests()]
    assert paths == [
        ("/openai/deployments/prod-4o/chat/completions", "api-version=2024-10-21"),
        ("/openai/deployments/prod-embed/embeddings", "api-version=2024-10-21"),
    ]


def test_entra_token_is_accepted(fake_azure: FakeProcess) -> None:
    with azure_sdk(fake_azure, azure_ad_token=DEFAULT_AZURE_TOKEN) as client:
        completion = client.chat.completions.create(model="d", messages=[{"role": "user", "content": "x"}])
    assert completion.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("auth", [{"api_key": "wrong"}, {"azure_ad_token": "wrong"}])
def test_wrong_credentials_are_rejected(fake_azure: FakeProcess, auth: dict[str, str]) -> None:
    with azure_sdk(fake_azure, **auth) as client, pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model="d", messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 401
    assert info.value.code == "401"


def test_missing_api_version_is_not_found(fake_azure: FakeProcess) -> None:
    response = httpx.post(
        f"{fake_azure.root_url}/openai/deployments/d/chat/completions",
        json={"messages": [{"role": "user", "content": "x"}]},
        headers={"api-key": DEFAULT_AZURE_KEY},
    )
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


def target(fake: FakeProcess, credentials: dict[str, str]) -> DeploymentTarget:
    return DeploymentTarget("prod-4o", ProviderConfig("azure_openai", fake.base_url, credentials))


@pytest.mark.parametrize(
    "credentials", [{"api_key": DEFAULT_AZURE_KEY}, {"azure_ad_token": DEFAULT_AZURE_TOKEN}]
)
def test_adapter_stream_round_trip(fake_azure: FakeProcess, credentials: dict[str, str]) -> None:
    adapter = get_adapter("azure_openai")
    body = {"model": "prod-4o", "messages": [{"role": "user", "content": "a b"}], "stream": True}
    request = adapter.build_request(Endpoint.CHAT_COMPLETIONS, body, target(fake_azure, credentials))
    response = httpx.request(request.method, request.url, headers=request.headers, content=request.body)
    assert response.status_code == 200, response.text
    parser = adapter.new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    events = parser.feed(response.content)
    assert parser.saw_done
    assert parser.usage == Usage(2, 3)
    assert events[-2].is_usage_only


def test_adapter_probe_and_error(fake_azure: FakeProcess) -> None:
    adapter = get_adapter("azure_openai")
    probe = adapter.probe_request(target(fake_azure, {"api_key": DEFAULT_AZURE_KEY}))
    assert httpx.request(probe.method, probe.url, headers=probe.headers).status_code == 200
    bad = adapter.probe_request(target(fake_azure, {"api_key": "nope"}))
    response = httpx.request(bad.method, bad.url, headers=bad.headers)
    error = adapter.parse_error(response.status_code, response.headers, response.content)
    assert (response.status_code, error.status, error.retryable) == (401, 502, False)
    assert orjson.loads(error.to_body())["error"]["code"] == "upstream_authentication_failed"
