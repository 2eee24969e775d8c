"""What a failed upstream attempt means for the request: `classify` and `retry_delay`.

Every failure before the first byte reached the client is one of:

- NEXT_DEPLOYMENT — the deployment failed (connect error, timeout, 408, 409, 429, 5xx, a
  stream cut before its first event, or 401/403/404 meaning the provider account or its model
  is misconfigured): try the next deployment; the failure counts against its breaker, and 429
  / 5xx / transport failures make it eligible for one more try after a backoff;
- FALLBACK_MODEL — the request does not fit this model (context window exceeded) or was refused
  by its content policy: other deployments of the same model would refuse it too, so go on
  with the route's fallback models;
- FINAL — the client's own mistake (400, 413, 422, ...): answer it now, nothing else is tried.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

from gateway_providers import ErrorKind, ProviderError

from gateway_proxy.errors import GatewayError


class Verdict(Enum):
    """What to do after a failed attempt."""

    NEXT_DEPLOYMENT = "next_deployment"
    FALLBACK_MODEL = "fallback_model"
    FINAL = "final"


# Upstream client-error statuses that blame the deployment, not the request.
_DEPLOYMENT_STATUSES = frozenset({401, 403, 404, 408, 409, 429})
# Refusals of the request on this model that another model alias may serve.
_FALLBACK_KINDS = frozenset({ErrorKind.CONTEXT_WINDOW_EXCEEDED, ErrorKind.CONTENT_POLICY})


@dataclass(frozen=True, slots=True)
class AttemptFailure:
    """One failed attempt: the error the client would get, and what it means for routing."""

    error: GatewayError
    verdict: Verdict
    # Whether the same deployment may be tried again later in this request (429, 5xx, transport).
    retry_same: bool
    # The provider's back-off hint, if it gave one.
    retry_after_s: float | None = None
    # Whether the failure blames the deployment (its circuit breaker counts it).
    blames_deployment: bool = True


def classify_provider_error(error: ProviderError, gateway_error: GatewayError) -> AttemptFailure:
    """The routing meaning of an upstream error response (or an error event before the first byte)."""
    if error.kind in _FALLBACK_KINDS:
        return AttemptFailure(
            gateway_error, Verdict.FALLBACK_MODEL, retry_same=False, blames_deployment=False
        )
    status = error.status
    if error.kind is ErrorKind.AUTHENTICATION:  # our credentials refused: another account may work
        return AttemptFailure(gateway_error, Verdict.NEXT_DEPLOYMENT, retry_same=False)
    if status >= 500 or error.retryable:
        return AttemptFailure(
            gateway_error, Verdict.NEXT_DEPLOYMENT, retry_same=True, retry_after_s=error.retry_after_s
        )
    if status in _DEPLOYMENT_STATUSES:
        retry = status in {408, 409, 429}
        return AttemptFailure(
            gateway_error, Verdict.NEXT_DEPLOYMENT, retry_same=retry, retry_after_s=error.retry_after_s
        )
    return AttemptFailure(gateway_error, Verdict.FINAL, retry_same=False, blames_deployment=False)


def transport_failure(error: GatewayError) -> AttemptFailure:
    """A connect error, a timeout, or a stream cut before its first event."""
    return AttemptFailure(error, Verdict.NEXT_DEPLOYMENT, retry_same=True)


def retry_delay(
    tries: int, retry_after_s: float | None, *, base_s: float, max_wait_s: float, rng: random.Random
) -> float | None:
    """Seconds to wait before trying a deployment for the `tries`+1-th time; None: don't.

    Full-jitter exponential backoff (base * 2^(tries-1), random in [0, that]), but never sooner
    than the provider's Retry-After; a Retry-After beyond `max_wait_s` means this request does
    not come back to the deployment at all.
    """
    if retry_after_s is not None and retry_after_s > max_wait_s:
        return None
    backoff = rng.uniform(0, base_s * (2 ** max(0, tries - 1)))
    return min(max(backoff, retry_after_s or 0.0), max_wait_s)
