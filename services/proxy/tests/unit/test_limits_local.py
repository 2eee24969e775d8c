"""Local fallback limits (limit ÷ replicas), header formatting and effective limits."""

from __future__ import annotations

from gateway_proto.v1.config_pb2 import RateLimits
from gateway_proto.v1.keys_pb2 import KeyRecord
from gateway_proxy.auth import Principal
from gateway_proxy.limits import Limits, effective_limits, format_reset, limit_keys, rate_headers, refusal
from gateway_proxy.limits_local import LocalLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


KEYS = limit_keys("key-1", "tenant-1")


def limiter(clock: Clock, replicas: int = 1) -> LocalLimiter:
    return LocalLimiter(replicas=replicas, lease_ttl_s=10, clock=clock)


def test_rpm_is_exact_over_a_sliding_window_and_divided_by_replicas() -> None:
    clock = Clock()
    local = limiter(clock, replicas=3)
    admitted = [local.admit(f"l{i}", KEYS, (10, 0, 0, 0, 0, 0), 0)[0] for i in range(10)]
    assert admitted == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]  # ceil(10 / 3) = 4 on this replica
    refused = local.admit("x", KEYS, (10, 0, 0, 0, 0, 0), 0)
    assert refused[1] == "key_rpm"
    assert 59_000 <= int(str(refused[2])) <= 60_000
    clock.now += 60.001
    assert local.admit("y", KEYS, (10, 0, 0, 0, 0, 0), 0)[0] == 1


def test_tpm_counts_the_estimate_and_reconciles_to_the_actual_usage() -> None:
    local = limiter(Clock())
    assert local.admit("a", KEYS, (0, 100, 0, 0, 0, 0), 80)[0] == 1
    assert local.admit("b", KEYS, (0, 100, 0, 0, 0, 0), 30)[1] == "key_tpm"
    local.release("a", KEYS, 80, 20)  # the call used far fewer tokens than estimated
    assert local.admit("b", KEYS, (0, 100, 0, 0, 0, 0), 30)[0] == 1
    assert local.admit("c", KEYS, (0, 100, 0, 0, 0, 0), 500)[1] == "key_tpm_request_too_large"


def test_parallel_slots_are_freed_on_release_and_by_their_ttl() -> None:
    clock = Clock()
    local = limiter(clock)
    assert local.admit("a", KEYS, (0, 0, 0, 0, 0, 1), 0)[0] == 1
    assert local.admit("b", KEYS, (0, 0, 0, 0, 0, 1), 0)[1] == "tenant_max_parallel"
    local.release("a", KEYS, 0, 0)
    assert local.admit("b", KEYS, (0, 0, 0, 0, 0, 1), 0)[0] == 1
    clock.now += 10.1  # "b" was never released (its process died): the lease expires
    assert local.admit("c", KEYS, (0, 0, 0, 0, 0, 1), 0)[0] == 1


def test_every_limit_is_checked_before_any_is_recorded() -> None:
    local = limiter(Clock())
    assert local.admit("a", KEYS, (5, 0, 0, 0, 0, 1), 0)[0] == 1
    # The tenant's parallel limit refuses: the key's RPM must not count the refused request.
    for _ in range(10):
        assert local.admit("b", KEYS, (5, 0, 0, 0, 0, 1), 0)[0] == 0
    local.release("a", KEYS, 0, 0)
    assert [local.admit(f"c{i}", KEYS, (5, 0, 0, 0, 0, 0), 0)[0] for i in range(5)] == [1, 1, 1, 1, 0]


def test_headers_and_refusal() -> None:
    headers = rate_headers([1, "", 0, 100, 42, 1500, 1000, 10, 60000])
    assert headers == {
        "x-ratelimit-limit-requests": "100",
        "x-ratelimit-remaining-requests": "42",
        "x-ratelimit-reset-requests": "1.5s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "10",
        "x-ratelimit-reset-tokens": "1m0s",
    }
    assert rate_headers([1, "", 0, 0, 0, 0, 0, 0, 0]) == {}
    error = refusal([0, b"tenant_rpm", 2001, 100, 0, 2001, 0, 0, 0])
    assert error.status == 429
    assert error.code == "rate_limit_exceeded"
    assert error.headers["retry-after"] == "3"
    assert "organization" in error.message
    assert format_reset(20) == "20ms"
    assert format_reset(6 * 60_000) == "6m0s"


def test_effective_limits_fill_unset_values_from_defaults() -> None:
    record = KeyRecord(
        key_id="k",
        tenant_id="t",
        key_limits=RateLimits(rpm=10, tpm=-1),
        tenant_limits=RateLimits(max_parallel=3),
    )
    defaults = Limits(key_rpm=1, key_tpm=2, key_parallel=3, tenant_rpm=4, tenant_tpm=5, tenant_parallel=6)
    limits = effective_limits(Principal.from_record(record), defaults)
    assert limits == Limits(
        key_rpm=10, key_tpm=0, key_parallel=3, tenant_rpm=4, tenant_tpm=5, tenant_parallel=3
    )
    assert not effective_limits(Principal.from_record(KeyRecord()), Limits()).any
