"""Vertex service-account auth end to end: JWT assertion -> the fake's token endpoint -> bearer token
the fake Vertex accepts; and Vertex text embeddings through `:predict`."""

from __future__ import annotations

import json

import httpx
import jwt
import pytest
from gateway_fakes import DEFAULT_VERTEX_TOKEN, FakeProcess
from gateway_fakes.openai.embeddings import embedding_vector
from gateway_providers import (
    DeploymentTarget,
    Endpoint,
    ErrorKind,
    ProviderConfig,
    ProviderError,
    UpstreamRequest,
    Usage,
    get_adapter,
)
from gateway_providers.credentials import CredentialResolver, TokenResponse

ADAPTER = get_adapter("vertex_gemini")


def key_file(fake: FakeProcess) -> dict[str, str]:
    key: dict[str, str] = httpx.get(f"{fake.root_url}/_fake/service-account.json").json()
    return key


def target(
    fake: FakeProcess, credentials: dict[str, str], model: str = "gemini-2.0-flash"
) -> DeploymentTarget:
    settings = {"project": "p1", "location": "europe-west4", "token_url": f"{fake.root_url}/token"}
    return DeploymentTarget(model, ProviderConfig("vertex_gemini", fake.root_url, credentials, settings))


async def async_send(request: UpstreamRequest) -> TokenResponse:
    async with httpx.AsyncClient() as client:
        response = await client.request(
            request.method, request.url, headers=request.headers, content=request.body
        )
    return TokenResponse(response.status_code, response.headers, response.content)


def send(request: UpstreamRequest) -> httpx.Response:
    return httpx.request(request.method, request.url, headers=request.headers, content=request.body)


async def test_service_account_key_is_traded_for_the_token_vertex_accepts(fake_vertex: FakeProcess) -> None:
    key = key_file(fake_vertex)
    resolver = CredentialResolver(async_send)
    resolved = await resolver.resolve(target(fake_vertex, {"service_account_json": json.dumps(key)}))
    assert resolved.provider.credentials["access_token"] == DEFAULT_VERTEX_TOKEN
    token_call = fake_vertex.requests("/token")[-1]
    assert token_call["status"] == 200
    body = token_call["body"]
    assert isinstance(body, dict)
    assert body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(str(body["assertion"]), options={"verify_signature": False})
    assert claims["iss"] == key["client_email"]
    assert claims["aud"] == f"{fake_vertex.root_url}/token"
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    assert jwt.get_unverified_header(str(body["assertion"]))["kid"] == key["private_key_id"]
    chat = {"messages": [{"role": "user", "content": "hello world"}]}
    response = send(ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, chat, resolved))
    assert response.status_code == 200, response.text


async def test_a_key_the_fake_did_not_issue_is_refused(fake_vertex: FakeProcess) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = key_file(fake_vertex)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key["private_key"] = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    resolver = CredentialResolver(async_send)
    with pytest.raises(ProviderError) as raised:
        await resolver.resolve(target(fake_vertex, {"service_account_json": json.dumps(key)}))
    assert (raised.value.status, raised.value.kind, raised.value.retryable) == (
        502,
        ErrorKind.AUTHENTICATION,
        False,
    )
    assert fake_vertex.requests("/token")[-1]["status"] == 400


def test_text_embeddings_through_predict(fake_vertex: FakeProcess) -> None:
    embedding_target = target(fake_vertex, {"access_token": DEFAULT_VERTEX_TOKEN}, model="text-embedding-005")
    request = ADAPTER.build_request(
        Endpoint.EMBEDDINGS, {"input": ["hello world", "x"], "dimensions": 32}, embedding_target
    )
    assert request.url.endswith("/publishers/google/models/text-embedding-005:predict")
    response = send(request)
    assert response.status_code == 200, response.text
    parsed = ADAPTER.parse_response(
        Endpoint.EMBEDDINGS, 200, response.headers, response.content, model_alias="e"
    )
    body = json.loads(parsed.body)
    assert [item["index"] for item in body["data"]] == [0, 1]
    assert body["data"][0]["embedding"] == pytest.approx(embedding_vector("hello world", 32))
    assert parsed.usage == Usage(prompt_tokens=3)
    assert fake_vertex.requests()[-1]["body"] == {
        "instances": [{"content": "hello world"}, {"content": "x"}],
        "parameters": {"outputDimensionality": 32},
    }
