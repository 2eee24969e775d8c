"""Bedrock InvokeModel (Titan embeddings, Titan / Stability images) and STS AssumeRole, end to end:
the adapter and `CredentialResolver` against the fake, whose SigV4 checks are real."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from gateway_fakes import (
    DEFAULT_BEDROCK_ACCESS_KEY_ID,
    DEFAULT_BEDROCK_SECRET,
    DEFAULT_BEDROCK_SESSION_TOKEN,
    DEFAULT_STS_ACCESS_KEY_ID,
    DEFAULT_STS_ROLE_ARN,
    DEFAULT_STS_SECRET,
    FakeProcess,
)
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

SESSION = {
    "access_key_id": DEFAULT_BEDROCK_ACCESS_KEY_ID,
    "secret_access_key": DEFAULT_BEDROCK_SECRET,
    "session_token": DEFAULT_BEDROCK_SESSION_TOKEN,
}
BASE = {"access_key_id": DEFAULT_STS_ACCESS_KEY_ID, "secret_access_key": DEFAULT_STS_SECRET}
ADAPTER = get_adapter("bedrock")


def target(
    fake: FakeProcess, model: str, credentials: dict[str, str] = SESSION, **settings: str
) -> DeploymentTarget:
    config = ProviderConfig(
        "bedrock", fake.root_url, credentials=credentials, settings={"region": "us-east-1", **settings}
    )
    return DeploymentTarget(model, config)


def send(request: UpstreamRequest) -> httpx.Response:
    return httpx.request(request.method, request.url, headers=request.headers, content=request.body)


async def async_send(request: UpstreamRequest) -> TokenResponse:
    async with httpx.AsyncClient() as client:
        response = await client.request(
            request.method, request.url, headers=request.headers, content=request.body
        )
    return TokenResponse(response.status_code, response.headers, response.content)


def test_titan_embedding_round_trip(fake_bedrock: FakeProcess) -> None:
    model = "amazon.titan-embed-text-v2:0"
    request = ADAPTER.build_request(
        Endpoint.EMBEDDINGS, {"input": "hello world", "dimensions": 256}, target(fake_bedrock, model)
    )
    assert request.url == f"{fake_bedrock.root_url}/model/{model}/invoke"
    response = send(request)
    assert response.status_code == 200, response.text
    parsed = ADAPTER.parse_response(
        Endpoint.EMBEDDINGS, 200, response.headers, response.content, model_alias="emb"
    )
    body = json.loads(parsed.body)
    assert (body["object"], body["model"]) == ("list", "emb")
    assert body["data"][0]["embedding"] == pytest.approx(embedding_vector("hello world", 256))
    assert parsed.usage == Usage(prompt_tokens=2)
    assert fake_bedrock.requests()[-1]["body"] == {"inputText": "hello world", "dimensions": 256}


@pytest.mark.parametrize("model", ["amazon.titan-image-generator-v2:0", "stability.stable-image-core-v1:1"])
def test_image_generation_round_trip(fake_bedrock: FakeProcess, model: str) -> None:
    request = ADAPTER.build_request(
        Endpoint.IMAGES_GENERATIONS, {"prompt": "a red fox", "size": "1792x1024"}, target(fake_bedrock, model)
    )
    response = send(request)
    assert response.status_code == 200, response.text
    parsed = ADAPTER.parse_response(Endpoint.IMAGES_GENERATIONS, 200, response.headers, response.content)
    data = json.loads(parsed.body)["data"]
    assert len(data) == 1
    assert base64.b64decode(data[0]["b64_json"]).startswith(b"\x89PNG")
    sent = fake_bedrock.requests()[-1]["body"]
    assert isinstance(sent, dict)
    if model.startswith("stability."):
        assert sent == {
            "prompt": "a red fox",
            "mode": "text-to-image",
            "aspect_ratio": "16:9",
            "output_format": "png",
        }
    else:
        assert sent["imageGenerationConfig"] == {"numberOfImages": 1, "width": 1792, "height": 1024}


@pytest.mark.parametrize("model", ["amazon.titan-image-generator-v2:0", "stability.sd3-large-v1:0"])
def test_filtered_image_is_a_content_policy_error(fake_bedrock: FakeProcess, model: str) -> None:
    request = ADAPTER.build_request(
        Endpoint.IMAGES_GENERATIONS, {"prompt": "something forbidden"}, target(fake_bedrock, model)
    )
    response = send(request)
    if response.status_code >= 400:  # Titan refuses with a ValidationException
        error = ADAPTER.parse_error(response.status_code, response.headers, response.content)
    else:  # Stability answers 200 with a filter reason
        with pytest.raises(ProviderError) as raised:
            ADAPTER.parse_response(Endpoint.IMAGES_GENERATIONS, 200, response.headers, response.content)
        error = raised.value
    assert (error.status, error.kind, error.retryable) == (400, ErrorKind.CONTENT_POLICY, False)


async def test_assume_role_then_converse_with_the_temporary_keys(fake_bedrock: FakeProcess) -> None:
    resolver = CredentialResolver(async_send)
    role_target = target(
        fake_bedrock,
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        credentials=BASE,
        role_arn=DEFAULT_STS_ROLE_ARN,
        sts_endpoint=f"{fake_bedrock.root_url}/",
    )
    # The base keys alone are not a Bedrock identity: the runtime refuses them.
    refused = send(
        ADAPTER.build_request(
            Endpoint.CHAT_COMPLETIONS, {"messages": [{"role": "user", "content": "hi"}]}, role_target
        )
    )
    assert refused.status_code == 403
    resolved = await resolver.resolve(role_target)
    again = await resolver.resolve(role_target)
    assert dict(resolved.provider.credentials) == SESSION == dict(again.provider.credentials)
    sts_calls = [r for r in fake_bedrock.requests("/") if r["status"] == 200]
    assert len(sts_calls) == 1  # cached: the second resolve did not call STS
    assert sts_calls[0]["body"] == {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": DEFAULT_STS_ROLE_ARN,
        "RoleSessionName": "open-model-gateway",
        "DurationSeconds": "3600",
    }
    request = ADAPTER.build_request(
        Endpoint.CHAT_COMPLETIONS, {"messages": [{"role": "user", "content": "hello world"}]}, resolved
    )
    response = send(request)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("credentials", "settings"),
    [
        ({**BASE, "secret_access_key": "wrong"}, {}),  # the signature does not verify
        (BASE, {"role_arn": "arn:aws:iam::123456789012:role/someone-else"}),  # not assumable
    ],
    ids=["bad-signature", "wrong-role"],
)
async def test_sts_refusal_is_a_hidden_authentication_error(
    fake_bedrock: FakeProcess, credentials: dict[str, str], settings: dict[str, str]
) -> None:
    resolver = CredentialResolver(async_send)
    role_target = target(
        fake_bedrock,
        "m",
        credentials=credentials,
        **{"role_arn": DEFAULT_STS_ROLE_ARN, "sts_endpoint": f"{fake_bedrock.root_url}/", **settings},
    )
    with pytest.raises(ProviderError) as raised:
        await resolver.resolve(role_target)
    error = raised.value
    assert (error.status, error.kind, error.retryable, error.code) == (
        502,
        ErrorKind.AUTHENTICATION,
        False,
        "upstream_authentication_failed",
    )
    assert "123456789012" not in error.message
    assert fake_bedrock.requests("/")[-1]["status"] == 403
