"""Sending one probe: the adapter builds the request, httpx sends it, the outcome is a ProbeResult.

A probe succeeds on any 2xx answer. Everything else is a failed result, never an exception:
a non-2xx status (the adapter's `parse_error` names it, and hides what a 401/403 body could
leak), a refused connection, a timeout, or a deployment that cannot be probed as configured.
Error texts are scrubbed of the deployment's credential values and cut short before they are
stored, because they end up in NATS KV and in the UI.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from gateway_proto.v1.health_pb2 import ProbeResult
from gateway_providers import ProviderError, UpstreamRequest
from gateway_providers.credentials import CredentialResolver, TokenResponse

from gateway_health.errors import TargetError
from gateway_health.targets import ProbeTarget
from gateway_health.verdict import timestamp

MAX_ERROR_CHARS = 300

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Prober:
    """Sends probes over one shared httpx client with a per-probe timeout."""

    def __init__(self, client: httpx.AsyncClient, timeout_s: float, clock: Clock = _utc_now) -> None:
        self._client = client
        self._timeout = httpx.Timeout(timeout_s)
        self._clock = clock
        # Short-lived provider credentials (STS AssumeRole, Google service-account tokens), cached.
        self._credentials = CredentialResolver(self._send_token_request, transport_errors=(httpx.HTTPError,))

    async def _send_token_request(self, request: UpstreamRequest) -> TokenResponse:
        response = await self._client.request(
            request.method, request.url, headers=request.headers, content=request.body, timeout=self._timeout
        )
        return TokenResponse(response.status_code, response.headers, response.content)

    async def probe(self, target: ProbeTarget) -> ProbeResult:
        """Probe `target` once and describe the outcome; only cancellation escapes."""
        at = self._clock()
        started = time.perf_counter()
        try:
            resolved = await self._credentials.resolve(target.target) if target.target is not None else None
        except (ProviderError, httpx.HTTPError) as exc:
            error = f"credentials: {type(exc).__name__}: {exc}"
            return _result(at, started, ok=False, error=error, secrets=target.secrets())
        try:
            upstream = target.build_request(resolved)
            request = self._client.build_request(
                upstream.method,
                upstream.url,
                headers=upstream.headers,
                content=upstream.body,
                timeout=self._timeout,
            )
        except TargetError as exc:
            return _result(at, started, ok=False, error=f"config: {exc}", secrets=target.secrets())
        except (httpx.InvalidURL, UnicodeEncodeError) as exc:
            # A base URL httpx cannot parse, or a non-ASCII extra header: no request can be made.
            error = f"config: {type(exc).__name__}: {exc}"
            return _result(at, started, ok=False, error=error, secrets=target.secrets())
        try:
            response = await self._client.send(request)
        except httpx.TimeoutException as exc:
            return _result(at, started, ok=False, error=f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            error = f"transport: {type(exc).__name__}: {exc}"
            return _result(at, started, ok=False, error=error, secrets=target.secrets())
        if response.is_success:
            return _result(at, started, ok=True, status_code=response.status_code)
        error = target.describe_failure(response.status_code, response.headers, response.content)
        return _result(
            at, started, ok=False, status_code=response.status_code, error=error, secrets=target.secrets()
        )


def _result(
    at: datetime,
    started: float,
    *,
    ok: bool,
    status_code: int = 0,
    error: str = "",
    secrets: tuple[str, ...] = (),
) -> ProbeResult:
    latency_ms = int((time.perf_counter() - started) * 1000)
    return ProbeResult(
        at=timestamp(at),
        ok=ok,
        status_code=status_code,
        latency_ms=latency_ms,
        error=scrub(error, secrets),
    )


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret value replaced by `***` and cut to MAX_ERROR_CHARS."""
    for secret in secrets:
        text = text.replace(secret, "***")
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 1] + "…"
    return text
