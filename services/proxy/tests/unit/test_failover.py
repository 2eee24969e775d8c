"""What a failed attempt means for routing, and how long a re-try waits."""

from __future__ import annotations

import random

import pytest
from gateway_providers import ProviderError
from gateway_proxy.errors import UpstreamFailed
from gateway_proxy.failover import Verdict, classify_provider_error, retry_delay


def classify(status: int, code: str | None = None, **kw: object) -> tuple[Verdict, bool, bool]:
    error = ProviderError(status, "m", "server_error", code, **kw)  # type: ignore[arg-type]
    failure = classify_provider_error(error, UpstreamFailed.from_provider(error))
    return failure.verdict, failure.retry_same, failure.blames_deployment


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, "rate_limit_exceeded", (Verdict.NEXT_DEPLOYMENT, True, True)),
        (500, None, (Verdict.NEXT_DEPLOYMENT, True, True)),
        (503, "overloaded", (Verdict.NEXT_DEPLOYMENT, True, True)),
        (401, "invalid_api_key", (Verdict.NEXT_DEPLOYMENT, False, True)),
        (404, "model_not_found", (Verdict.NEXT_DEPLOYMENT, False, True)),
        (400, "context_length_exceeded", (Verdict.FALLBACK_MODEL, False, False)),
        (400, "content_policy_violation", (Verdict.FALLBACK_MODEL, False, False)),
        (400, "invalid_value", (Verdict.FINAL, False, False)),
        (422, None, (Verdict.FINAL, False, False)),
    ],
)
def test_each_upstream_error_gets_its_routing_verdict(
    status: int, code: str | None, expected: tuple[Verdict, bool, bool]
) -> None:
    assert classify(status, code) == expected


def test_retry_after_is_honoured_and_one_beyond_the_cap_means_do_not_retry() -> None:
    rng = random.Random(1)
    assert retry_delay(1, 0.7, base_s=0.05, max_wait_s=2.0, rng=rng) == 0.7
    assert retry_delay(1, 5.0, base_s=0.05, max_wait_s=2.0, rng=rng) is None


def test_backoff_is_jittered_exponential_and_capped() -> None:
    rng = random.Random(2)
    first = [retry_delay(1, None, base_s=0.1, max_wait_s=2.0, rng=rng) for _ in range(200)]
    third = [retry_delay(3, None, base_s=0.1, max_wait_s=2.0, rng=rng) for _ in range(200)]
    assert all(d is not None and 0 <= d <= 0.1 for d in first)
    assert all(d is not None and 0 <= d <= 0.4 for d in third)
    assert max(d for d in third if d is not None) > 0.2  # the range really doubled twice
    assert len({round(d or 0, 6) for d in first}) > 100  # jittered, not a constant
    assert retry_delay(10, None, base_s=0.1, max_wait_s=2.0, rng=rng) is not None
    assert all((retry_delay(10, None, base_s=1.0, max_wait_s=2.0, rng=rng) or 0) <= 2.0 for _ in range(50))
