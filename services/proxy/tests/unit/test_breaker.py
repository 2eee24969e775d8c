"""Circuit breakers: consecutive failures and error rate open them; half-open lets one trial through."""

from __future__ import annotations

from gateway_proxy.breaker import BreakerPolicy, BreakerState, CircuitBreakers


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breakers(clock: Clock, **policy: float) -> tuple[CircuitBreakers, list[tuple[str, BreakerState]]]:
    transitions: list[tuple[str, BreakerState]] = []
    values = {"consecutive_failures": 3, "min_requests": 10, "cooldown_s": 10.0, **policy}
    made = CircuitBreakers(
        BreakerPolicy(**values),  # type: ignore[arg-type]
        clock=clock,
        on_transition=lambda d, s: transitions.append((d, s)),
    )
    return made, transitions


def test_consecutive_failures_open_the_breaker_until_the_cooldown_ends() -> None:
    clock = Clock()
    cb, transitions = breakers(clock)
    for _ in range(2):
        cb.record_failure("d")
    assert cb.acquire("d")
    cb.record_failure("d")
    assert cb.state("d") is BreakerState.OPEN
    assert cb.is_open("d")
    assert not cb.acquire("d")
    clock.now += 9.9
    assert not cb.acquire("d")
    clock.now += 0.2
    assert cb.state("d") is BreakerState.HALF_OPEN
    assert transitions == [("d", BreakerState.OPEN)]


def test_half_open_lets_exactly_one_trial_through_and_its_success_closes() -> None:
    clock = Clock()
    cb, transitions = breakers(clock)
    for _ in range(3):
        cb.record_failure("d")
    clock.now += 11
    assert cb.acquire("d")  # the trial
    assert not cb.acquire("d")  # a second caller waits for its verdict
    assert cb.is_open("d")
    cb.record_success("d")
    assert cb.state("d") is BreakerState.CLOSED
    assert cb.acquire("d")
    assert cb.acquire("d")
    assert [s for _, s in transitions] == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_a_failed_trial_reopens_with_a_doubled_cooldown() -> None:
    clock = Clock()
    cb, _ = breakers(clock, max_cooldown_s=15.0)
    for _ in range(3):
        cb.record_failure("d")
    clock.now += 10.1
    assert cb.acquire("d")
    cb.record_failure("d")
    assert cb.state("d") is BreakerState.OPEN
    clock.now += 14.9
    assert not cb.acquire("d")  # doubled to 20 s, capped at 15 s
    clock.now += 0.2
    assert cb.acquire("d")


def test_the_provider_retry_after_sets_the_cooldown() -> None:
    clock = Clock()
    cb, _ = breakers(clock)
    cb.record_failure("d")
    cb.record_failure("d")
    cb.record_failure("d", retry_after_s=42.0)
    clock.now += 41
    assert not cb.acquire("d")
    clock.now += 1.5
    assert cb.acquire("d")


def test_error_rate_over_the_window_opens_without_a_failure_run() -> None:
    clock = Clock()
    cb, _ = breakers(clock, consecutive_failures=100, min_requests=10, error_rate=0.5)
    cb.record_failure("d")  # the first failure starts the window's record
    for _ in range(4):
        cb.record_success("d")
        assert cb.state("d") is BreakerState.CLOSED
        cb.record_failure("d")
        clock.now += 0.1
    assert cb.state("d") is BreakerState.CLOSED  # 9 calls: fewer than min_requests
    cb.record_success("d")
    cb.record_failure("d")  # 11 calls, 6 failed: 55 % >= 50 %
    assert cb.state("d") is BreakerState.OPEN


def test_old_calls_leave_the_window() -> None:
    clock = Clock()
    cb, _ = breakers(clock, consecutive_failures=100, min_requests=4, error_rate=0.5, window_s=5.0)
    cb.record_failure("d")
    cb.record_success("d")
    clock.now += 10  # both calls are out of the window now
    cb.record_failure("d")
    cb.record_success("d")
    cb.record_success("d")
    assert cb.state("d") is BreakerState.CLOSED


def test_released_trial_can_be_taken_again_and_force_takes_it() -> None:
    clock = Clock()
    cb, _ = breakers(clock)
    for _ in range(3):
        cb.record_failure("d")
    cb.force("d")  # last resort while open: counts as the trial
    assert not cb.acquire("d")
    cb.release("d")
    assert cb.acquire("d")


def test_unknown_deployments_are_closed() -> None:
    cb, transitions = breakers(Clock())
    cb.record_success("x")
    assert cb.state("x") is BreakerState.CLOSED
    assert cb.acquire("x")
    assert not transitions
