"""Several rounds of the bench, and what each cell of its table reports: the median over rounds.

A shared VM's speed drifts by a quarter within minutes, so one run per scenario reports wherever
the machine happened to be. `make bench BENCH_ARGS=--rounds=N` runs every scenario, and the
Granian floor, N times, round after round. Each cell is then the median over the rounds, the
proxy's RPS comes with its lowest and highest round, and every figure measured against something
else in the same round is paired first and then the median taken:
- the added p50 is the proxied p50 minus the direct p50 of the same round;
- the ratios to the floor use that round's floor.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from gateway_bench.wrk import WrkResult


@dataclass(frozen=True)
class Measured:
    """One scenario in one round: straight at the upstream, and through the proxy."""

    direct: WrkResult
    proxied: WrkResult
    cpu_us_per_request: float  # the worker's CPU (all its threads) over the proxied run

    @property
    def added_p50_ms(self) -> float:
        return self.proxied.p50_ms - self.direct.p50_ms


@dataclass(frozen=True)
class ScenarioSummary:
    """One scenario over all rounds: per-field medians, the paired added p50, the RPS spread."""

    direct: WrkResult
    proxied: WrkResult
    added_p50_ms: float
    cpu_us_per_request: float
    proxy_rps_low: float
    proxy_rps_high: float
    rounds: int


@dataclass(frozen=True)
class FloorRound:
    """The Granian floor in one round, and that round's proxy figures it is compared with."""

    c1: WrkResult
    c64: WrkResult
    proxy_c1_p50_ms: float
    proxy_c64_rps: float

    @property
    def c1_p50_above_ms(self) -> float:
        return self.proxy_c1_p50_ms - self.c1.p50_ms

    @property
    def c64_rps_ratio(self) -> float:
        return self.proxy_c64_rps / self.c64.rps

    @property
    def c64_us_above(self) -> float:
        """The core's µs per request the proxy takes above the floor at c=64."""
        return (1 / self.proxy_c64_rps - 1 / self.c64.rps) * 1e6


@dataclass(frozen=True)
class FloorSummary:
    """The floor over all rounds: medians of the floor's own figures and of the paired ones."""

    c1: WrkResult
    c64: WrkResult
    c1_p50_above_ms: float
    c64_rps_ratio: float
    c64_us_above: float


def median_result(results: Sequence[WrkResult]) -> WrkResult:
    """Each field's median over `results`; the distinct error lines of all of them."""
    if not results:
        raise ValueError("no results to summarise")
    errors = dict.fromkeys(result.errors for result in results if result.errors)
    return WrkResult(
        statistics.median(result.rps for result in results),
        statistics.median(result.p50_ms for result in results),
        statistics.median(result.p99_ms for result in results),
        "; ".join(errors),
    )


def summarise(rounds: Sequence[Measured]) -> ScenarioSummary:
    """One scenario's rounds as the table reports them."""
    if not rounds:
        raise ValueError("no rounds to summarise")
    proxy_rps = [measured.proxied.rps for measured in rounds]
    return ScenarioSummary(
        direct=median_result([measured.direct for measured in rounds]),
        proxied=median_result([measured.proxied for measured in rounds]),
        added_p50_ms=statistics.median(measured.added_p50_ms for measured in rounds),
        cpu_us_per_request=statistics.median(measured.cpu_us_per_request for measured in rounds),
        proxy_rps_low=min(proxy_rps),
        proxy_rps_high=max(proxy_rps),
        rounds=len(rounds),
    )


def summarise_floor(rounds: Sequence[FloorRound]) -> FloorSummary:
    """The floor's rounds, each paired with the proxy's figures of its own round."""
    if not rounds:
        raise ValueError("no floor rounds to summarise")
    return FloorSummary(
        c1=median_result([floor.c1 for floor in rounds]),
        c64=median_result([floor.c64 for floor in rounds]),
        c1_p50_above_ms=statistics.median(floor.c1_p50_above_ms for floor in rounds),
        c64_rps_ratio=statistics.median(floor.c64_rps_ratio for floor in rounds),
        c64_us_above=statistics.median(floor.c64_us_above for floor in rounds),
    )
