"""Translate an OpenAI-style upstream error response into a `ProviderError`.

Statuses pass through unless they would mislead the client:

| upstream | client | default type            | retryable | why                                        |
|----------|--------|-------------------------|-----------|--------------------------------------------|
| 400      | 400    | invalid_request_error   | no        |                                            |
| 401, 403 | 502    | upstream_error          | yes       | the credential is the gateway's, not the   |
|          |        |                         |           | client's; another deployment may have one  |
| 404      | 404    | invalid_request_error   | no        |                                            |
| 408      | 504    | timeout_error           | yes       | the upstream timed out, not the client     |
| 409      | 409    | invalid_request_error   | yes       |                                            |
| 413, 422 | same   | invalid_request_error   | no        |                                            |
| 429      | 429    | rate_limit_error        | yes       | Retry-After is carried in `retry_after_s`  |
| 500, 502 | 502    | server_error            | yes       | the gateway itself did not fail            |
| 503, 504 | same   | server_error / timeout  | yes       |                                            |
| other 4xx| same   | invalid_request_error   | no        |                                            |
| other    | 502    | server_error            | yes       |                                            |

The upstream's message, type, code and param are kept when the body is OpenAI's error
JSON (or a common variant: `{"error": "..."}`, `{"message": ...}`, `{"detail": ...}`),
except for 401/403, whose messages can echo part of the provider key or account ids.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Final

import orjson

from gateway_providers.base import ProviderError


@dataclass(frozen=True, slots=True)
class StatusRule:
    """How one upstream status is presented to the client and treated by routing."""

    client_status: int
    default_type: str
    retryable: bool
    hide_upstream_message: bool = False


_CREDENTIAL_RULE = StatusRule(502, "upstream_error", retryable=True, hide_upstream_message=True)

STATUS_RULES: Final[Mapping[int, StatusRule]] = {
    400: StatusRule(400, "invalid_request_error", retryable=False),
    401: _CREDENTIAL_RULE,
    403: _CREDENTIAL_RULE,
    404: StatusRule(404, "invalid_request_error", retryable=False),
    408: StatusRule(504, "timeout_error", retryable=True),
    409: StatusRule(409, "invalid_request_error", retryable=True),
    413: StatusRule(413, "invalid_request_error", retryable=False),
    422: StatusRule(422, "invalid_request_error", retryable=False),
    429: StatusRule(429, "rate_limit_error", retryable=True),
    500: StatusRule(502, "server_error", retryable=True),
    502: StatusRule(502, "server_error", retryable=True),
    503: StatusRule(503, "server_error", retryable=True),
    504: StatusRule(504, "timeout_error", retryable=True),
}


def rule_for_status(status: int) -> StatusRule:
    """Return the rule for `status`, falling back by class for statuses not in the table."""
    rule = STATUS_RULES.get(status)
    if rule is not None:
        return rule
    if 400 <= status < 500:
        return StatusRule(status, "invalid_request_error", retryable=False)
    return StatusRule(502, "server_error", retryable=True)


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> ProviderError:
    """Build the `ProviderError` for an upstream error response.

    `headers` may be any mapping (case is ignored); `now` (epoch seconds) is only for
    resolving an HTTP-date `Retry-After` deterministically in tests.
    """
    rule = rule_for_status(status)
    fields = _error_fields(body)
    lowered = {key.lower(): value for key, value in headers.items()}
    retry_after = retry_after_seconds(lowered, now=now)
    upstream_code = fields.get("code")
    if rule.hide_upstream_message:
        detail = f" (upstream code: {upstream_code})" if upstream_code else ""
        message = (
            f"The provider refused the gateway's credentials for this deployment (HTTP {status}){detail}."
        )
        return ProviderError(
            rule.client_status,
            message,
            rule.default_type,
            code="upstream_authentication_failed",
            retryable=rule.retryable,
            retry_after_s=retry_after,
        )
    message = (
        fields.get("message") or f"The upstream provider returned HTTP {status} without an error message."
    )
    return ProviderError(
        rule.client_status,
        message,
        fields.get("type") or rule.default_type,
        code=upstream_code,
        param=fields.get("param"),
        retryable=rule.retryable,
        retry_after_s=retry_after,
    )


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Read the back-off hint from lower-cased headers: `retry-after-ms`, then `retry-after`.

    `retry-after` may be delta-seconds or an HTTP date; unparseable values are ignored.
    """
    millis = _parse_float(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _parse_float(raw)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _parse_float(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if value >= 0 and value != float("inf") else None


def _error_fields(body: bytes) -> dict[str, str]:
    """Pull message/type/code/param out of the body's error JSON variants."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    error = parsed.get("error")
    if isinstance(error, dict):
        source: dict[str, object] = error
    elif isinstance(error, str):
        source = {"message": error}
    elif isinstance(parsed.get("detail"), str):
        source = {"message": parsed["detail"]}
    else:
        source = parsed
    fields: dict[str, str] = {}
    for name in ("message", "type", "code", "param"):
        value = source.get(name)
        # Some OpenAI-compatible servers send a numeric code; bools are not codes.
        if isinstance(value, str) and value:
            fields[name] = value
        elif isinstance(value, int) and not isinstance(value, bool) and name == "code":
            fields[name] = str(value)
    return fields


def stream_error_from_payload(payload: Mapping[str, object]) -> ProviderError | None:
    """Return the error carried by a stream event's JSON (`{"error": {...}}`), or None.

    A stream that fails after it started cannot be failed over, so it is not retryable.
    """
    error = payload.get("error")
    if not isinstance(error, Mapping):
        return None
    fields = _error_fields(orjson.dumps({"error": error}))
    return ProviderError(
        502,
        fields.get("message") or "The upstream provider reported an error mid-stream.",
        fields.get("type") or "server_error",
        code=fields.get("code"),
        param=fields.get("param"),
        retryable=False,
    )
