"""Azure OpenAI: deployment URLs, api-version, api-key or Entra ID token."""

from __future__ import annotations

import orjson
import pytest
from gateway_providers import (
    DeploymentTarget,
    Endpoint,
    ProviderConfig,
    ProviderConfigError,
    UnsupportedRequestError,
    get_adapter,
)

ADAPTER = get_adapter("azure_openai")


def target(
    credentials: dict[str, str] | None = None, settings: dict[str, str] | None = None
) -> DeploymentTarget:
    config = ProviderConfig(
        "azure_openai",
        "https://res.openai.azure.com/",
        {"api_key": "azure-key"} if credentials is None else credentials,
        settings or {},
    )
    return DeploymentTarget("gpt 4o/prod", config)


def test_chat_goes_to_the_deployment_with_api_version_and_api_key() -> None:
    body = {"model": "gpt 4o/prod", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    request = ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, body, target(settings={"header.api-key": "x"}))
    assert request.url == (
        "https://res.openai.azure.com/openai/deployments/gpt%204o%2Fprod/chat/completions?api-version=2024-10-21"
    )
    assert request.headers == [("api-key", "azure-key"), ("Content-Type", "application/json")]
    assert request.body is not None
    assert orjson.loads(request.body)["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [
        (Endpoint.EMBEDDINGS, "/embeddings"),
        (Endpoint.IMAGES_GENERATIONS, "/images/generations"),
        (Endpoint.AUDIO_SPEECH, "/audio/speech"),
    ],
)
def test_other_operations_and_api_version_setting(endpoint: Endpoint, path: str) -> None:
    request = ADAPTER.build_request(
        endpoint, {"input": "x"}, target(settings={"api_version": "2025-04-01-preview"})
    )
    assert request.url == (
        f"https://res.openai.azure.com/openai/deployments/gpt%204o%2Fprod{path}?api-version=2025-04-01-preview"
    )


def test_entra_id_token_is_a_bearer_and_a_credential_is_required() -> None:
    request = ADAPTER.build_request(
        Endpoint.EMBEDDINGS, {"input": "x"}, target({"azure_ad_token": "eyJ.tok"})
    )
    assert request.header("authorization") == "Bearer eyJ.tok"
    assert request.header("api-key") is None
    with pytest.raises(ProviderConfigError):
        ADAPTER.build_request(Endpoint.EMBEDDINGS, {"input": "x"}, target({}))


def test_moderations_refused_and_probe_lists_models() -> None:
    with pytest.raises(UnsupportedRequestError):
        ADAPTER.build_request(Endpoint.MODERATIONS, {"input": "x"}, target())
    probe = ADAPTER.probe_request(target())
    assert (probe.method, probe.url) == (
        "GET",
        "https://res.openai.azure.com/openai/models?api-version=2024-10-21",
    )


def test_azure_error_shape_is_understood() -> None:
    body = orjson.dumps({"error": {"code": "429", "message": "Requests have exceeded the rate limit."}})
    error = ADAPTER.parse_error(429, {"Retry-After": "12"}, body)
    assert (error.status, error.type, error.code, error.retryable, error.retry_after_s) == (
        429,
        "rate_limit_error",
        "429",
        True,
        12.0,
    )
