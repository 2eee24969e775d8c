"""OpenAI request building and response parsing."""

from __future__ import annotations

import orjson
import pytest
from gateway_providers import (
    DeploymentTarget,
    Endpoint,
    FilePart,
    ProviderConfig,
    ProviderConfigError,
    Usage,
    get_adapter,
)


def target(
    provider_type: str = "openai",
    credentials: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
    base_url: str = "http://127.0.0.1:8090/v1",
) -> DeploymentTarget:
    config = ProviderConfig(
        provider_type,
        base_url,
        {"api_key": "sk-upstream"} if credentials is None else credentials,
        settings or {},
    )
    return DeploymentTarget("gpt-4o-2024-08-06", config)


CHAT_BODY: dict[str, object] = {
    "model": "gpt-4o-2024-08-06",
    "messages": [{"role": "user", "content": "hi"}],
    "temperature": 0.2,
    "x_future_field": {"nested": [1, 2, None]},
    "metadata": {"trace": "abc"},
}


def test_chat_request_forwards_unknown_fields_and_only_the_provider_credential() -> None:
    request = get_adapter("openai").build_request(Endpoint.CHAT_COMPLETIONS, CHAT_BODY, target())
    assert request.method == "POST"
    assert request.url == "http://127.0.0.1:8090/v1/chat/completions"
    assert request.body is not None
    assert orjson.loads(request.body) == CHAT_BODY
    assert request.headers == [
        ("Authorization", "Bearer sk-upstream"),
        ("Content-Type", "application/json"),
    ]


def test_account_and_extra_headers() -> None:
    settings = {
        "organization": "org-1",
        "project": "proj-1",
        "header.X-Title": "gateway",
        "header.Authorization": "Bearer sk-override",
        "header.content-length": "1",
        "unrelated": "ignored",
    }
    request = get_adapter("openai").build_request(
        Endpoint.EMBEDDINGS, {"input": "x"}, target(settings=settings)
    )
    assert request.headers == [
        ("X-Title", "gateway"),
        ("Authorization", "Bearer sk-upstream"),
        ("OpenAI-Organization", "org-1"),
        ("OpenAI-Project", "proj-1"),
        ("Content-Type", "application/json"),
    ]
    assert request.header("authorization") == "Bearer sk-upstream"


def test_compatible_sends_no_account_headers_and_key_is_optional() -> None:
    adapter = get_adapter("openai_compatible")
    settings = {"organization": "org-1", "project": "proj-1", "header.HTTP-Referer": "https://gw"}
    request = adapter.build_request(
        Endpoint.CHAT_COMPLETIONS,
        CHAT_BODY,
        target("openai_compatible", settings=settings, base_url="http://vllm:8000/v1/"),
    )
    assert request.url == "http://vllm:8000/v1/chat/completions"
    assert request.headers == [
        ("HTTP-Referer", "https://gw"),
        ("Authorization", "Bearer sk-upstream"),
        ("Content-Type", "application/json"),
    ]
    keyless = adapter.build_request(Endpoint.CHAT_COMPLETIONS, CHAT_BODY, target("openai_compatible", {}))
    assert keyless.header("authorization") is None


def test_openai_requires_a_key_and_never_uses_other_credentials() -> None:
    with pytest.raises(ProviderConfigError):
        get_adapter("openai").build_request(
            Endpoint.CHAT_COMPLETIONS, CHAT_BODY, target(credentials={"secret": "s"})
        )
    request = get_adapter("openai").build_request(
        Endpoint.CHAT_COMPLETIONS, CHAT_BODY, target(credentials={"api_key": "k", "other": "leak"})
    )
    assert all("leak" not in value for _, value in request.headers)


def test_stream_requests_ask_for_usage_and_keep_other_stream_options() -> None:
    body = {**CHAT_BODY, "stream": True, "stream_options": {"include_obfuscation": False}}
    request = get_adapter("openai").build_request(Endpoint.CHAT_COMPLETIONS, body, target())
    assert request.body is not None
    sent = orjson.loads(request.body)
    assert sent["stream_options"] == {"include_obfuscation": False, "include_usage": True}
    assert body["stream_options"] == {"include_obfuscation": False}  # caller's dict untouched


def test_stream_usage_can_be_disabled_and_non_streams_are_left_alone() -> None:
    adapter = get_adapter("openai_compatible")
    off = target("openai_compatible", settings={"stream_usage": "false"})
    request = adapter.build_request(Endpoint.CHAT_COMPLETIONS, {**CHAT_BODY, "stream": True}, off)
    assert request.body is not None
    assert "stream_options" not in orjson.loads(request.body)
    plain = adapter.build_request(Endpoint.CHAT_COMPLETIONS, CHAT_BODY, target("openai_compatible"))
    assert plain.body is not None
    assert "stream_options" not in orjson.loads(plain.body)


@pytest.mark.parametrize(
    ("endpoint", "method", "path"),
    [
        (Endpoint.CHAT_COMPLETIONS, "POST", "/chat/completions"),
        (Endpoint.COMPLETIONS, "POST", "/completions"),
        (Endpoint.EMBEDDINGS, "POST", "/embeddings"),
        (Endpoint.IMAGES_GENERATIONS, "POST", "/images/generations"),
        (Endpoint.AUDIO_SPEECH, "POST", "/audio/speech"),
        (Endpoint.AUDIO_TRANSCRIPTIONS, "POST", "/audio/transcriptions"),
        (Endpoint.MODERATIONS, "POST", "/moderations"),
        (Endpoint.MODELS, "GET", "/models"),
    ],
)
def test_every_endpoint_has_a_route(endpoint: Endpoint, method: str, path: str) -> None:
    request = get_adapter("openai").build_request(endpoint, {"model": "m"}, target())
    assert (request.method, request.url) == (method, "http://127.0.0.1:8090/v1" + path)


def test_transcription_is_multipart() -> None:
    body: dict[str, object] = {
        "model": "whisper-1",
        "file": FilePart("a.wav", "audio/wav", b"RIFF\x00\x01"),
        "temperature": 0.5,
        "timestamp_granularities[]": ["word", "segment"],
        "language": None,
    }
    request = get_adapter("openai").build_request(Endpoint.AUDIO_TRANSCRIPTIONS, body, target())
    content_type = request.header("content-type")
    assert content_type is not None
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=")[1].encode()
    assert request.body is not None
    parts = request.body.split(b"--" + boundary)
    assert parts[0] == b""
    assert parts[-1] == b"--\r\n"
    assert b'name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF\x00\x01\r\n' in parts[2]
    assert parts[3].endswith(b'name="temperature"\r\n\r\n0.5\r\n')
    assert [p.rsplit(b"\r\n\r\n", 1)[1] for p in parts[4:6]] == [b"word\r\n", b"segment\r\n"]
    assert len(parts) == 7  # None fields are omitted


def test_probe_is_get_models_with_credentials() -> None:
    request = get_adapter("openai").probe_request(target(settings={"organization": "org-1"}))
    assert (request.method, request.url, request.body) == ("GET", "http://127.0.0.1:8090/v1/models", None)
    assert request.headers == [("Authorization", "Bearer sk-upstream"), ("OpenAI-Organization", "org-1")]


COMPLETION = (
    b'{"id": "chatcmpl-1",  "object": "chat.completion", "model": "gpt-4o-2024-08-06",\n'
    b' "choices": [{"index": 0, "message": {"role": "assistant", "content": "h\xc3\xa9"}}],\n'
    b' "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11,'
    b' "prompt_tokens_details": {"cached_tokens": 8}, "completion_tokens_details": {"reasoning_tokens": 1}}}'
)


def test_response_passes_through_byte_for_byte() -> None:
    parsed = get_adapter("openai").parse_response(Endpoint.CHAT_COMPLETIONS, 200, {}, COMPLETION)
    assert parsed.body is COMPLETION
    assert parsed.usage == Usage(9, 2, 8, 1)


def test_response_model_alias_rewrite() -> None:
    parsed = get_adapter("openai").parse_response(
        Endpoint.CHAT_COMPLETIONS, 200, {}, COMPLETION, model_alias="smart"
    )
    body = orjson.loads(parsed.body)
    assert body["model"] == "smart"
    assert body["choices"][0]["message"]["content"] == "hé"
    assert parsed.usage == Usage(9, 2, 8, 1)


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        (Endpoint.AUDIO_SPEECH, b"{binary-looking}"),
        (Endpoint.AUDIO_TRANSCRIPTIONS, b"plain text transcript"),
        (Endpoint.CHAT_COMPLETIONS, b"{not json"),
        (Endpoint.EMBEDDINGS, b"[]"),
    ],
)
def test_non_json_bodies_pass_through_without_usage(endpoint: Endpoint, body: bytes) -> None:
    parsed = get_adapter("openai").parse_response(endpoint, 200, {}, body, model_alias="alias")
    assert (parsed.body, parsed.usage) == (body, None)
