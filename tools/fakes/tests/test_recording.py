"""The request log at /_fake/requests, over HTTP and in-process."""

from __future__ import annotations

import httpx
import openai
from gateway_fakes import DEFAULT_API_KEY, FakeProcess, Outcome, create_openai_fake, request_log
from starlette.testclient import TestClient


def test_log_records_headers_body_and_timing(client: openai.OpenAI, fake_openai: FakeProcess) -> None:
    client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"x-trace": "t-1"},
        extra_body={"x_unknown": {"kept": True}},
    )
    client.models.list()
    records = fake_openai.requests()
    assert [(r["method"], r["path"]) for r in records] == [
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
    ]
    chat = records[0]
    headers = {name.lower(): value for name, value in chat["headers"]}
    assert headers["authorization"] == f"Bearer {DEFAULT_API_KEY}"
    assert headers["x-trace"] == "t-1"
    assert chat["body"] == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "x_unknown": {"kept": True},
    }
    assert (chat["status"], chat["outcome"], chat["stream"]) == (200, "completed", False)
    assert isinstance(chat["received_at"], float)
    assert isinstance(chat["closed_at"], float)
    assert chat["closed_at"] >= chat["received_at"]
    assert records[1]["body"] is None
    assert [r["path"] for r in fake_openai.requests("/v1/models")] == ["/v1/models"]


def test_stream_close_is_recorded(client: openai.OpenAI, fake_openai: FakeProcess) -> None:
    list(
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "a b"}], stream=True
        )
    )
    record = fake_openai.requests()[0]
    assert record["stream"] is True
    assert record["outcome"] == "completed"
    assert record["events_sent"] == 6  # role, "echo: ", "a ", "b", finish, [DONE]


def test_delete_clears(client: openai.OpenAI, fake_openai: FakeProcess) -> None:
    client.models.list()
    assert len(fake_openai.requests()) == 1
    response = httpx.delete(f"{fake_openai.root_url}/_fake/requests")
    assert response.status_code == 204
    assert fake_openai.requests() == []


def test_unknown_route_is_an_openai_404(fake_openai: FakeProcess) -> None:
    response = httpx.post(
        f"{fake_openai.base_url}/nope", headers={"authorization": f"Bearer {DEFAULT_API_KEY}"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/nope)"


def test_in_process_app_and_log() -> None:
    app = create_openai_fake(api_key="k-in-process")
    with TestClient(app) as http:
        response = http.post(
            "/v1/chat/completions",
            headers={"authorization": "Bearer k-in-process"},
            json={"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True},
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.text.endswith("data: [DONE]\n\n")
        bad = http.post("/v1/embeddings", headers={"authorization": "Bearer other"}, json={})
        assert bad.status_code == 401
    records = request_log(app).records
    assert [record.status for record in records] == [200, 401]
    assert records[0].outcome is Outcome.COMPLETED
    assert records[0].header("Authorization") == "Bearer k-in-process"
