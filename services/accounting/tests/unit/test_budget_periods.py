"""Budget periods: calendar periods in the budget's zone, DST-correct, and rolling windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from gateway_accounting.budgets.periods import BudgetPeriod, InvalidPeriod, budget_period


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_daily_in_utc() -> None:
    period = budget_period("daily", "UTC", utc(2026, 5, 14, 13, 7))
    assert period == BudgetPeriod(utc(2026, 5, 14), utc(2026, 5, 15))


def test_daily_on_the_spring_forward_day_is_23_hours() -> None:
    # New York springs forward on 2026-03-08 at 02:00 EST -> 03:00 EDT.
    period = budget_period("daily", "America/New_York", utc(2026, 3, 8, 12))
    assert period.start == utc(2026, 3, 8, 5)  # midnight EST
    assert period.end == utc(2026, 3, 9, 4)  # midnight EDT
    assert period.end - period.start == timedelta(hours=23)


def test_daily_on_the_fall_back_day_is_25_hours() -> None:
    # New York falls back on 2026-11-01 at 02:00 EDT -> 01:00 EST.
    period = budget_period("daily", "America/New_York", utc(2026, 11, 1, 6, 30))  # 01:30 EST, 2nd pass
    assert period.start == utc(2026, 11, 1, 4)
    assert period.end == utc(2026, 11, 2, 5)
    assert period.end - period.start == timedelta(hours=25)


def test_the_day_starts_at_the_transition_when_dst_swallows_midnight() -> None:
    # Santiago springs forward on 2026-09-06 at 00:00 (-04) -> 01:00 (-03): no local midnight.
    period = budget_period("daily", "America/Santiago", utc(2026, 9, 6, 15))
    assert period.start == utc(2026, 9, 6, 4)  # 01:00 -03, the first instant of the 6th
    assert period.end == utc(2026, 9, 7, 3)
    assert period.end - period.start == timedelta(hours=23)


def test_the_moment_just_before_local_midnight_belongs_to_the_old_day() -> None:
    before = budget_period("daily", "Asia/Tokyo", utc(2026, 5, 14, 14, 59, 59))
    after = budget_period("daily", "Asia/Tokyo", utc(2026, 5, 14, 15))
    assert before.end == after.start == utc(2026, 5, 14, 15)
    assert not before.contains(utc(2026, 5, 14, 15))
    assert after.contains(utc(2026, 5, 14, 15))


def test_weekly_is_an_iso_week_from_monday() -> None:
    # 2026-05-17 is a Sunday: its ISO week starts Monday 2026-05-11.
    period = budget_period("weekly", "UTC", utc(2026, 5, 17, 23, 59))
    assert period == BudgetPeriod(utc(2026, 5, 11), utc(2026, 5, 18))
    monday = budget_period("weekly", "UTC", utc(2026, 5, 18))
    assert monday.start == utc(2026, 5, 18)


def test_weekly_across_a_dst_change_is_167_hours() -> None:
    # Berlin springs forward on Sunday 2026-03-29; the week of Monday 23 March is an hour short.
    period = budget_period("weekly", "Europe/Berlin", utc(2026, 3, 25, 12))
    assert period.start == utc(2026, 3, 22, 23)  # Monday 00:00 CET
    assert period.end == utc(2026, 3, 29, 22)  # Monday 00:00 CEST
    assert period.end - period.start == timedelta(hours=167)


def test_monthly_across_month_and_year_ends() -> None:
    assert budget_period("monthly", "UTC", utc(2026, 1, 31, 23, 59)) == BudgetPeriod(
        utc(2026, 1, 1), utc(2026, 2, 1)
    )
    assert budget_period("monthly", "UTC", utc(2026, 12, 31, 12)) == BudgetPeriod(
        utc(2026, 12, 1), utc(2027, 1, 1)
    )
    leap = budget_period("monthly", "UTC", utc(2028, 2, 29, 12))
    assert leap.end - leap.start == timedelta(days=29)


def test_monthly_in_a_zone_ahead_of_utc_starts_the_previous_utc_day() -> None:
    # 2026-03-31 20:00 UTC is already 1 April in Tokyo.
    period = budget_period("monthly", "Asia/Tokyo", utc(2026, 3, 31, 20))
    assert period == BudgetPeriod(utc(2026, 3, 31, 15), utc(2026, 4, 30, 15))


def test_monthly_containing_a_dst_change() -> None:
    # Berlin's March 2026 is one hour short: 1 March 00:00 CET to 1 April 00:00 CEST.
    period = budget_period("monthly", "Europe/Berlin", utc(2026, 3, 15))
    assert period == BudgetPeriod(utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))


def test_rolling_is_the_last_n_local_days_including_today() -> None:
    period = budget_period("rolling", "UTC", utc(2026, 3, 2, 10), rolling_days=7)
    assert period == BudgetPeriod(utc(2026, 2, 24), utc(2026, 3, 3))
    one_day = budget_period("rolling", "America/New_York", utc(2026, 3, 8, 12), rolling_days=1)
    assert one_day == budget_period("daily", "America/New_York", utc(2026, 3, 8, 12))


def test_rolling_across_dst_counts_local_days() -> None:
    period = budget_period("rolling", "America/New_York", utc(2026, 3, 9, 12), rolling_days=2)
    assert period.start == utc(2026, 3, 8, 5)
    assert period.end == utc(2026, 3, 10, 4)


@pytest.mark.parametrize(
    ("period", "zone", "days", "message"),
    [
        ("hourly", "UTC", None, "unknown budget period"),
        ("daily", "Mars/Olympus", None, "unknown time zone"),
        ("rolling", "UTC", None, "rolling_days"),
        ("rolling", "UTC", 0, "rolling_days"),
    ],
)
def test_invalid_periods_are_refused(period: str, zone: str, days: int | None, message: str) -> None:
    with pytest.raises(InvalidPeriod, match=message):
        budget_period(period, zone, utc(2026, 1, 1), days)


def test_naive_now_is_refused() -> None:
    with pytest.raises(InvalidPeriod, match="timezone-aware"):
        budget_period("daily", "UTC", datetime(2026, 1, 1))
