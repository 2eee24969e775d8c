"""Vertex AI Gemini: request/response/stream/error translation and per-model project/location."""

from __future__ import annotations

import orjson
import pytest
from gateway_providers import (
    DONE,
    DeploymentTarget,
    Endpoint,
    ProviderConfig,
    ProviderConfigError,
    Usage,
    get_adapter,
)

ADAPTER = get_adapter("vertex_gemini")
BASE = "https://europe-west4-aiplatform.googleapis.com"
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


def target(model: str = "gemini-2.0-flash", **settings: str) -> DeploymentTarget:
    return DeploymentTarget(
        model,
        ProviderConfig(
            "vertex_gemini",
            BASE,
            credentials={"access_token": "ya29.token"},
            settings={"project": "p1", "location": "europe-west4", **settings},
        ),
    )


def test_urls_auth_and_per_model_resource() -> None:
    hello = {"messages": [{"role": "user", "content": "hi"}]}
    sync = ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, hello, target())
    assert sync.url == (
        f"{BASE}/v1/projects/p1/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent"
    )
    assert sync.header("authorization") == "Bearer ya29.token"
    stream = ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, {**hello, "stream": True}, target())
    assert stream.url.endswith(":streamGenerateContent?alt=sse")
    other = "projects/p2/locations/us-east5/publishers/google/models/gemini-2.5-pro"
    per_model = ADAPTER.build_request(Endpoint.CHAT_COMPLETIONS, hello, target(other))
    assert per_model.url == f"{BASE}/v1/{other}:generateContent"
    with pytest.raises(ProviderConfigError):
        ADAPTER.build_request(
            Endpoint.CHAT_COMPLETIONS, hello, DeploymentTarget("m", ProviderConfig("vertex_gemini", BASE))
        )


def test_request_translation() -> None:
    request = ADAPTER.build_request(
        Endpoint.CHAT_COMPLETIONS,
        {
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "Paris?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            ],
            "tools": TOOLS,
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "max_tokens": 9,
            "stop": ["END"],
            "n": 2,
            "response_format": {"type": "json_object"},
        },
        target(),
    )
    assert request.body is not None
    assert orjson.loads(request.body) == {
        "systemInstruction": {"parts": [{"text": "be brief"}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Paris?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {}}}]},
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}}}],
            },
        ],
        "generationConfig": {
            "maxOutputTokens": 9,
            "stopSequences": ["END"],
            "candidateCount": 2,
            "responseMimeType": "application/json",
        },
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "description": "Weather",
                        "parameters": TOOLS[0]["function"]["parameters"],
                    }
                ]
            }
        ],  # type: ignore[index]
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
    }


def test_response_translation() -> None:
    response = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 10,
            "candidatesTokenCount": 4,
            "cachedContentTokenCount": 6,
            "thoughtsTokenCount": 2,
        },
        "modelVersion": "gemini-2.0-flash-001",
        "responseId": "r1",
    }
    parsed = ADAPTER.parse_response(Endpoint.CHAT_COMPLETIONS, 200, {}, orjson.dumps(response))
    assert parsed.usage == Usage(
        prompt_tokens=10, completion_tokens=6, cached_prompt_tokens=6, reasoning_tokens=2
    )
    completion = orjson.loads(parsed.body)
    assert completion["model"] == "gemini-2.0-flash-001"
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }


@pytest.mark.parametrize(
    ("reason", "finish"), [("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("STOP", "stop")]
)
def test_finish_reasons(reason: str, finish: str) -> None:
    body = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]}
    parsed = ADAPTER.parse_response(Endpoint.CHAT_COMPLETIONS, 200, {}, orjson.dumps(body))
    assert orjson.loads(parsed.body)["choices"][0]["finish_reason"] == finish


def test_stream_translation_with_crlf_events_split_anywhere() -> None:
    fragments = [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "echo: "}]}}], "modelVersion": "g"},
        {
            "candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 2},
        },
    ]
    raw = b"".join(b"data: " + orjson.dumps(f) + b"\r\n\r\n" for f in fragments)
    parser = ADAPTER.new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    events = [e for i in range(len(raw)) for e in parser.feed(raw[i : i + 1])]
    assert events[-1].data is DONE
    chunks = [e.data for e in events if isinstance(e.data, dict)]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"  # type: ignore[index]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])  # type: ignore[index,union-attr]
    assert text == "echo: hi"
    assert events[-2].is_usage_only
    assert parser.usage == Usage(prompt_tokens=1, completion_tokens=2)
    assert parser.saw_done


def test_stream_error_event() -> None:
    parser = ADAPTER.new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    events = parser.feed(
        b'data: {"error": {"code": 429, "message": "slow", "status": "RESOURCE_EXHAUSTED"}}\r\n\r\n'
    )
    assert events[0].error is not None
    assert events[0].error.message == "slow"
    assert not parser.saw_done


@pytest.mark.parametrize(
    ("status", "name", "client_status", "retryable"),
    [
        (400, "INVALID_ARGUMENT", 400, False),
        (401, "UNAUTHENTICATED", 502, False),
        (404, "NOT_FOUND", 404, False),
        (429, "RESOURCE_EXHAUSTED", 429, True),
        (503, "UNAVAILABLE", 503, True),
    ],
)
def test_errors(status: int, name: str, client_status: int, retryable: bool) -> None:
    body = orjson.dumps({"error": {"code": status, "message": "m", "status": name}})
    error = ADAPTER.parse_error(status, {}, body)
    assert (error.status, error.retryable) == (client_status, retryable)
    if status != 401:
        assert error.code == name
