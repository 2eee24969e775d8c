"""Translate an OpenAI-style upstream error response into a `ProviderError`.

Statuses pass through unless they would mislead the client:

| upstream | client | default type          | retryable | kind                | why                       |
|----------|--------|-----------------------|-----------|---------------------|---------------------------|
| 400      | 400    | invalid_request_error | no        | invalid_request (1) |                           |
| 401, 403 | 502    | upstream_error        | no        | authentication      | the gateway's credential, |
|          |        |                       |           |                     | not the client's: fail    |
|          |        |                       |           |                     | over to another deployment|
| 404      | 404    | invalid_request_error | no        | not_found           |                           |
| 408      | 504    | timeout_error         | yes       | timeout             | the upstream timed out    |
| 409      | 409    | invalid_request_error | yes       | invalid_request     |                           |
| 413, 422 | same   | invalid_request_error | no        | invalid_request (1) |                           |
| 429      | 429    | rate_limit_error      | yes       | rate_limited        | back-off: `retry_after_s` |
| 500, 502 | 502    | server_error          | yes       | server_error        | the gateway did not fail  |
| 503      | 503    | server_error          | yes       | overloaded          |                           |
| 504      | 504    | timeout_error         | yes       | timeout             |                           |
| other 4xx| same   | invalid_request_error | no        | invalid_request     |                           |
| other    | 502    | server_error          | yes       | server_error        |                           |

(1) A 4xx whose code or message says the prompt is too long for the model is
`context_window_exceeded`; one refused by a safety filter is `content_policy` (both
not retryable: routing may fall back to another model alias). The patterns cover
OpenAI, Azure, Anthropic, Bedrock, Vertex, TEI and vLLM wording (`classify_request_error`).

The back-off hint is read from `retry-after-ms`, Azure's `x-ms-retry-after-ms`,
`retry-after` (seconds or an HTTP date), then, on a 429 without those, OpenAI's
`x-ratelimit-reset-{tokens,requests}` for the exhausted dimension (`6m0s`, `20ms`).

The upstream's message, type, code and param are kept when the body is OpenAI's error
JSON (or a common variant: `{"error": "..."}`, `{"message": ...}`, `{"detail": ...}`),
except for 401/403, whose messages can echo part of the provider key or account ids.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Final

import orjson

from gateway_providers.base import ErrorKind, ProviderError, classify_request_error


@dataclass(frozen=True, slots=True)
class StatusRule:
    """How one upstream status is presented to the client and treated by routing."""

    client_status: int
    default_type: str
    retryable: bool
    kind: ErrorKind
    hide_upstream_message: bool = False


_INVALID = ErrorKind.INVALID_REQUEST
_CREDENTIAL_RULE = StatusRule(
    502, "upstream_error", retryable=False, kind=ErrorKind.AUTHENTICATION, hide_upstream_message=True
)

STATUS_RULES: Final[Mapping[int, StatusRule]] = {
    400: StatusRule(400, "invalid_request_error", retryable=False, kind=_INVALID),
    401: _CREDENTIAL_RULE,
    403: _CREDENTIAL_RULE,
    404: StatusRule(404, "invalid_request_error", retryable=False, kind=ErrorKind.NOT_FOUND),
    408: StatusRule(504, "timeout_error", retryable=True, kind=ErrorKind.TIMEOUT),
    409: StatusRule(409, "invalid_request_error", retryable=True, kind=_INVALID),
    413: StatusRule(413, "invalid_request_error", retryable=False, kind=_INVALID),
    422: StatusRule(422, "invalid_request_error", retryable=False, kind=_INVALID),
    429: StatusRule(429, "rate_limit_error", retryable=True, kind=ErrorKind.RATE_LIMITED),
    500: StatusRule(502, "server_error", retryable=True, kind=ErrorKind.SERVER_ERROR),
    502: StatusRule(502, "server_error", retryable=True, kind=ErrorKind.SERVER_ERROR),
    503: StatusRule(503, "server_error", retryable=True, kind=ErrorKind.OVERLOADED),
    504: StatusRule(504, "timeout_error", retryable=True, kind=ErrorKind.TIMEOUT),
}


def rule_for_status(status: int) -> StatusRule:
    """Return the rule for `status`, falling back by class for statuses not in the table."""
    rule = STATUS_RULES.get(status)
    if rule is not None:
        return rule
    if 400 <= status < 500:
        return StatusRule(status, "invalid_request_error", retryable=False, kind=_INVALID)
    return StatusRule(502, "server_error", retryable=True, kind=ErrorKind.SERVER_ERROR)


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    retry_after_hint: float | None = None,
) -> ProviderError:
    """Build the `ProviderError` for an upstream error response.

    `headers` may be any mapping (case is ignored); `now` (epoch seconds) is only for
    resolving an HTTP-date `Retry-After` deterministically in tests; `retry_after_hint` is
    a provider's back-off from its body (Google's `RetryInfo`, Hugging Face's `estimated_time`),
    used for a retryable error when no header gives one.
    """
    rule = rule_for_status(status)
    fields = _error_fields(body)
    lowered = {key.lower(): value for key, value in headers.items()}
    retry_after = retry_after_seconds(lowered, now=now)
    if retry_after is None and rule.retryable:
        retry_after = retry_after_hint
    if retry_after is None and status == 429:
        retry_after = rate_limit_reset_seconds(lowered)
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
            kind=rule.kind,
        )
    message = (
        fields.get("message") or f"The upstream provider returned HTTP {status} without an error message."
    )
    kind = rule.kind
    if kind is _INVALID:
        kind = classify_request_error(upstream_code, fields.get("message")) or kind
    return ProviderError(
        rule.client_status,
        message,
        fields.get("type") or rule.default_type,
        code=upstream_code,
        param=fields.get("param"),
        retryable=rule.retryable,
        retry_after_s=retry_after,
        kind=kind,
    )


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Read the back-off hint from lower-cased headers: `retry-after-ms` (or Azure's
    `x-ms-retry-after-ms`), then `retry-after`.

    `retry-after` may be delta-seconds or an HTTP date; unparseable values are ignored.
    """
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        millis = _parse_float(headers.get(name))
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


_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION_UNIT_S: Final[Mapping[str, float]] = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def rate_limit_reset_seconds(headers: Mapping[str, str]) -> float | None:
    """OpenAI's `x-ratelimit-reset-<dimension>` (`6m0s`, `1.5s`, `20ms`) for the exhausted dimension."""
    for dimension in ("tokens", "requests"):
        if headers.get(f"x-ratelimit-remaining-{dimension}", "").strip() != "0":
            continue
        raw = headers.get(f"x-ratelimit-reset-{dimension}", "").strip()
        parts = _DURATION_PART.findall(raw)
        if parts and "".join(number + unit for number, unit in parts) == raw:
            return sum(float(number) * _DURATION_UNIT_S[unit] for number, unit in parts)
    return None


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
    if not isinstance(error, dict):
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
