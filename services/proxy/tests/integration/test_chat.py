"""Chat completions through the proxy with the official openai SDK: sync and streamed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import openai
import pytest

if TYPE_CHECKING:  # conftest is not importable at runtime under --import-mode=importlib
    from conftest import Harness


async def test_sync_completion_reaches_the_upstream_model_and_returns_its_body(running: Harness) -> None:
    key, record = await running.create_key()
    client = running.client(key)
    raw = await client.chat.completions.with_raw_response.create(
        model="demo",
        messages=[{"role": "user", "content": "hello there"}],
        extra_body={"brand_new_field": {"nested": [1, 2]}},
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "echo: hello there"
    assert completion.model == "gpt-4o-mini"  # the upstream's body, returned untouched
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    request_id = raw.headers["x-request-id"]
    assert len(request_id) == 32
    assert float(raw.headers["x-gateway-overhead-ms"]) >= 0

    (forwarded,) = running.fake.requests("/v1/chat/completions")
    body = forwarded["body"]
    assert isinstance(body, dict)
    assert body["model"] == "gpt-4o-mini"
    assert body["brand_new_field"] == {"nested": [1, 2]}
    assert body["messages"] == [{"role": "user", "content": "hello there"}]

    event, headers = await running.usage_event(request_id)
    assert headers["Nats-Msg-Id"] == request_id
    assert event.request_id == request_id
    assert (event.tenant_id, event.key_id, event.user_id) == (record.tenant_id, record.key_id, record.user_id)
    assert event.model == "demo"
    assert event.endpoint == "chat.completions"
    assert event.deployment_id == "dep-0"
    assert event.provider == "openai"
    assert event.provider_model == "gpt-4o-mini"
    assert event.status_code == 200
    assert not event.stream
    assert event.usage.prompt_tokens == completion.usage.prompt_tokens
    assert event.usage.completion_tokens == completion.usage.completion_tokens
    assert event.pricing == running.pricing
    assert event.pricing_revision == running.revision
    assert event.duration_us > 0
    assert event.proxy_instance == "proxy-test"
    assert event.started_at.seconds > 0
    assert event.finished_at.ToNanoseconds() >= event.started_at.ToNanoseconds()


async def test_client_credentials_and_internal_headers_never_reach_the_upstream(running: Harness) -> None:
    key, _ = await running.create_key()
    client = running.client(
        key,
        default_headers={
            "api-key": key,
            "x-api-key": key,
            "cookie": "session=abc",
            "x-gateway-internal": "1",
            "x-request-id": "client-req-1",
            # If client headers leaked, the fake would answer 500.
            "x-fake-status": "500",
        },
    )
    raw = await client.chat.completions.with_raw_response.create(
        model="demo", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-request-id"] == "client-req-1"
    (forwarded,) = running.fake.requests("/v1/chat/completions")
    headers = forwarded["headers"]
    assert isinstance(headers, list)
    names = {str(name).lower() for name, _ in headers}
    values = " ".join(str(value) for _, value in headers)
    assert dict((str(k).lower(), v) for k, v in headers)["authorization"] == f"Bearer {running.fake.api_key}"
    assert key not in values
    assert not names & {
        "api-key",
        "x-api-key",
        "cookie",
        "x-gateway-internal",
        "x-request-id",
        "x-fake-status",
    }


async def test_stream_without_include_usage_relays_chunks_and_strips_the_usage_chunk(
    running: Harness,
) -> None:
    key, _ = await running.create_key()
    client = running.client(key)
    raw = await client.chat.completions.with_raw_response.create(
        model="demo", messages=[{"role": "user", "content": "stream me please"}], stream=True
    )
    request_id = raw.headers["x-request-id"]
    assert raw.headers["content-type"].startswith("text/event-stream")
    chunks = [chunk async for chunk in raw.parse()]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: stream me please"
    assert all(c.choices for c in chunks), "the usage-only chunk must not reach a client that did not ask"
    assert all(c.usage is None for c in chunks)

    (forwarded,) = running.fake.requests("/v1/chat/completions")
    body = forwarded["body"]
    assert isinstance(body, dict)
    assert body["stream_options"] == {"include_usage": True}  # forced upstream

    event, _ = await running.usage_event(request_id)
    assert event.stream
    assert event.usage.prompt_tokens > 0
    assert event.usage.completion_tokens > 0
    assert not event.client_disconnected
    assert event.error_code == ""
    assert event.time_to_first_token_us > 0


async def test_stream_with_include_usage_ends_with_the_usage_chunk(running: Harness) -> None:
    key, _ = await running.create_key()
    client = running.client(key)
    raw = await client.chat.completions.with_raw_response.create(
        model="demo",
        messages=[{"role": "user", "content": "count my tokens"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in raw.parse()]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert event.usage.prompt_tokens == last.usage.prompt_tokens
    assert event.usage.completion_tokens == last.usage.completion_tokens


async def test_mid_stream_upstream_drop_becomes_an_sse_error_event(running: Harness) -> None:
    key, _ = await running.create_key()
    client = running.client(key)
    raw = await client.chat.completions.with_raw_response.create(
        model="demo-drop", messages=[{"role": "user", "content": "one two three four five"}], stream=True
    )
    received = []

    async def consume() -> None:
        async for chunk in raw.parse():
            received.append(chunk)

    with pytest.raises(openai.APIError) as raised:
        await consume()
    assert received, "the events sent before the drop were relayed"
    assert raised.value.code == "upstream_stream_interrupted"
    event, _ = await running.usage_event(raw.headers["x-request-id"])
    assert event.status_code == 200
    assert event.error_code == "upstream_stream_interrupted"


async def test_stream_idle_timeout_becomes_an_sse_error_event(running: Harness) -> None:
    # The upstream stalls after its first content: too late for failover, so the 200 stream
    # ends with an error event.
    key, _ = await running.create_key()
    client = running.client(key)
    stream = await client.chat.completions.create(
        model="demo-idle", messages=[{"role": "user", "content": "a b c"}], stream=True
    )
    with pytest.raises(openai.APIError) as raised:
        async for _ in stream:
            pass
    assert raised.value.code == "stream_idle_timeout"


async def test_stream_idle_before_its_first_content_is_a_504_not_a_broken_200(running: Harness) -> None:
    # Only the role chunk came before the stall: nothing reached the client, so the failure is
    # an ordinary error response (after failover found no other deployment).
    key, _ = await running.create_key()
    client = running.client(key)
    with pytest.raises(openai.APIStatusError) as raised:
        await client.chat.completions.create(
            model="demo-idle-early", messages=[{"role": "user", "content": "a b c"}], stream=True
        )
    assert raised.value.status_code == 504
    assert raised.value.code == "stream_idle_timeout"
