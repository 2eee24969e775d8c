"""Budget periods (the shared definition lives in gateway_common.budget_periods).

The proxy cuts the same periods to key its reservations, so the pure functions are shared
through libs/common; this module keeps accounting's import path.
"""

from gateway_common.budget_periods import (
    PERIODS,
    BudgetPeriod,
    InvalidPeriod,
    budget_period,
    start_of_day,
    zone,
)

__all__ = ["PERIODS", "BudgetPeriod", "InvalidPeriod", "budget_period", "start_of_day", "zone"]
