"""The window, verdict and cooldown rules (gateway_health.verdict)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from gateway_health.verdict import HealthRules, is_failing, record_probe, timestamp, to_datetime
from gateway_proto.v1.health_pb2 import (
    HEALTH_STATUS_HEALTHY,
    HEALTH_STATUS_UNHEALTHY,
    DeploymentHealth,
    ProbeResult,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RULES = HealthRules(window=5, unhealthy_after=2, cooldown=timedelta(seconds=300))


def probe(ok: bool, minute: float) -> ProbeResult:
    return ProbeResult(at=timestamp(T0 + timedelta(minutes=minute)), ok=ok, status_code=200 if ok else 500)


def run(
    outcomes: list[bool], rules: HealthRules = RULES, start: DeploymentHealth | None = None
) -> DeploymentHealth:
    """Feed one probe a minute (the default interval) and return the last record."""
    health = start
    for minute, ok in enumerate(outcomes):
        health = record_probe(health, "d1", probe(ok, minute), rules, "replica-a")
    assert health is not None
    return health


def test_first_success_is_healthy() -> None:
    health = run([True])
    assert health.status == HEALTH_STATUS_HEALTHY
    assert health.deployment_id == "d1"
    assert health.prober == "replica-a"
    assert to_datetime(health.checked_at) == T0
    assert not health.HasField("cooldown_until")


def test_first_failure_is_unhealthy_with_a_cooldown() -> None:
    health = run([False])
    assert health.status == HEALTH_STATUS_UNHEALTHY
    assert to_datetime(health.cooldown_until) == T0 + timedelta(seconds=300)


def test_one_failure_among_successes_stays_healthy() -> None:
    assert run([True, True, False]).status == HEALTH_STATUS_HEALTHY
    assert run([True, False, True, True, True]).status == HEALTH_STATUS_HEALTHY


def test_k_consecutive_failures_turn_unhealthy() -> None:
    health = run([True, True, True, False, False])
    assert health.status == HEALTH_STATUS_UNHEALTHY
    assert to_datetime(health.cooldown_until) == T0 + timedelta(minutes=4, seconds=300)


def test_a_failed_majority_turns_unhealthy_without_consecutive_failures() -> None:
    rules = HealthRules(window=5, unhealthy_after=3, cooldown=timedelta(seconds=300))
    assert run([True, False, True, False], rules).status == HEALTH_STATUS_HEALTHY  # 2 of 4: not a majority
    assert run([True, False, True, False, False], rules).status == HEALTH_STATUS_UNHEALTHY  # 3 of 5
    assert run([False, True, False, True, False], rules).status == HEALTH_STATUS_UNHEALTHY


def test_the_window_keeps_the_last_n_results() -> None:
    health = run([False, True, True, True, True, True, True])
    assert len(health.recent) == 5
    assert [to_datetime(r.at) for r in health.recent] == [T0 + timedelta(minutes=m) for m in range(2, 7)]


def test_successes_during_the_cooldown_do_not_recover() -> None:
    # Down at minute 0, cooldown until minute 5: the successes at minutes 1-4 do not count.
    health = run([False, True, True, True, True])
    assert health.status == HEALTH_STATUS_UNHEALTHY
    assert to_datetime(health.cooldown_until) == T0 + timedelta(minutes=5)


def test_the_first_success_after_the_cooldown_recovers() -> None:
    health = run([False, True, True, True, True, True])  # minute 5 == cooldown_until
    assert health.status == HEALTH_STATUS_HEALTHY
    # cooldown_until stays as the mark from which results count again.
    assert to_datetime(health.cooldown_until) == T0 + timedelta(minutes=5)


def test_a_failure_after_the_cooldown_starts_a_new_cooldown() -> None:
    health = run([False, True, True, True, True, False])
    assert health.status == HEALTH_STATUS_UNHEALTHY
    assert to_datetime(health.cooldown_until) == T0 + timedelta(minutes=5, seconds=300)
    # A failure inside the cooldown does not extend it.
    again = record_probe(health, "d1", probe(False, 6), RULES, "replica-a")
    assert again.cooldown_until == health.cooldown_until


def test_failures_before_a_recovery_do_not_count_again() -> None:
    rules = HealthRules(window=5, unhealthy_after=2, cooldown=timedelta(minutes=2))
    recovered = run([False, False, True], rules)  # down at 0, cooldown until 2, recovered at 2
    assert recovered.status == HEALTH_STATUS_HEALTHY
    # 3 of the 4 results in the window failed, but only [ok, fail] (from minute 2 on) count.
    health = record_probe(recovered, "d1", probe(False, 3), rules, "replica-a")
    assert [r.ok for r in health.recent] == [False, False, True, False]
    assert health.status == HEALTH_STATUS_HEALTHY
    assert record_probe(health, "d1", probe(False, 4), rules, "replica-a").status == HEALTH_STATUS_UNHEALTHY


def test_a_verdict_resumes_from_another_replicas_record() -> None:
    """A record written by one replica is continued by another (what issue 8's lease handover needs)."""
    by_a = run([True, True, False])
    by_b = record_probe(by_a, "d1", probe(False, 3), RULES, "replica-b")
    assert by_b.status == HEALTH_STATUS_UNHEALTHY
    assert by_b.prober == "replica-b"
    assert len(by_b.recent) == 4


def test_is_failing_edges() -> None:
    assert not is_failing([], 2)
    assert is_failing([probe(False, 0)], 2)  # a majority of one
    assert not is_failing([probe(True, 0), probe(False, 1)], 2)


def test_rules_are_validated() -> None:
    with pytest.raises(ValueError, match="unhealthy_after"):
        HealthRules(window=2, unhealthy_after=3, cooldown=timedelta(0))
    with pytest.raises(ValueError, match="window"):
        HealthRules(window=0, unhealthy_after=1, cooldown=timedelta(0))


def test_history_keeps_more_than_the_window_but_the_verdict_reads_only_the_window() -> None:
    rules = HealthRules(window=3, unhealthy_after=3, cooldown=timedelta(seconds=300), history=8)
    # 4 failures then 3 successes: a failed majority over all 7, but the window (last 3) is clean.
    health = run([False, True, True, False, False, True, True, True, True, True], rules)
    assert len(health.recent) == 8
    assert [r.ok for r in health.recent] == [True, False, False, True, True, True, True, True]
    assert [to_datetime(r.at).minute for r in health.recent] == list(range(2, 10))
    assert health.status == HEALTH_STATUS_HEALTHY
    # Failures in the window still count: 2 of the last 3 failed -> unhealthy although most of
    # the history succeeded.
    mixed = run([True] * 7 + [False, True, False], rules)
    assert len(mixed.recent) == 8
    assert mixed.status == HEALTH_STATUS_UNHEALTHY


def test_history_is_validated() -> None:
    with pytest.raises(ValueError, match="history"):
        HealthRules(window=5, unhealthy_after=2, cooldown=timedelta(0), history=4)
    assert HealthRules(window=5, unhealthy_after=2, cooldown=timedelta(0)).kept == 5
