"""Error mapping: every listed status, body variants, and Retry-After."""

from __future__ import annotations

import orjson
import pytest
from gateway_providers import get_adapter
from gateway_providers.errors import error_from_response, retry_after_seconds


def openai_error(message: str, type_: str, code: str | None = None, param: str | None = None) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type_, "param": param, "code": code}})


# upstream status -> (client status, type when the body is not JSON, retryable)
TABLE = [
    (400, 400, "invalid_request_error", False),
    (401, 502, "upstream_error", False),
    (403, 502, "upstream_error", False),
    (404, 404, "invalid_request_error", False),
    (408, 504, "timeout_error", True),
    (409, 409, "invalid_request_error", True),
    (413, 413, "invalid_request_error", False),
    (422, 422, "invalid_request_error", False),
    (429, 429, "rate_limit_error", True),
    (500, 502, "server_error", True),
    (502, 502, "server_error", True),
    (503, 503, "server_error", True),
    (504, 504, "timeout_error", True),
    (418, 418, "invalid_request_error", False),
    (507, 502, "server_error", True),
    (302, 502, "server_error", True),
]


@pytest.mark.parametrize(("upstream", "client", "default_type", "retryable"), TABLE)
def test_non_json_body_mapping(upstream: int, client: int, default_type: str, retryable: bool) -> None:
    error = get_adapter("openai").parse_error(upstream, {}, b"<html>Bad Gateway</html>")
    assert (error.status, error.type, error.retryable) == (client, default_type, retryable)
    assert str(upstream) in error.message
    assert "<html>" not in error.message
    body = orjson.loads(error.to_body())
    assert set(body["error"]) == {"message", "type", "param", "code"}


def test_openai_error_fields_are_kept() -> None:
    body = openai_error("Invalid 'messages'", "invalid_request_error", code="invalid_value", param="messages")
    error = get_adapter("openai").parse_error(400, {"content-type": "application/json"}, body)
    assert (error.status, error.message, error.type, error.code, error.param) == (
        400,
        "Invalid 'messages'",
        "invalid_request_error",
        "invalid_value",
        "messages",
    )
    assert not error.retryable


@pytest.mark.parametrize("status", [401, 403])
def test_credential_errors_hide_the_upstream_message(status: int) -> None:
    body = openai_error(
        "Incorrect API key provided: sk-proj-****abcd", "invalid_request_error", "invalid_api_key"
    )
    error = get_adapter("openai").parse_error(status, {}, body)
    assert "sk-proj" not in error.message
    assert "invalid_api_key" in error.message
    assert error.code == "upstream_authentication_failed"
    assert b"sk-proj" not in error.to_body()


def test_rate_limit_keeps_upstream_type_and_retry_after() -> None:
    body = openai_error("Rate limit reached", "requests", "rate_limit_exceeded")
    error = get_adapter("openai").parse_error(429, {"Retry-After": "2"}, body)
    assert (error.status, error.type, error.code, error.retry_after_s, error.retryable) == (
        429,
        "requests",
        "rate_limit_exceeded",
        2.0,
        True,
    )


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        (b'{"error": "model is loading"}', "model is loading", None),
        (b'{"object": "error", "message": "bad", "type": "BadRequestError", "code": 400}', "bad", "400"),
        (b'{"detail": "Not Found"}', "Not Found", None),
        (b"[1, 2]", "The upstream provider returned HTTP 400 without an error message.", None),
        (b"", "The upstream provider returned HTTP 400 without an error message.", None),
    ],
)
def test_body_variants(body: bytes, message: str, code: str | None) -> None:
    error = error_from_response(400, {}, body)
    assert (error.message, error.code) == (message, code)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-3"}, None),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers, now=1445412480.0) == expected


def test_header_case_is_ignored() -> None:
    error = error_from_response(503, {"Retry-After-Ms": "100"}, b"")
    assert error.retry_after_s == 0.1
