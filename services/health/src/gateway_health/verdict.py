"""The health verdict: from a deployment's previous `DeploymentHealth` and one new probe, the next.

Pure and clock-free (the probe's own `at` is "now"), so every prober replica — and a lease
holder taking over from another — reaches the same verdict from the same KV record.

The rule, with N = HEALTH_WINDOW, K = HEALTH_UNHEALTHY_AFTER, C = HEALTH_COOLDOWN_S:

- `recent` keeps the last HEALTH_HISTORY probe results, newest last (for the UI); the verdict
  reads only the last N of them.
- A HEALTHY (or not yet judged) deployment turns UNHEALTHY when, among the results that count,
  more than half failed, or the last K all failed. `cooldown_until` is then set to now + C.
  A deployment's very first probe therefore decides: one failure with no success on record is a
  failed majority — there is no evidence the deployment ever worked.
- An UNHEALTHY deployment stays UNHEALTHY until `cooldown_until`. The first probe at or after it
  decides (a circuit breaker's half-open probe): success -> HEALTHY, failure -> UNHEALTHY with a
  fresh cooldown.
- Results older than the last `cooldown_until` do not count towards turning unhealthy again: a
  recovery starts from a clean slate, otherwise the failures that caused the cooldown would
  trip it again on the next probe. They stay in `recent` for the UI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway_proto.v1.health_pb2 import (
    HEALTH_STATUS_HEALTHY,
    HEALTH_STATUS_UNHEALTHY,
    DeploymentHealth,
    HealthStatus,
    ProbeResult,
)
from google.protobuf.timestamp_pb2 import Timestamp


@dataclass(frozen=True, slots=True)
class HealthRules:
    """The knobs of the verdict: window size N, consecutive failures K and the cooldown."""

    window: int
    unhealthy_after: int
    cooldown: timedelta
    # Results kept in `recent` for the UI; 0 keeps exactly the window.
    history: int = 0

    def __post_init__(self) -> None:
        if self.window < 1 or not 1 <= self.unhealthy_after <= self.window:
            raise ValueError("need window >= 1 and 1 <= unhealthy_after <= window")
        if self.history and self.history < self.window:
            raise ValueError("need history >= window (or 0 for history = window)")

    @property
    def kept(self) -> int:
        """How many results `recent` keeps: the history, at least the window."""
        return max(self.history, self.window)


def to_datetime(ts: Timestamp) -> datetime:
    """A protobuf Timestamp as an aware UTC datetime."""
    return ts.ToDatetime(tzinfo=UTC)


def timestamp(at: datetime) -> Timestamp:
    """An aware datetime as a protobuf Timestamp."""
    ts = Timestamp()
    ts.FromDatetime(at)
    return ts


def is_failing(results: Sequence[ProbeResult], unhealthy_after: int) -> bool:
    """Whether more than half of `results` failed or the last `unhealthy_after` all failed."""
    if not results:
        return False
    failures = sum(1 for r in results if not r.ok)
    if 2 * failures > len(results):
        return True
    tail = results[-unhealthy_after:]
    return len(tail) == unhealthy_after and not any(r.ok for r in tail)


def record_probe(
    previous: DeploymentHealth | None,
    deployment_id: str,
    result: ProbeResult,
    rules: HealthRules,
    prober: str,
) -> DeploymentHealth:
    """Return the deployment's next health record after `result` (see the module docstring)."""
    now = to_datetime(result.at)
    recent = [*(previous.recent if previous is not None else ()), result][-rules.kept :]
    cooldown_until = (
        to_datetime(previous.cooldown_until)
        if previous is not None and previous.HasField("cooldown_until")
        else None
    )
    was_unhealthy = previous is not None and previous.status == HEALTH_STATUS_UNHEALTHY

    status: HealthStatus.ValueType
    if was_unhealthy and cooldown_until is not None and now < cooldown_until:
        status = HEALTH_STATUS_UNHEALTHY
    elif was_unhealthy:
        status = HEALTH_STATUS_HEALTHY if result.ok else HEALTH_STATUS_UNHEALTHY
    else:
        window = recent[-rules.window :]
        counted = [r for r in window if cooldown_until is None or to_datetime(r.at) >= cooldown_until]
        status = (
            HEALTH_STATUS_UNHEALTHY if is_failing(counted, rules.unhealthy_after) else HEALTH_STATUS_HEALTHY
        )

    turned_or_stayed_down_after_cooldown = status == HEALTH_STATUS_UNHEALTHY and (
        not was_unhealthy or cooldown_until is None or now >= cooldown_until
    )
    if turned_or_stayed_down_after_cooldown:
        cooldown_until = now + rules.cooldown

    health = DeploymentHealth(
        deployment_id=deployment_id,
        status=status,
        checked_at=result.at,
        recent=recent,
        prober=prober,
    )
    if cooldown_until is not None:
        health.cooldown_until.CopyFrom(timestamp(cooldown_until))
    return health
