"""Budget periods: which span of time a budget's spend is counted over, at a given moment.

Pure functions, no I/O. Calendar periods are cut in the budget's own IANA time zone:

- `daily`: local midnight to the next local midnight (23 or 25 hours long across DST changes);
- `weekly`: ISO weeks, local Monday midnight to the next Monday midnight;
- `monthly`: local midnight of the 1st to the 1st of the next month;
- `rolling` with N days: the last N local calendar days, today included — from local midnight
  N-1 days ago until the next local midnight, when the oldest day drops out. Counting whole days
  keeps the window's spend exact from the hourly rollup and gives it a fixed start (so a Redis
  counter can be keyed by it) at the cost of a window between N-1 and N days long.

"Local midnight" is the first instant of the local date: where a DST gap swallows midnight
(America/Santiago, for instance) the day starts at the transition; where midnight happens twice,
at the first one. Every period is returned as half-open `[start, end)` in UTC; `end` is also when
the budget resets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIODS = ("daily", "weekly", "monthly", "rolling")


class InvalidPeriod(ValueError):
    """A budget's period, rolling day count or time zone cannot be interpreted."""


@dataclass(frozen=True)
class BudgetPeriod:
    """A half-open span `[start, end)` in UTC; `end` is when the budget resets."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` (timezone-aware) falls inside the period."""
        return self.start <= moment < self.end


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; raises InvalidPeriod for a name that is not one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidPeriod(f"unknown time zone {name!r}") from exc


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) whose local date in `tz` is `day`.

    The wall time 00:00 is tried with both folds: in a DST gap one reading lands on the day
    before, in a repeated hour both are valid and the earlier one is the start.
    """
    candidates = []
    for fold in (0, 1):
        moment = datetime.combine(day, time(0), tzinfo=tz).replace(fold=fold).astimezone(UTC)
        if moment.astimezone(tz).date() == day:
            candidates.append(moment)
    if not candidates:  # pragma: no cover - no zone skips a whole day's first hour both ways
        raise InvalidPeriod(f"{day} has no midnight in {tz.key}")
    return min(candidates)


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def budget_period(period: str, timezone: str, now: datetime, rolling_days: int | None = None) -> BudgetPeriod:
    """The period of a budget (`period`, its time zone, `rolling_days` for `rolling`) containing `now`.

    `now` must be timezone-aware. Raises InvalidPeriod for an unknown period or zone, or a
    rolling period without a positive day count.
    """
    if now.tzinfo is None:
        raise InvalidPeriod("now must be timezone-aware")
    tz = zone(timezone)
    today = now.astimezone(tz).date()
    first: date
    after: date
    if period == "daily":
        first, after = today, today + timedelta(days=1)
    elif period == "weekly":
        first = today - timedelta(days=today.weekday())
        after = first + timedelta(days=7)
    elif period == "monthly":
        first = today.replace(day=1)
        after = _first_of_next_month(today)
    elif period == "rolling":
        if rolling_days is None or rolling_days < 1:
            raise InvalidPeriod("a rolling budget needs rolling_days >= 1")
        first, after = today - timedelta(days=rolling_days - 1), today + timedelta(days=1)
    else:
        raise InvalidPeriod(f"unknown budget period {period!r}; expected one of {', '.join(PERIODS)}")
    return BudgetPeriod(start_of_day(first, tz), start_of_day(after, tz))
