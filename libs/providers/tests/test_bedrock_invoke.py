"""Bedrock InvokeModel request bodies and response mapping (Titan embeddings, Titan/Stability images)."""

from __future__ import annotations

import orjson
import pytest
from gateway_providers import (
    DeploymentTarget,
    Endpoint,
    ErrorKind,
    ProviderConfig,
    ProviderError,
    UnsupportedRequestError,
    Usage,
    get_adapter,
)

ADAPTER = get_adapter("bedrock")
KEYS = {"access_key_id": "AKIA", "secret_access_key": "s"}


def target(model: str) -> DeploymentTarget:
    return DeploymentTarget(model, ProviderConfig("bedrock", "https://rt", KEYS, {"region": "us-east-1"}))


def body_of(endpoint: Endpoint, request: dict[str, object], model: str) -> object:
    built = ADAPTER.build_request(endpoint, request, target(model))
    assert built.url == f"https://rt/model/{model}/invoke"
    assert built.body is not None
    return orjson.loads(built.body)


def test_titan_embedding_body() -> None:
    assert body_of(Endpoint.EMBEDDINGS, {"input": ["hi"]}, "amazon.titan-embed-text-v2:0") == {
        "inputText": "hi"
    }
    assert body_of(
        Endpoint.EMBEDDINGS, {"input": "hi", "dimensions": 512}, "us.amazon.titan-embed-text-v2:0"
    ) == {
        "inputText": "hi",
        "dimensions": 512,
    }


@pytest.mark.parametrize(
    ("endpoint", "request_body", "model", "param"),
    [
        (Endpoint.EMBEDDINGS, {"input": ["a", "b"]}, "amazon.titan-embed-text-v2:0", "input"),
        (Endpoint.EMBEDDINGS, {"input": [1, 2]}, "amazon.titan-embed-text-v2:0", "input"),
        (Endpoint.IMAGES_GENERATIONS, {"prompt": "x", "n": 2}, "stability.sd3-large-v1:0", "n"),
        (
            Endpoint.IMAGES_GENERATIONS,
            {"prompt": "x", "response_format": "url"},
            "amazon.titan-image-generator-v2:0",
            "response_format",
        ),
        (
            Endpoint.IMAGES_GENERATIONS,
            {"prompt": "x", "size": "big"},
            "amazon.titan-image-generator-v2:0",
            "size",
        ),
        (Endpoint.EMBEDDINGS, {"input": "x"}, "anthropic.claude-3-5-haiku-20241022-v1:0", None),
        (Endpoint.AUDIO_SPEECH, {"input": "x"}, "amazon.titan-embed-text-v2:0", None),
    ],
)
def test_what_the_model_cannot_do_is_a_400(
    endpoint: Endpoint, request_body: dict[str, object], model: str, param: str | None
) -> None:
    with pytest.raises(UnsupportedRequestError) as raised:
        ADAPTER.build_request(endpoint, request_body, target(model))
    assert raised.value.param == param


def test_image_bodies() -> None:
    titan = body_of(
        Endpoint.IMAGES_GENERATIONS,
        {"prompt": "fox", "n": 2, "size": "512x512", "quality": "hd"},
        "amazon.nova-canvas-v1:0",
    )
    assert titan == {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "fox"},
        "imageGenerationConfig": {"numberOfImages": 2, "width": 512, "height": 512, "quality": "premium"},
    }
    stability = body_of(
        Endpoint.IMAGES_GENERATIONS,
        {"prompt": "fox", "size": "1024x1792"},
        "stability.stable-image-ultra-v1:1",
    )
    assert stability == {
        "prompt": "fox",
        "mode": "text-to-image",
        "aspect_ratio": "9:16",
        "output_format": "png",
    }


def test_responses() -> None:
    embedded = ADAPTER.parse_response(
        Endpoint.EMBEDDINGS, 200, {}, b'{"embedding": [0.5, 0.25], "inputTextTokenCount": 4}', model_alias="e"
    )
    assert orjson.loads(embedded.body)["data"] == [
        {"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}
    ]
    assert embedded.usage == Usage(prompt_tokens=4)
    images = ADAPTER.parse_response(
        Endpoint.IMAGES_GENERATIONS, 200, {}, b'{"images": ["QUJD", "REVG"], "error": null}'
    )
    assert orjson.loads(images.body)["data"] == [{"b64_json": "QUJD"}, {"b64_json": "REVG"}]
    with pytest.raises(ProviderError) as raised:
        ADAPTER.parse_response(
            Endpoint.IMAGES_GENERATIONS, 200, {}, b'{"finish_reasons": ["Filter reason: prompt"]}'
        )
    assert (raised.value.status, raised.value.kind, raised.value.code) == (
        400,
        ErrorKind.CONTENT_POLICY,
        "content_policy_violation",
    )


def test_embedding_model_probe_is_an_embedding() -> None:
    probe = ADAPTER.probe_request(target("amazon.titan-embed-text-v2:0"))
    assert probe.url.endswith("/invoke")
    assert ADAPTER.probe_request(target("meta.llama3-8b-instruct-v1:0")).url.endswith("/converse")
