"""Auth and the `x-fake-*` fault headers."""

from __future__ import annotations

import time

import httpx
import openai
import pytest
from gateway_fakes import DEFAULT_API_KEY, FakeProcess

USER = [{"role": "user", "content": "hi"}]


def test_wrong_key_is_an_authentication_error(fake_openai: FakeProcess) -> None:
    sdk = openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-client-key-1234", max_retries=0)
    with sdk, pytest.raises(openai.AuthenticationError) as info:
        sdk.chat.completions.create(model="gpt-4o", messages=USER)
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"
    assert info.value.type == "invalid_request_error"
    assert "sk-c**********1234" in info.value.message
    record = fake_openai.requests()[0]
    assert record["status"] == 401


def test_missing_authorization_is_401(fake_openai: FakeProcess) -> None:
    response = httpx.post(f"{fake_openai.base_url}/chat/completions", json={"model": "m", "messages": USER})
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": response.json()["error"]["message"],
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }


def test_429_is_a_rate_limit_error_with_retry_after(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model="gpt-4o",
            messages=USER,
            extra_headers={"x-fake-status": "429", "x-fake-retry-after": "3"},
        )
    assert info.value.response.headers["retry-after"] == "3"
    assert info.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, openai.BadRequestError),
        (404, openai.NotFoundError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_status_fault(client: openai.OpenAI, status: int, error_type: type[openai.APIStatusError]) -> None:
    with pytest.raises(error_type) as info:
        client.embeddings.create(model="m", input="x", extra_headers={"x-fake-status": str(status)})
    assert info.value.status_code == status
    assert isinstance(info.value.body, dict)
    assert set(info.value.body) == {"message", "type", "param", "code"}


def test_status_fault_on_a_stream_fails_before_streaming(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model="gpt-4o",
            messages=USER,
            stream=True,
            extra_headers={"x-fake-status": "500"},
        )


def test_delay(client: openai.OpenAI) -> None:
    started = time.monotonic()
    client.models.list(extra_headers={"x-fake-delay-ms": "300"})
    assert time.monotonic() - started >= 0.3


def test_hang_until_the_client_gives_up(fake_openai: FakeProcess) -> None:
    with (
        openai.OpenAI(
            base_url=fake_openai.base_url, api_key=DEFAULT_API_KEY, max_retries=0, timeout=0.5
        ) as sdk,
        pytest.raises(openai.APITimeoutError),
    ):
        sdk.chat.completions.create(
            model="gpt-4o",
            messages=USER,
            extra_headers={"x-fake-hang": "1"},
        )
    record = _wait_closed(fake_openai)
    assert record["outcome"] == "disconnected"
    assert isinstance(record["closed_at"], float)
    assert isinstance(record["received_at"], float)
    assert 0.4 < record["closed_at"] - record["received_at"] < 5


def test_drop_after_aborts_mid_stream(client: openai.OpenAI, fake_openai: FakeProcess) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "one two three four five"}],
        stream=True,
        extra_headers={"x-fake-drop-after": "2"},
    )
    received = []
    with pytest.raises(openai.APIConnectionError) as info:
        received.extend(stream)
    assert "peer closed connection" in str(info.value.__cause__)
    assert len(received) == 2
    record = _wait_closed(fake_openai)
    assert (record["outcome"], record["events_sent"], record["stream"]) == ("dropped", 2, True)


def test_chunk_delay_paces_the_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        stream=True,
        extra_headers={"x-fake-chunk-delay-ms": "100", "x-fake-stream-chunks": "2"},
    )
    arrivals = [time.monotonic() for _ in stream]
    assert len(arrivals) == 4  # role, two content pieces, finish
    assert arrivals[-1] - arrivals[0] >= 0.25


def test_utf8_content_header(fake_openai: FakeProcess) -> None:
    response = httpx.post(
        f"{fake_openai.base_url}/chat/completions",
        json={"model": "gpt-4o", "messages": USER},
        headers={"authorization": f"Bearer {DEFAULT_API_KEY}", "x-fake-content": "héllo 👋".encode()},
    )
    assert response.json()["choices"][0]["message"]["content"] == "héllo 👋"


def _wait_closed(fake: FakeProcess) -> dict[str, object]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        record = fake.requests()[-1]
        if record["closed_at"] is not None:
            return record
        time.sleep(0.05)
    raise AssertionError("the fake never recorded the connection closing")
