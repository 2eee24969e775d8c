"""Every error renders as OpenAI's error JSON with the right status."""

from __future__ import annotations

import orjson
import pytest
from gateway_providers import ProviderError
from gateway_proxy.errors import (
    AuthenticationFailed,
    GatewayError,
    InvalidRequest,
    PayloadTooLarge,
    PermissionDenied,
    ServiceUnavailable,
    UpstreamFailed,
    UpstreamTimeout,
    model_not_found,
    sse_error_event,
)


def rendered(error: GatewayError) -> tuple[int, dict[str, object], dict[str, str]]:
    response = error.response()
    return response.status_code, orjson.loads(response.body), dict(response.headers)


@pytest.mark.parametrize(
    ("error", "status", "type_", "code"),
    [
        (
            InvalidRequest("bad", param="messages", code="invalid_type"),
            400,
            "invalid_request_error",
            "invalid_type",
        ),
        (AuthenticationFailed("no"), 401, "invalid_request_error", "invalid_api_key"),
        (PermissionDenied("no", code="tenant_suspended"), 403, "permission_error", "tenant_suspended"),
        (model_not_found("gpt-x"), 404, "invalid_request_error", "model_not_found"),
        (PayloadTooLarge("big"), 413, "invalid_request_error", "request_too_large"),
        (UpstreamTimeout("slow"), 504, "timeout_error", "upstream_timeout"),
        (ServiceUnavailable("wait", code="no_config"), 503, "service_unavailable", "no_config"),
        (GatewayError("boom"), 500, "server_error", "internal_error"),
    ],
)
def test_status_and_shape(error: GatewayError, status: int, type_: str, code: str) -> None:
    got_status, body, headers = rendered(error)
    assert got_status == status
    assert set(body) == {"error"}
    fields = body["error"]
    assert isinstance(fields, dict)
    assert set(fields) == {"message", "type", "param", "code"}
    assert fields["type"] == type_
    assert fields["code"] == code
    assert headers["content-type"] == "application/json"


def test_param_is_carried() -> None:
    _, body, _ = rendered(InvalidRequest("bad", param="stream"))
    assert body["error"]["param"] == "stream"  # type: ignore[index]


def test_model_not_found_uses_openai_wording() -> None:
    _, body, _ = rendered(model_not_found("gpt-x"))
    assert body["error"]["message"] == (  # type: ignore[index]
        "The model `gpt-x` does not exist or you do not have access to it."
    )


def test_401_asks_for_bearer_auth() -> None:
    _, _, headers = rendered(AuthenticationFailed("no"))
    assert headers["www-authenticate"] == "Bearer"


def test_provider_errors_keep_status_fields_and_retry_after() -> None:
    provider = ProviderError(
        429, "slow down", "rate_limit_error", code="rate_limit_exceeded", retry_after_s=2.4
    )
    status, body, headers = rendered(UpstreamFailed.from_provider(provider))
    assert status == 429
    assert body == {
        "error": {
            "message": "slow down",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert headers["retry-after"] == "2"


def test_sse_error_event_is_one_data_event_with_the_error_object() -> None:
    raw = sse_error_event("cut", type="server_error", code="upstream_stream_interrupted")
    assert raw.startswith(b"data: ")
    assert raw.endswith(b"\n\n")
    assert orjson.loads(raw[len(b"data: ") :]) == {
        "error": {
            "message": "cut",
            "type": "server_error",
            "param": None,
            "code": "upstream_stream_interrupted",
        }
    }
