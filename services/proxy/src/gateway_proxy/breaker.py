"""Per-deployment circuit breakers from passive signals: `CircuitBreakers`.

Each deployment's breaker is CLOSED while calls succeed. It OPENS after `consecutive_failures`
failures in a row, or when at least `min_requests` calls within the sliding window failed at
`error_rate` or more. While open the deployment is skipped (routing tries it only as a last
resort) for the cooldown: the provider's own Retry-After when it gave one, else `cooldown_s`,
doubled after each failed trial up to `max_cooldown_s`. When the cooldown ends the breaker is
HALF_OPEN: exactly one request at a time is let through as a trial; its success closes the
breaker, its failure opens it again.

Only failures that say something about the deployment count: connect errors, timeouts, 429,
5xx, a stream cut before its first event. A client's 400 does not. State is per process (a
proxy replica learns on its own within a few requests), kept in memory, and needs no locks:
the event loop runs one callback at a time.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class BreakerState(Enum):
    """Where a deployment's breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a breaker opens and for how long (the BREAKER_* settings)."""

    consecutive_failures: int = 5
    error_rate: float = 0.5
    min_requests: int = 20
    window_s: float = 30.0
    cooldown_s: float = 10.0
    max_cooldown_s: float = 300.0


@dataclass(slots=True)
class _Breaker:
    state: BreakerState = BreakerState.CLOSED
    consecutive: int = 0
    calls: deque[tuple[float, bool]] = field(default_factory=deque)  # (time, ok) inside the window
    open_until: float = 0.0
    cooldown_s: float = 0.0
    trial_in_flight: bool = False


# Told (deployment id, new state) on every transition: the metrics' hook.
OnTransition = Callable[[str, BreakerState], None]


class CircuitBreakers:
    """The breakers of every deployment this process has called, keyed by deployment id."""

    def __init__(
        self,
        policy: BreakerPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_transition: OnTransition | None = None,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._on_transition = on_transition
        self._breakers: dict[str, _Breaker] = {}

    def state(self, deployment_id: str) -> BreakerState:
        """The breaker's state now (an open breaker whose cooldown ended reads HALF_OPEN)."""
        breaker = self._breakers.get(deployment_id)
        if breaker is None:
            return BreakerState.CLOSED
        if breaker.state is BreakerState.OPEN and self._clock() >= breaker.open_until:
            return BreakerState.HALF_OPEN
        return breaker.state

    def is_open(self, deployment_id: str) -> bool:
        """Whether routing should avoid the deployment right now (open, or its one trial is out)."""
        breaker = self._breakers.get(deployment_id)
        if breaker is None:
            return False
        state = self.state(deployment_id)
        return state is BreakerState.OPEN or (state is BreakerState.HALF_OPEN and breaker.trial_in_flight)

    def acquire(self, deployment_id: str) -> bool:
        """Ask to call the deployment now; True when allowed (a half-open trial is taken here)."""
        breaker = self._breakers.get(deployment_id)
        if breaker is None or breaker.state is BreakerState.CLOSED:
            return True
        if breaker.state is BreakerState.OPEN:
            if self._clock() < breaker.open_until:
                return False
            self._move(deployment_id, breaker, BreakerState.HALF_OPEN)
        if breaker.trial_in_flight:
            return False
        breaker.trial_in_flight = True
        return True

    def force(self, deployment_id: str) -> None:
        """A call made regardless of the breaker (the last resort): treat it as the trial."""
        breaker = self._breakers.get(deployment_id)
        if breaker is not None and breaker.state is not BreakerState.CLOSED:
            if breaker.state is BreakerState.OPEN:
                self._move(deployment_id, breaker, BreakerState.HALF_OPEN)
            breaker.trial_in_flight = True

    def record_success(self, deployment_id: str) -> None:
        """A call answered well: close a half-open breaker, reset the failure run."""
        breaker = self._breakers.get(deployment_id)
        if breaker is None:
            return
        now = self._clock()
        breaker.consecutive = 0
        self._note(breaker, now, ok=True)
        if breaker.state is not BreakerState.CLOSED:
            breaker.trial_in_flight = False
            breaker.cooldown_s = 0.0
            breaker.calls.clear()
            self._move(deployment_id, breaker, BreakerState.CLOSED)

    def record_failure(self, deployment_id: str, retry_after_s: float | None = None) -> None:
        """A call failed in a way that blames the deployment; may open its breaker."""
        breaker = self._breakers.setdefault(deployment_id, _Breaker())
        now = self._clock()
        breaker.consecutive += 1
        self._note(breaker, now, ok=False)
        if breaker.state is BreakerState.HALF_OPEN or breaker.trial_in_flight:
            breaker.trial_in_flight = False
            self._open(deployment_id, breaker, now, retry_after_s, escalate=True)
        elif breaker.state is BreakerState.CLOSED and self._should_open(breaker):
            self._open(deployment_id, breaker, now, retry_after_s, escalate=False)
        elif breaker.state is BreakerState.OPEN and retry_after_s is not None:
            breaker.open_until = max(breaker.open_until, now + retry_after_s)

    def release(self, deployment_id: str) -> None:
        """A trial that ended without a verdict (the client's fault, or cancelled): free the slot."""
        breaker = self._breakers.get(deployment_id)
        if breaker is not None:
            breaker.trial_in_flight = False

    def _should_open(self, breaker: _Breaker) -> bool:
        policy = self._policy
        if breaker.consecutive >= policy.consecutive_failures:
            return True
        calls = len(breaker.calls)
        if calls < policy.min_requests:
            return False
        failures = sum(1 for _, ok in breaker.calls if not ok)
        return failures / calls >= policy.error_rate

    def _open(
        self,
        deployment_id: str,
        breaker: _Breaker,
        now: float,
        retry_after_s: float | None,
        *,
        escalate: bool,
    ) -> None:
        policy = self._policy
        if escalate and breaker.cooldown_s > 0:
            cooldown = min(breaker.cooldown_s * 2, policy.max_cooldown_s)
        else:
            cooldown = policy.cooldown_s
        breaker.cooldown_s = cooldown
        if retry_after_s is not None and retry_after_s > 0:
            # The provider said when to come back: believe it (bounded like our own cooldown).
            cooldown = min(retry_after_s, policy.max_cooldown_s)
        breaker.open_until = now + cooldown
        self._move(deployment_id, breaker, BreakerState.OPEN)

    def _note(self, breaker: _Breaker, now: float, *, ok: bool) -> None:
        breaker.calls.append((now, ok))
        horizon = now - self._policy.window_s
        while breaker.calls and breaker.calls[0][0] < horizon:
            breaker.calls.popleft()

    def _move(self, deployment_id: str, breaker: _Breaker, state: BreakerState) -> None:
        if breaker.state is state:
            return
        breaker.state = state
        if self._on_transition is not None:
            self._on_transition(deployment_id, state)
