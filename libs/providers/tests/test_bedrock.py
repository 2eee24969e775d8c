"""Bedrock Converse: SigV4 signing, request/response translation, error mapping."""

from __future__ import annotations

import re

import orjson
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from gateway_providers import (
    DeploymentTarget,
    Endpoint,
    ProviderConfig,
    ProviderConfigError,
    UnsupportedRequestError,
    Usage,
    get_adapter,
)

MODEL = "meta.llama3-1-70b-instruct-v1:0"
CREDENTIALS = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "secret", "session_token": "tok"}
BASE = "https://bedrock-runtime.us-west-2.amazonaws.com"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def target(credentials: dict[str, str] | None = None, **settings: str) -> DeploymentTarget:
    return DeploymentTarget(
        MODEL,
        ProviderConfig(
            "bedrock",
            BASE,
            credentials=CREDENTIALS if credentials is None else credentials,
            settings={"region": "us-west-2", **settings},
        ),
    )


def build(body: dict[str, object], **settings: str) -> tuple[str, dict[str, object], dict[str, str]]:
    request = get_adapter("bedrock").build_request(Endpoint.CHAT_COMPLETIONS, body, target(**settings))
    assert request.body is not None
    return request.url, orjson.loads(request.body), {k.lower(): v for k, v in request.headers}


def test_request_is_sigv4_signed_with_botocore_and_verifies() -> None:
    url, _, headers = build({"messages": [{"role": "user", "content": "hi"}]}, **{"header.X-Trace": "t1"})
    assert url == f"{BASE}/model/meta.llama3-1-70b-instruct-v1:0/converse"
    assert headers["x-amz-security-token"] == "tok"
    match = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/(\d{8})/us-west-2/bedrock/aws4_request, "
        r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
        headers["authorization"],
    )
    assert match is not None
    assert match[1] == headers["x-amz-date"][:8]
    signed = match[2].split(";")
    assert {"host", "content-type", "x-amz-date", "x-amz-security-token", "x-trace"} <= set(signed)
    # Recompute independently: the same signature comes out only with the same secret and body.
    request = get_adapter("bedrock").build_request(
        Endpoint.CHAT_COMPLETIONS, {"messages": [{"role": "user", "content": "hi"}]}, target()
    )
    sent = {k.lower(): v for k, v in request.headers}
    signed = re.search(r"SignedHeaders=([^,]+)", sent["authorization"])[1].split(";")  # type: ignore[index]

    def recompute(secret: str, body: bytes | None) -> str:
        rebuilt = AWSRequest(
            method="POST", url=request.url, data=body, headers={h: sent[h] for h in signed if h in sent}
        )
        rebuilt.context["timestamp"] = sent["x-amz-date"]
        auth = SigV4Auth(Credentials("AKIDEXAMPLE", secret, "tok"), "bedrock", "us-west-2")
        return auth.signature(auth.string_to_sign(rebuilt, auth.canonical_request(rebuilt)), rebuilt)

    signature = sent["authorization"].rsplit("Signature=", 1)[1]
    assert recompute("secret", request.body) == signature
    assert recompute("other", request.body) != signature
    assert recompute("secret", b"{}") != signature


def test_stream_goes_to_converse_stream_and_accepts_event_stream() -> None:
    url, body, headers = build({"messages": [{"role": "user", "content": "hi"}], "stream": True})
    assert url.endswith("/converse-stream")
    assert headers["accept"] == "application/vnd.amazon.eventstream"
    assert "stream" not in body


def test_conversation_tools_and_inference_config() -> None:
    _, body, _ = build(
        {
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "Paris?"}]},
                {"role": "user", "content": "and"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            ],
            "tools": TOOLS,
            "tool_choice": "required",
            "max_tokens": 50,
            "temperature": 0.5,
            "top_p": 0.9,
            "stop": "END",
        }
    )
    assert body == {
        "system": [{"text": "be brief"}],
        "messages": [
            {"role": "user", "content": [{"text": "Paris?"}, {"text": "and"}]},
            {
                "role": "assistant",
                "content": [
                    {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "toolResult": {
                            "toolUseId": "call_1",
                            "content": [{"text": "sunny"}],
                            "status": "success",
                        }
                    }
                ],
            },
        ],
        "inferenceConfig": {"maxTokens": 50, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]},
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_weather",
                        "description": "Weather",
                        "inputSchema": {"json": TOOLS[0]["function"]["parameters"]},  # type: ignore[index]
                    }
                }
            ],
            "toolChoice": {"any": {}},
        },
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"auto": {}}),
        ({"type": "function", "function": {"name": "get_weather"}}, {"tool": {"name": "get_weather"}}),
    ],
)
def test_tool_choice_mapping(choice: object, expected: dict[str, object]) -> None:
    _, body, _ = build(
        {"messages": [{"role": "user", "content": "x"}], "tools": TOOLS, "tool_choice": choice}
    )
    assert body["toolConfig"]["toolChoice"] == expected  # type: ignore[index]


def test_tool_choice_none_drops_tools_without_tool_history() -> None:
    _, body, _ = build(
        {"messages": [{"role": "user", "content": "x"}], "tools": TOOLS, "tool_choice": "none"}
    )
    assert "toolConfig" not in body


def test_data_url_images_become_image_blocks() -> None:
    _, body, _ = build(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what?"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                    ],
                }
            ]
        }
    )
    assert body["messages"][0]["content"][1] == {  # type: ignore[index]
        "image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"n": 2}, "n"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
                    }
                ]
            },
            "messages",
        ),
    ],
)
def test_unsupported_requests_are_refused(body: dict[str, object], param: str) -> None:
    with pytest.raises(UnsupportedRequestError) as info:
        build({"messages": [{"role": "user", "content": "x"}], **body})
    assert info.value.param == param


@pytest.mark.parametrize(
    ("credentials", "settings"),
    [({"access_key_id": "A"}, {"region": "us-east-1"}), (CREDENTIALS, {"region": ""})],
)
def test_missing_credentials_or_region_is_a_config_error(
    credentials: dict[str, str], settings: dict[str, str]
) -> None:
    with pytest.raises(ProviderConfigError):
        get_adapter("bedrock").build_request(
            Endpoint.CHAT_COMPLETIONS,
            {"messages": [{"role": "user", "content": "x"}]},
            DeploymentTarget(
                MODEL, ProviderConfig("bedrock", BASE, credentials=credentials, settings=settings)
            ),
        )


def test_static_keys_without_session_token_sign_too() -> None:
    request = get_adapter("bedrock").build_request(
        Endpoint.CHAT_COMPLETIONS,
        {"messages": [{"role": "user", "content": "x"}]},
        target({"access_key_id": "AKID", "secret_access_key": "s"}),
    )
    assert request.header("x-amz-security-token") is None
    assert (request.header("authorization") or "").startswith("AWS4-HMAC-SHA256 Credential=AKID/")


def test_response_translation_with_tools_usage_and_cache() -> None:
    converse = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"text": "Let me check."},
                    {
                        "toolUse": {
                            "toolUseId": "tooluse_1",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        }
                    },
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {
            "inputTokens": 3,
            "outputTokens": 5,
            "totalTokens": 12,
            "cacheReadInputTokens": 2,
            "cacheWriteInputTokens": 2,
        },
    }
    parsed = get_adapter("bedrock").parse_response(
        Endpoint.CHAT_COMPLETIONS,
        200,
        {"x-amzn-RequestId": "abc"},
        orjson.dumps(converse),
        model_alias="llama",
    )
    assert parsed.usage == Usage(
        prompt_tokens=7, completion_tokens=5, cached_prompt_tokens=2, cache_write_prompt_tokens=2
    )
    completion = orjson.loads(parsed.body)
    assert completion["id"] == "chatcmpl-abc"
    assert completion["model"] == "llama"
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me check."
    assert choice["message"]["tool_calls"] == [
        {
            "id": "tooluse_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }
    ]
    assert completion["usage"]["prompt_tokens_details"]["cached_tokens"] == 2


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
    ],
)
def test_stop_reasons(stop: str, finish: str) -> None:
    body = {"output": {"message": {"role": "assistant", "content": [{"text": "x"}]}}, "stopReason": stop}
    parsed = get_adapter("bedrock").parse_response(Endpoint.CHAT_COMPLETIONS, 200, {}, orjson.dumps(body))
    assert orjson.loads(parsed.body)["choices"][0]["finish_reason"] == finish


@pytest.mark.parametrize(
    ("status", "exception", "client_status", "error_type", "retryable"),
    [
        (400, "ValidationException", 400, "invalid_request_error", False),
        (403, "AccessDeniedException", 502, "upstream_error", False),
        (403, "InvalidSignatureException", 502, "upstream_error", False),
        (404, "ResourceNotFoundException", 404, "invalid_request_error", False),
        (408, "ModelTimeoutException", 504, "timeout_error", True),
        (429, "ThrottlingException", 429, "rate_limit_error", True),
        (424, "ModelErrorException", 502, "server_error", True),
        (500, "InternalServerException", 502, "server_error", True),
        (503, "ServiceUnavailableException", 503, "server_error", True),
    ],
)
def test_error_mapping(
    status: int, exception: str, client_status: int, error_type: str, retryable: bool
) -> None:
    error = get_adapter("bedrock").parse_error(
        status,
        {"x-amzn-ErrorType": f"{exception}:http://internal.amazon.com/coral/com.amazon.bedrock/"},
        b'{"message": "details"}',
    )
    assert (error.status, error.type, error.retryable) == (client_status, error_type, retryable)
    # A refused credential's details are hidden (they can name the account).
    assert error.code == ("upstream_authentication_failed" if status == 403 else exception)


def test_error_type_from_body_when_the_header_is_missing() -> None:
    error = get_adapter("bedrock").parse_error(
        400, {}, b'{"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"}'
    )
    assert (error.status, error.code, error.message) == (400, "ValidationException", "bad")


def test_inference_profile_arn_keeps_its_slash_encoded() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-1-8b-instruct-v1:0"
    request = get_adapter("bedrock").build_request(
        Endpoint.CHAT_COMPLETIONS,
        {"messages": [{"role": "user", "content": "x"}]},
        DeploymentTarget(arn, target().provider),
    )
    assert request.url == (
        f"{BASE}/model/arn:aws:bedrock:us-east-1:123456789012:inference-profile%2F"
        "us.meta.llama3-1-8b-instruct-v1:0/converse"
    )
