"""The hard budgets of the ConfigSnapshot, indexed by the key or tenant they cap.

Built once per snapshot (`runtime.build_runtime_config`). Soft budgets only alert (accounting
sends those), so the proxy keeps the hard ones only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gateway_proto.v1.budget_pb2 import BUDGET_SCOPE_KEY, BUDGET_SCOPE_TENANT, BudgetLimit

_SCOPES = {BUDGET_SCOPE_KEY: "key", BUDGET_SCOPE_TENANT: "tenant"}


@dataclass(frozen=True, slots=True)
class HardBudget:
    """A budget the proxy enforces: at most `limit_micro_usd` per period of its scope."""

    id: str
    scope: str  # "key" or "tenant"
    scope_id: str
    limit_micro_usd: int
    period: str
    rolling_days: int | None
    timezone: str

    def describe(self) -> str:
        """How an error message names the budget: `the monthly budget of this API key`."""
        period = f"rolling {self.rolling_days}-day" if self.period == "rolling" else self.period
        owner = "API key" if self.scope == "key" else "organization"
        return f"the {period} budget of this {owner} (budget {self.id})"


@dataclass(frozen=True, slots=True)
class BudgetIndex:
    """Hard budgets by `key:<id>` and `tenant:<id>`."""

    by_scope: Mapping[str, tuple[HardBudget, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def applicable(self, key_id: str, tenant_id: str) -> tuple[HardBudget, ...]:
        """The hard budgets a request of this key counts against: its own, then its tenant's."""
        return self.by_scope.get(f"key:{key_id}", ()) + self.by_scope.get(f"tenant:{tenant_id}", ())


def index_budgets(budgets: Iterable[BudgetLimit]) -> BudgetIndex:
    """Index the snapshot's hard budgets (soft ones and unknown scopes are left out)."""
    by_scope: defaultdict[str, list[HardBudget]] = defaultdict(list)
    for budget in budgets:
        scope = _SCOPES.get(budget.scope)
        if scope is None or not budget.hard:
            continue
        by_scope[f"{scope}:{budget.scope_id}"].append(
            HardBudget(
                id=budget.id,
                scope=scope,
                scope_id=budget.scope_id,
                limit_micro_usd=budget.limit_micro_usd,
                period=budget.period,
                rolling_days=budget.rolling_days or None,
                timezone=budget.timezone or "UTC",
            )
        )
    return BudgetIndex(MappingProxyType({scope: tuple(items) for scope, items in by_scope.items()}))
