"""Every adapter's errors carry the `kind` and `retryable` routing decides on.

Bodies are each provider's real error wording for the two request faults a fallback alias can
cure (prompt too long, refused by a content filter), plus the status-driven kinds.
"""

from __future__ import annotations

import orjson
import pytest
from gateway_providers import ErrorKind, UnsupportedRequestError, get_adapter
from gateway_providers.errors import classify_request_error, rate_limit_reset_seconds


def _openai(message: str, code: str | None = None) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": "invalid_request_error", "code": code}})


def _anthropic(message: str, kind: str = "invalid_request_error") -> bytes:
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})


def _google(message: str, status: str = "INVALID_ARGUMENT") -> bytes:
    return orjson.dumps({"error": {"code": 400, "message": message, "status": status}})


CONTEXT_WINDOW = [
    (
        "openai",
        _openai("This model's maximum context length is 8192 tokens.", "context_length_exceeded"),
        {},
    ),
    ("openai_compatible", _openai("This model's maximum context length is 4096 tokens. However, ..."), {}),
    ("azure_openai", _openai("Too long", "context_length_exceeded"), {}),
    ("anthropic", _anthropic("prompt is too long: 210000 tokens > 200000 maximum"), {}),
    (
        "bedrock",
        b'{"message": "Input is too long for requested model."}',
        {"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/"},
    ),
    (
        "vertex_gemini",
        _google("The input token count (1048577) exceeds the maximum number of tokens allowed (1048576)."),
        {},
    ),
    (
        "huggingface_tei",
        b'{"error": "Input validation error: `inputs` must have less than 512 tokens. Given: 600",'
        b' "error_type": "Validation"}',
        {},
    ),
]


@pytest.mark.parametrize(("provider", "body", "headers"), CONTEXT_WINDOW, ids=[c[0] for c in CONTEXT_WINDOW])
def test_context_window_exceeded_is_its_own_kind(provider: str, body: bytes, headers: dict[str, str]) -> None:
    status = 422 if provider == "huggingface_tei" else 400
    error = get_adapter(provider).parse_error(status, headers, body)
    assert (error.kind, error.retryable) == (ErrorKind.CONTEXT_WINDOW_EXCEEDED, False)
    assert error.status == status


CONTENT_POLICY = [
    ("openai", _openai("Your request was rejected by our safety system.", "content_policy_violation")),
    (
        "azure_openai",
        orjson.dumps(
            {
                "error": {
                    "message": "The response was filtered due to the prompt triggering Azure OpenAI's "
                    "content management policy.",
                    "code": "content_filter",
                    "innererror": {"code": "ResponsibleAIPolicyViolation"},
                }
            }
        ),
    ),
    (
        "openai",
        _openai("Invalid prompt: your prompt was flagged as violating our usage policy.", "invalid_prompt"),
    ),
]


@pytest.mark.parametrize(("provider", "body"), CONTENT_POLICY)
def test_content_policy_is_its_own_kind(provider: str, body: bytes) -> None:
    error = get_adapter(provider).parse_error(400, {}, body)
    assert (error.kind, error.retryable, error.status) == (ErrorKind.CONTENT_POLICY, False, 400)


# provider -> upstream status -> (kind, retryable)
STATUS_KINDS = [
    (400, ErrorKind.INVALID_REQUEST, False),
    (401, ErrorKind.AUTHENTICATION, False),
    (403, ErrorKind.AUTHENTICATION, False),
    (404, ErrorKind.NOT_FOUND, False),
    (408, ErrorKind.TIMEOUT, True),
    (429, ErrorKind.RATE_LIMITED, True),
    (500, ErrorKind.SERVER_ERROR, True),
    (503, ErrorKind.OVERLOADED, True),
    (504, ErrorKind.TIMEOUT, True),
]
PROVIDERS = ["openai", "openai_compatible", "azure_openai", "anthropic", "vertex_gemini", "huggingface_tei"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("status", "kind", "retryable"), STATUS_KINDS)
def test_status_kinds(provider: str, status: int, kind: ErrorKind, retryable: bool) -> None:
    error = get_adapter(provider).parse_error(status, {"retry-after": "3"}, b"{}")
    assert (error.kind, error.retryable) == (kind, retryable)
    assert error.retry_after_s == 3.0


@pytest.mark.parametrize(
    ("exception", "kind", "retryable"),
    [
        ("ValidationException", ErrorKind.INVALID_REQUEST, False),
        ("AccessDeniedException", ErrorKind.AUTHENTICATION, False),
        ("ResourceNotFoundException", ErrorKind.NOT_FOUND, False),
        ("ThrottlingException", ErrorKind.RATE_LIMITED, True),
        ("ModelNotReadyException", ErrorKind.RATE_LIMITED, True),
        ("ModelTimeoutException", ErrorKind.TIMEOUT, True),
        ("InternalServerException", ErrorKind.SERVER_ERROR, True),
        ("ServiceUnavailableException", ErrorKind.OVERLOADED, True),
    ],
)
def test_bedrock_exception_kinds(exception: str, kind: ErrorKind, retryable: bool) -> None:
    error = get_adapter("bedrock").parse_error(400, {"x-amzn-ErrorType": exception}, b'{"message": "m"}')
    assert (error.kind, error.retryable) == (kind, retryable)


def test_anthropic_overloaded_529_is_a_retryable_overload() -> None:
    error = get_adapter("anthropic").parse_error(
        529, {"retry-after": "12"}, _anthropic("Overloaded", "overloaded_error")
    )
    assert (error.status, error.kind, error.retryable, error.retry_after_s) == (
        503,
        ErrorKind.OVERLOADED,
        True,
        12.0,
    )


def test_azure_retry_after_ms_header() -> None:
    error = get_adapter("azure_openai").parse_error(429, {"x-ms-retry-after-ms": "2500"}, b"{}")
    assert (error.kind, error.retry_after_s) == (ErrorKind.RATE_LIMITED, 2.5)


def test_vertex_retry_info_gives_the_back_off() -> None:
    body = orjson.dumps(
        {
            "error": {
                "code": 429,
                "message": "Resource exhausted",
                "status": "RESOURCE_EXHAUSTED",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "31s"}],
            }
        }
    )
    error = get_adapter("vertex_gemini").parse_error(429, {}, body)
    assert (error.kind, error.retryable, error.retry_after_s) == (ErrorKind.RATE_LIMITED, True, 31.0)
    # A Retry-After header wins over the body's hint.
    assert get_adapter("vertex_gemini").parse_error(429, {"retry-after": "2"}, body).retry_after_s == 2.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s"}, 360.0),
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1.5s"}, 1.5),
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20ms"}, 0.02),
        ({"x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "20ms"}, None),
        ({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "soon"}, None),
    ],
)
def test_openai_rate_limit_reset_headers(headers: dict[str, str], expected: float | None) -> None:
    error = get_adapter("openai").parse_error(429, headers, b"{}")
    if expected is None:
        assert rate_limit_reset_seconds(headers) is None
        assert error.retry_after_s is None
    else:
        assert rate_limit_reset_seconds(headers) == pytest.approx(expected)
        assert error.retry_after_s == pytest.approx(expected)


def test_unrelated_bad_request_is_not_classified() -> None:
    assert classify_request_error("invalid_value", "Invalid 'messages[0].role'") is None


def test_unsupported_request_has_its_kind() -> None:
    assert UnsupportedRequestError("no n").kind is ErrorKind.UNSUPPORTED
    assert not UnsupportedRequestError("no n").retryable
