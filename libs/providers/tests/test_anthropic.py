"""Anthropic Messages: request translation, response translation and error mapping."""

from __future__ import annotations

import orjson
import pytest
from gateway_providers import (
    DeploymentTarget,
    Endpoint,
    ProviderConfig,
    ProviderConfigError,
    UnsupportedRequestError,
    Usage,
    get_adapter,
)

ADAPTER = get_adapter("anthropic")


def target(
    settings: dict[str, str] | None = None, credentials: dict[str, str] | None = None
) -> DeploymentTarget:
    config = ProviderConfig(
        "anthropic",
        "http://127.0.0.1:8091/v1/",
        {"api_key": "sk-ant-test"} if credentials is None else credentials,
        settings or {},
    )
    return DeploymentTarget("claude-opus-4-6", config)


def build(body: dict[str, object], **kwargs: dict[str, str]) -> dict[str, object]:
    request = ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, body, target(**kwargs))
    assert request.body is not None
    parsed: dict[str, object] = orjson.loads(request.body)
    return parsed


def test_url_and_auth_headers() -> None:
    request = ADAPTER.build_request(
        Endpoint.CHAT_COMPLETIONS,
        {"model": "x", "messages": [{"role": "user", "content": "hi"}]},
        target({"beta": "prompt-caching-2024-07-31", "header.X-Title": "gw", "header.x-api-key": "no"}),
    )
    assert request.method == "POST"
    assert request.url == "http://127.0.0.1:8091/v1/messages"
    assert request.headers == [
        ("X-Title", "gw"),
        ("x-api-key", "sk-ant-test"),
        ("anthropic-version", "2023-06-01"),
        ("anthropic-beta", "prompt-caching-2024-07-31"),
        ("Content-Type", "application/json"),
    ]
    assert request.header("authorization") is None


def test_missing_key_is_a_config_error() -> None:
    with pytest.raises(ProviderConfigError):
        ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, {"messages": []}, target(credentials={}))


def test_system_messages_max_tokens_stop_and_sampling() -> None:
    body = build(
        {
            "model": "alias",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "developer", "content": [{"type": "text", "text": "and kind"}]},
                {"role": "user", "content": "hi"},
            ],
            "stop": "END",
            "temperature": 1.7,
            "top_p": 0.9,
            "user": "u-1",
            "stream": True,
        }
    )
    assert body == {
        "model": "claude-opus-4-6",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "system": [{"type": "text", "text": "be brief"}, {"type": "text", "text": "and kind"}],
        "stop_sequences": ["END"],
        "temperature": 1.0,
        "top_p": 0.9,
        "stream": True,
        "metadata": {"user_id": "u-1"},
    }


def test_max_tokens_from_client_then_setting() -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert build({"messages": messages, "max_completion_tokens": 7, "max_tokens": 9})["max_tokens"] == 7
    assert build({"messages": messages, "max_tokens": 9})["max_tokens"] == 9
    assert build({"messages": messages}, settings={"max_tokens": "333"})["max_tokens"] == 333


def test_images_tools_and_tool_results_round_trip() -> None:
    body = build(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is this?"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}},
                        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                    ],
                },
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "toolu_1",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": '{"q": "cat"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "toolu_1", "content": "a cat"},
                {"role": "user", "content": "thanks"},
            ],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "lookup",
                        "description": "search",
                        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
                    },
                }
            ],
            "tool_choice": {"type": "function", "function": {"name": "lookup"}},
            "parallel_tool_calls": False,
        }
    )
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"},
                },
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            ],
        },
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "cat"}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a cat"},
                {"type": "text", "text": "thanks"},
            ],
        },
    ]
    assert body["tools"] == [
        {
            "name": "lookup",
            "description": "search",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "lookup", "disable_parallel_tool_use": True}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("auto", {"type": "auto"}), ("required", {"type": "any"}), ("none", {"type": "none"})],
)
def test_named_tool_choices(choice: str, expected: dict[str, object]) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    body = build({"messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": choice})
    assert body["tool_choice"] == expected


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "messages"),
    ],
)
def test_untranslatable_requests_are_refused(extra: dict[str, object], param: str) -> None:
    with pytest.raises(UnsupportedRequestError) as info:
        build({"messages": [{"role": "user", "content": "x"}], **extra})
    assert info.value.status == 400
    assert info.value.param == param


def test_other_endpoints_are_refused_and_probe_lists_models() -> None:
    with pytest.raises(UnsupportedRequestError):
        ADAPTER.build_request(Endpoint.EMBEDDINGS, {"input": "x"}, target())
    probe = ADAPTER.probe_request(target())
    assert (probe.method, probe.url, probe.header("x-api-key")) == (
        "GET",
        "http://127.0.0.1:8091/v1/models",
        "sk-ant-test",
    )


MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-opus-4-6",
    "content": [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {"q": "cat"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 3,
        "cache_read_input_tokens": 20,
    },
}


def test_response_becomes_a_chat_completion_with_usage() -> None:
    parsed = ADAPTER.parse_response(
        Endpoint.CHAT_COMPLETIONS, 200, {}, orjson.dumps(MESSAGE), model_alias="smart"
    )
    assert parsed.usage == Usage(
        prompt_tokens=33, completion_tokens=5, cached_prompt_tokens=20, cache_write_prompt_tokens=3
    )
    body = orjson.loads(parsed.body)
    assert body["object"] == "chat.completion"
    assert body["id"] == "msg_01"
    assert body["model"] == "smart"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me look."
    assert choice["message"]["tool_calls"] == [
        {"id": "toolu_9", "type": "function", "function": {"name": "lookup", "arguments": '{"q":"cat"}'}}
    ]
    assert body["usage"]["prompt_tokens"] == 33
    assert body["usage"]["total_tokens"] == 38
    assert body["usage"]["prompt_tokens_details"]["cached_tokens"] == 20


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("something_new", "stop"),
    ],
)
def test_finish_reason_mapping(stop_reason: str, finish_reason: str) -> None:
    message = {**MESSAGE, "content": [{"type": "text", "text": "x"}], "stop_reason": stop_reason}
    body = orjson.loads(
        ADAPTER.parse_response(Endpoint.CHAT_COMPLETIONS, 200, {}, orjson.dumps(message)).body
    )
    assert body["choices"][0]["finish_reason"] == finish_reason
    assert "tool_calls" not in body["choices"][0]["message"]


def anthropic_error(kind: str, message: str) -> bytes:
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})


@pytest.mark.parametrize(
    ("status", "kind", "client_status", "client_type", "retryable"),
    [
        (400, "invalid_request_error", 400, "invalid_request_error", False),
        (401, "authentication_error", 502, "upstream_error", False),
        (403, "permission_error", 502, "upstream_error", False),
        (404, "not_found_error", 404, "invalid_request_error", False),
        (413, "request_too_large", 413, "invalid_request_error", False),
        (429, "rate_limit_error", 429, "rate_limit_error", True),
        (500, "api_error", 502, "server_error", True),
        (529, "overloaded_error", 503, "server_error", True),
    ],
)
def test_error_mapping(status: int, kind: str, client_status: int, client_type: str, retryable: bool) -> None:
    error = ADAPTER.parse_error(status, {"retry-after": "4"}, anthropic_error(kind, "details sk-ant-leak"))
    assert (error.status, error.type, error.retryable) == (client_status, client_type, retryable)
    assert error.retry_after_s == 4.0
    if status in (401, 403):
        assert "sk-ant-leak" not in error.message
    else:
        assert error.message == "details sk-ant-leak"
        assert error.code == kind
