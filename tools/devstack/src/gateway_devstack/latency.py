"""Helpers of the end-to-end latency measurements: poll until a condition holds, then summarise.

Shared by the revocation test (revoke → refusal on every proxy) and the config-propagation test
(API change → the proxy serving it), so both compute their figures the same way.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


def poll_until(check: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.005) -> float:
    """Call `check` until it returns True; the monotonic time it did. AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(interval_s)
    raise AssertionError(f"{what}: not within {timeout_s}s")


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Nearest-rank percentiles of a set of latencies, in seconds."""

    count: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: list[float]) -> LatencySummary:
        """Summarise at least one sample."""
        ordered = sorted(samples)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        return cls(count=len(ordered), p50=statistics.median(ordered), p99=p99, max=ordered[-1])

    def __str__(self) -> str:
        return (
            f"{self.count} trials: p50 {self.p50 * 1000:.0f} ms, p99 {self.p99 * 1000:.0f} ms, "
            f"max {self.max * 1000:.0f} ms"
        )
