"""The fake Anthropic upstream: the official SDK against it, its strictness, and the adapter."""

from __future__ import annotations

import anthropic
import httpx
import orjson
import pytest
from gateway_fakes import DEFAULT_ANTHROPIC_KEY, FakeProcess
from gateway_providers import DeploymentTarget, Endpoint, ProviderConfig, StreamEvent, Usage, get_adapter


def sdk(fake: FakeProcess, key: str = DEFAULT_ANTHROPIC_KEY) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=fake.root_url, api_key=key, max_retries=0)


def test_sdk_message_and_usage(fake_anthropic: FakeProcess) -> None:
    with sdk(fake_anthropic) as client:
        message = client.messages.create(
            model="claude-opus-4-6",
            max_tokens=100,
            system="be brief",
            messages=[{"role": "user", "content": "hello there"}],
            extra_headers={"x-fake-cached-tokens": "1", "x-fake-cache-write-tokens": "1"},
        )
    assert message.content[0].type == "text"
    assert message.content[0].text == "echo: hello there"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens) == (2, 1)
    assert message.usage.cache_creation_input_tokens == 1
    assert message.usage.output_tokens == 3
    recorded = fake_anthropic.requests("/v1/messages")[0]
    headers = {name.lower(): value for name, value in recorded["headers"]}  # type: ignore[union-attr]
    assert headers["authorization"] == f"Bearer {DEFAULT_ANTHROPIC_KEY}"  # the SDK 2.x way
    assert "anthropic-version" in headers


def test_sdk_stream_events(fake_anthropic: FakeProcess) -> None:
    with (
        sdk(fake_anthropic) as client,
        client.messages.stream(
            model="claude-opus-4-6", max_tokens=2, messages=[{"role": "user", "content": "one two three"}]
        ) as stream,
    ):
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[0] == "message_start"
    assert kinds[-1] == "message_stop"
    assert final.stop_reason == "max_tokens"
    assert "".join(b.text for b in final.content if b.type == "text") == "echo: one"


def test_wrong_key_is_rejected(fake_anthropic: FakeProcess) -> None:
    with sdk(fake_anthropic, "sk-ant-wrong") as client, pytest.raises(anthropic.AuthenticationError) as info:
        client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 401
    assert info.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
        "request_id": info.value.body["request_id"],  # type: ignore[index]
    }


def test_wrong_x_api_key_or_missing_version_is_refused(fake_anthropic: FakeProcess) -> None:
    url = f"{fake_anthropic.root_url}/v1/messages"
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    # A wrong x-api-key is refused even alongside the right bearer: x-api-key wins.
    headers = {"x-api-key": "nope", "authorization": f"Bearer {DEFAULT_ANTHROPIC_KEY}"}
    wrong = httpx.post(url, json=body, headers={**headers, "anthropic-version": "2023-06-01"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "authentication_error"
    no_version = httpx.post(url, json=body, headers={"x-api-key": DEFAULT_ANTHROPIC_KEY})
    assert no_version.status_code == 400
    assert no_version.json()["error"]["message"] == "anthropic-version: header is required"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "max_tokens: Field required"),
        ({"max_tokens": 5, "n": 1, "messages": [{"role": "user", "content": "x"}]}, "n: Extra inputs"),
        ({"max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}, "messages.0.role"),
        (
            {
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]}],
            },
            "unexpected `tool_use_id`",
        ),
    ],
)
def test_invalid_bodies_are_refused_like_the_real_api(
    fake_anthropic: FakeProcess, body: dict[str, object], message: str
) -> None:
    response = httpx.post(
        f"{fake_anthropic.root_url}/v1/messages",
        json={"model": "m", **body},
        headers={"x-api-key": DEFAULT_ANTHROPIC_KEY, "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert message in response.json()["error"]["message"]


@pytest.mark.parametrize(("status", "kind"), [(429, "rate_limit_error"), (529, "overloaded_error")])
def test_fault_status_uses_anthropic_error_shape(fake_anthropic: FakeProcess, status: int, kind: str) -> None:
    with sdk(fake_anthropic) as client, pytest.raises(anthropic.APIStatusError) as info:
        client.messages.create(
            model="m",
            max_tokens=5,
            messages=[{"role": "user", "content": "x"}],
            extra_headers={"x-fake-status": str(status), "x-fake-retry-after": "3"},
        )
    assert info.value.status_code == status
    assert info.value.body["error"]["type"] == kind  # type: ignore[index]


# --- the gateway's adapter against the fake -----------------------------------------------


def target(fake: FakeProcess, key: str = DEFAULT_ANTHROPIC_KEY) -> DeploymentTarget:
    return DeploymentTarget("claude-opus-4-6", ProviderConfig("anthropic", fake.base_url, {"api_key": key}))


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def call(fake: FakeProcess, body: dict[str, object]) -> httpx.Response:
    request = get_adapter("anthropic").build_request(Endpoint.CHAT_COMPLETIONS, body, target(fake))
    return httpx.request(request.method, request.url, headers=request.headers, content=request.body)


def test_adapter_tool_round_trip(fake_anthropic: FakeProcess) -> None:
    adapter = get_adapter("anthropic")
    messages: list[dict[str, object]] = [
        {"role": "system", "content": "you are a weather bot"},
        {"role": "user", "content": "Paris"},
    ]
    first = call(fake_anthropic, {"messages": messages, "tools": TOOLS, "tool_choice": "required"})
    assert first.status_code == 200, first.text
    completion = orjson.loads(
        adapter.parse_response(Endpoint.CHAT_COMPLETIONS, 200, first.headers, first.content).body
    )
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    tool_call = choice["message"]["tool_calls"][0]
    assert orjson.loads(tool_call["function"]["arguments"]) == {"city": "Paris"}
    messages += [choice["message"], {"role": "tool", "tool_call_id": tool_call["id"], "content": "sunny"}]
    second = call(fake_anthropic, {"messages": messages, "tools": TOOLS})
    assert second.status_code == 200, second.text
    parsed = adapter.parse_response(Endpoint.CHAT_COMPLETIONS, 200, second.headers, second.content)
    assert orjson.loads(parsed.body)["choices"][0]["message"]["content"] == "echo: sunny"
    assert parsed.usage is not None
    assert parsed.usage.prompt_tokens == 7  # words: system 5 + "Paris" + "sunny" (tool_use input not counted)


def test_adapter_stream_translation(fake_anthropic: FakeProcess) -> None:
    adapter = get_adapter("anthropic")
    request = adapter.build_request(
        Endpoint.CHAT_COMPLETIONS,
        {"messages": [{"role": "user", "content": "a b c"}], "stream": True},
        target(fake_anthropic),
    )
    request.headers.append(("x-fake-cached-tokens", "2"))
    raw = httpx.request(request.method, request.url, headers=request.headers, content=request.body).content
    parser = adapter.new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    events: list[StreamEvent] = []
    for start in range(0, len(raw), 13):
        events.extend(parser.feed(raw[start : start + 13]))
    assert parser.saw_done
    assert parser.usage == Usage(prompt_tokens=3, completion_tokens=4, cached_prompt_tokens=2)
    text = "".join(
        str(e.data["choices"][0]["delta"].get("content", ""))  # type: ignore[index]
        for e in events
        if isinstance(e.data, dict) and e.data["choices"]
    )
    assert text == "echo: a b c"


def test_adapter_wrong_key_maps_to_gateway_error(fake_anthropic: FakeProcess) -> None:
    adapter = get_adapter("anthropic")
    request = adapter.build_request(
        Endpoint.CHAT_COMPLETIONS,
        {"messages": [{"role": "user", "content": "x"}]},
        target(fake_anthropic, "bad"),
    )
    response = httpx.request(request.method, request.url, headers=request.headers, content=request.body)
    error = adapter.parse_error(response.status_code, response.headers, response.content)
    assert (response.status_code, error.status, error.code) == (401, 502, "upstream_authentication_failed")
    probe = adapter.probe_request(target(fake_anthropic))
    assert httpx.request(probe.method, probe.url, headers=probe.headers).json()["data"][0]["type"] == "model"
