"""The fake Bedrock runtime: SigV4 verified for real, Converse JSON, ConverseStream binary frames."""

from __future__ import annotations

import json

import httpx
import pytest
from botocore.eventstream import EventStreamBuffer
from gateway_fakes import (
    DEFAULT_BEDROCK_ACCESS_KEY_ID,
    DEFAULT_BEDROCK_SECRET,
    DEFAULT_BEDROCK_SESSION_TOKEN,
    FakeProcess,
)
from gateway_fakes.bedrock.eventstream import encode_message
from gateway_providers import DeploymentTarget, Endpoint, ProviderConfig, UpstreamRequest, Usage, get_adapter

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
GOOD = {
    "access_key_id": DEFAULT_BEDROCK_ACCESS_KEY_ID,
    "secret_access_key": DEFAULT_BEDROCK_SECRET,
    "session_token": DEFAULT_BEDROCK_SESSION_TOKEN,
}
HELLO = {"messages": [{"role": "user", "content": "hello world"}]}


def target(fake: FakeProcess, credentials: dict[str, str] | None = None, **settings: str) -> DeploymentTarget:
    return DeploymentTarget(
        MODEL,
        ProviderConfig(
            "bedrock",
            fake.root_url,
            credentials=credentials or GOOD,
            settings={"region": "us-east-1", **settings},
        ),
    )


def send(request: UpstreamRequest) -> httpx.Response:
    return httpx.request(request.method, request.url, headers=request.headers, content=request.body)


def test_signed_converse_is_answered_and_recorded(fake_bedrock: FakeProcess) -> None:
    adapter = get_adapter("bedrock")
    request = adapter.build_request(Endpoint.CHAT_COMPLETIONS, HELLO, target(fake_bedrock))
    assert request.url == f"{fake_bedrock.root_url}/model/{MODEL}/converse"
    response = send(request)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["output"]["message"]["content"] == [{"text": "echo: hello world"}]
    assert body["stopReason"] == "end_turn"
    parsed = adapter.parse_response(Endpoint.CHAT_COMPLETIONS, 200, response.headers, response.content)
    assert parsed.usage == Usage(prompt_tokens=2, completion_tokens=3)
    completion = json.loads(parsed.body)
    assert completion["id"] == f"chatcmpl-{response.headers['x-amzn-requestid']}"
    record = fake_bedrock.requests()[-1]
    assert record["path"] == f"/model/{MODEL}/converse"
    assert record["body"] == {"messages": [{"role": "user", "content": [{"text": "hello world"}]}]}


@pytest.mark.parametrize(
    ("credentials", "exception"),
    [
        ({**GOOD, "secret_access_key": "wrong"}, "InvalidSignatureException"),
        ({**GOOD, "access_key_id": "AKIAUNKNOWN"}, "UnrecognizedClientException"),
        ({**GOOD, "session_token": "stale"}, "UnrecognizedClientException"),
    ],
)
def test_wrong_credentials_are_refused(
    fake_bedrock: FakeProcess, credentials: dict[str, str], exception: str
) -> None:
    request = get_adapter("bedrock").build_request(
        Endpoint.CHAT_COMPLETIONS, HELLO, target(fake_bedrock, credentials)
    )
    response = send(request)
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"].startswith(f"{exception}:")


def test_a_body_changed_after_signing_is_refused(fake_bedrock: FakeProcess) -> None:
    request = get_adapter("bedrock").build_request(Endpoint.CHAT_COMPLETIONS, HELLO, target(fake_bedrock))
    tampered = httpx.request(
        "POST",
        request.url,
        headers=request.headers,
        content=request.body.replace(b"hello", b"HELLO"),  # type: ignore[union-attr]
    )
    assert tampered.status_code == 403
    assert tampered.headers["x-amzn-errortype"].startswith("InvalidSignatureException:")
    wrong_region = send(
        get_adapter("bedrock").build_request(
            Endpoint.CHAT_COMPLETIONS, HELLO, target(fake_bedrock, region="eu-west-1")
        )
    )
    assert wrong_region.status_code == 403
    unsigned = httpx.post(f"{fake_bedrock.root_url}/model/m/converse", json=HELLO)
    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-errortype"].startswith("MissingAuthenticationTokenException:")


def test_converse_stream_speaks_binary_event_stream(fake_bedrock: FakeProcess) -> None:
    request = get_adapter("bedrock").build_request(
        Endpoint.CHAT_COMPLETIONS, {**HELLO, "stream": True}, target(fake_bedrock)
    )
    assert request.url.endswith("/converse-stream")
    response = send(request)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
    buffer = EventStreamBuffer()
    buffer.add_data(response.content)
    messages = list(buffer)  # botocore checks both CRCs of every frame
    kinds = [m.to_response_dict()["headers"][":event-type"] for m in messages]
    assert kinds == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    text = "".join(json.loads(m.payload)["delta"]["text"] for m in messages if b'"delta"' in m.payload)
    assert text == "echo: hello world"
    assert json.loads(messages[-1].payload)["usage"]["inputTokens"] == 2


def test_encoder_matches_botocore_decoder() -> None:
    frame = encode_message({":event-type": "x", "k": "é"}, b'{"a":1}')
    buffer = EventStreamBuffer()
    buffer.add_data(frame)
    (message,) = list(buffer)
    assert message.to_response_dict()["headers"] == {":event-type": "x", "k": "é"}
    assert message.payload == b'{"a":1}'


def test_faults_and_validation(fake_bedrock: FakeProcess) -> None:
    adapter = get_adapter("bedrock")
    throttled = send(
        adapter.build_request(
            Endpoint.CHAT_COMPLETIONS,
            HELLO,
            target(fake_bedrock, **{"header.x-fake-status": "429", "header.x-fake-retry-after": "3"}),
        )
    )
    assert throttled.status_code == 429
    assert throttled.headers["x-amzn-errortype"].startswith("ThrottlingException:")
    error = adapter.parse_error(429, throttled.headers, throttled.content)
    assert (error.status, error.type, error.code, error.retryable, error.retry_after_s) == (
        429,
        "rate_limit_error",
        "ThrottlingException",
        True,
        3.0,
    )
    # A conversation that does not start with a user turn is what the real API rejects.
    assistant_first = {"messages": [{"role": "assistant", "content": "hi"}, {"role": "user", "content": "x"}]}
    invalid = send(adapter.build_request(Endpoint.CHAT_COMPLETIONS, assistant_first, target(fake_bedrock)))
    assert invalid.status_code == 400
    assert invalid.headers["x-amzn-errortype"].startswith("ValidationException:")
    assert adapter.parse_error(400, invalid.headers, invalid.content).status == 400


def test_stream_error_fault_reaches_the_adapter_as_an_error_event(fake_bedrock: FakeProcess) -> None:
    adapter = get_adapter("bedrock")
    request = adapter.build_request(
        Endpoint.CHAT_COMPLETIONS,
        {**HELLO, "stream": True},
        target(fake_bedrock, **{"header.x-fake-stream-error": "1"}),
    )
    response = send(request)
    assert response.status_code == 200
    parser = adapter.new_stream_parser(Endpoint.CHAT_COMPLETIONS)
    events = parser.feed(response.content)
    assert events[-1].error is not None
    assert events[-1].error.code == "ThrottlingException"
    assert not parser.saw_done
