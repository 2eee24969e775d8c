"""The bench's rounds: what each cell reports is the median, and paired figures pair per round."""

from __future__ import annotations

import pytest
from gateway_bench.rounds import FloorRound, Measured, median_result, summarise, summarise_floor
from gateway_bench.wrk import WrkResult


def _wrk(rps: float, p50_ms: float, p99_ms: float = 0.0, errors: str = "") -> WrkResult:
    return WrkResult(rps, p50_ms, p99_ms, errors)


def test_each_field_is_its_own_median_and_errors_are_kept_once() -> None:
    results = [_wrk(100, 3.0, 9.0), _wrk(300, 1.0, 7.0, "Non-2xx or 3xx responses: 2"), _wrk(200, 2.0, 8.0)]
    results.append(_wrk(250, 4.0, 10.0, "Non-2xx or 3xx responses: 2"))

    median = median_result(results)

    assert (median.rps, median.p50_ms, median.p99_ms) == (225, 2.5, 8.5)
    assert median.errors == "Non-2xx or 3xx responses: 2"


def test_added_p50_pairs_each_round_before_the_median() -> None:
    # Round 2 ran on a slow minute for both sides: its added p50 is the same as round 1's.
    rounds = [
        Measured(_wrk(50_000, 0.10), _wrk(2_000, 0.60), 500.0),
        Measured(_wrk(30_000, 0.30), _wrk(1_000, 0.80), 900.0),
        Measured(_wrk(40_000, 0.20), _wrk(1_500, 0.90), 700.0),
    ]

    summary = summarise(rounds)

    assert summary.added_p50_ms == pytest.approx(0.5)  # rounds give 0.5, 0.5, 0.7
    assert summary.proxied.p50_ms - summary.direct.p50_ms == pytest.approx(0.6)  # unpaired differs
    assert summary.cpu_us_per_request == 700.0
    assert (summary.proxy_rps_low, summary.proxied.rps, summary.proxy_rps_high) == (1_000, 1_500, 2_000)
    assert summary.rounds == 3


def test_the_floor_ratios_use_each_rounds_own_floor() -> None:
    rounds = [
        FloorRound(_wrk(5_000, 0.20), _wrk(20_000, 3.0), proxy_c1_p50_ms=0.70, proxy_c64_rps=2_000),
        FloorRound(_wrk(2_500, 0.40), _wrk(10_000, 6.0), proxy_c1_p50_ms=0.90, proxy_c64_rps=1_000),
        FloorRound(_wrk(4_000, 0.25), _wrk(16_000, 4.0), proxy_c1_p50_ms=0.85, proxy_c64_rps=1_200),
    ]

    floor = summarise_floor(rounds)

    assert floor.c64_rps_ratio == pytest.approx(0.1)  # 0.1, 0.1 and 0.075
    assert floor.c1_p50_above_ms == pytest.approx(0.5)  # 0.5, 0.5 and 0.6
    assert floor.c64_us_above == pytest.approx(1e6 / 1_200 - 1e6 / 16_000)  # 450, 900 and 770.8
    assert floor.c64.rps == 16_000


def test_nothing_to_summarise_is_an_error() -> None:
    with pytest.raises(ValueError, match="no rounds"):
        summarise([])
    with pytest.raises(ValueError, match="no floor rounds"):
        summarise_floor([])
    with pytest.raises(ValueError, match="no results"):
        median_result([])
