"""The budgets and alert channels control defines, held in memory and refreshed on an interval.

Budgets change rarely and are read on every settled batch, so they are cached: `refresh` reads
them from control's tables (control_catalog.py) every ACCOUNTING_BUDGET_REFRESH_S seconds. A
failed refresh keeps the last good copy. Without the control schema (separate databases) the
book stays empty and says so once in the log.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict

from gateway_accounting.budgets.control_catalog import (
    AlertChannel,
    Budget,
    ControlSchemaMissing,
    load_alert_channels,
    load_budgets,
)
from gateway_accounting.db.connection import Executor

log = logging.getLogger(__name__)


class BudgetBook:
    """An in-memory copy of control's budgets and enabled alert channels."""

    def __init__(self) -> None:
        self._budgets: tuple[Budget, ...] = ()
        self._by_scope: dict[uuid.UUID, tuple[Budget, ...]] = {}
        self._by_id: dict[uuid.UUID, Budget] = {}
        self._channels: dict[uuid.UUID, AlertChannel] = {}
        self._schema_missing_logged = False
        self.loaded = False

    @property
    def budgets(self) -> tuple[Budget, ...]:
        """Every budget, ordered by id."""
        return self._budgets

    async def refresh(self, conn: Executor) -> None:
        """Reload budgets and channels; raises the database's errors (the caller retries later)."""
        try:
            budgets = await load_budgets(conn)
            channels = await load_alert_channels(conn)
        except ControlSchemaMissing as exc:
            if not self._schema_missing_logged:
                log.warning(
                    "control's budget tables are not in accounting's database; budgets are off: %s", exc
                )
                self._schema_missing_logged = True
            budgets, channels = [], []
        self.replace(budgets, channels)

    def replace(self, budgets: list[Budget], channels: list[AlertChannel]) -> None:
        """Swap in a new copy of budgets and channels."""
        by_scope: defaultdict[uuid.UUID, list[Budget]] = defaultdict(list)
        for budget in budgets:
            by_scope[budget.scope_id].append(budget)
        self._budgets = tuple(budgets)
        self._by_scope = {scope_id: tuple(items) for scope_id, items in by_scope.items()}
        self._by_id = {budget.id: budget for budget in budgets}
        self._channels = {channel.id: channel for channel in channels}
        self.loaded = True

    def affecting(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> tuple[Budget, ...]:
        """The budgets a request of this tenant and key counts against."""
        tenant = tuple(b for b in self._by_scope.get(tenant_id, ()) if b.scope == "tenant")
        key = tuple(b for b in self._by_scope.get(key_id, ()) if b.scope == "key")
        return tenant + key

    def for_scope(self, scope_id: uuid.UUID | None) -> tuple[Budget, ...]:
        """The budgets of one tenant or key (every budget for None)."""
        if scope_id is None:
            return self._budgets
        return self._by_scope.get(scope_id, ())

    def budget(self, budget_id: uuid.UUID) -> Budget | None:
        """The budget with this id, if control still defines it."""
        return self._by_id.get(budget_id)

    def knows(self, budget_id: str) -> bool:
        """Whether the budget with this id (as text, from a usage event) is in the book."""
        try:
            return uuid.UUID(budget_id) in self._by_id
        except ValueError:
            return True  # not a budget id control could have made: nothing to reload for

    def channel(self, channel_id: uuid.UUID) -> AlertChannel | None:
        """The enabled channel with this id, if any."""
        return self._channels.get(channel_id)

    def channels_for(self, budget: Budget) -> list[AlertChannel]:
        """Where a budget's alerts go: its tenant's channels, then the platform-wide ones."""
        own = [
            c
            for c in self._channels.values()
            if budget.tenant_id is not None and c.tenant_id == budget.tenant_id
        ]
        platform = [c for c in self._channels.values() if c.tenant_id is None]
        return own + platform
