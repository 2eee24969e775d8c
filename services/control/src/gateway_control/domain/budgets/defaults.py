"""Default budgets: what DEFAULT_TENANT_BUDGET_MICRO_USD and DEFAULT_KEY_BUDGET_MICRO_USD give a
new tenant or key, in the same transaction that creates it.

A default is an ordinary budget once created (audited as `budget.create` by the same actor),
so an admin can change or delete it; later changes to the settings do not touch existing ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway_control.database import Connection
from gateway_control.domain.audit.services import Actor, record
from gateway_control.domain.budgets.repositories import BudgetRepository, BudgetTerms
from gateway_control.domain.budgets.schemas import DEFAULT_THRESHOLDS
from gateway_control.domain.budgets.services import checked_terms, to_budget
from gateway_control.publishing.publisher import ConfigPublisher
from gateway_control.settings import ControlSettings


@dataclass(frozen=True, slots=True)
class DefaultBudgets:
    """The default budget terms per scope (a limit of 0: no default) and where to publish them."""

    tenant_limit_micro_usd: int
    key_limit_micro_usd: int
    period: str
    timezone: str
    hard: bool
    publisher: ConfigPublisher

    @classmethod
    def from_settings(cls, settings: ControlSettings, publisher: ConfigPublisher) -> DefaultBudgets:
        """The defaults configured for this control process."""
        return cls(
            tenant_limit_micro_usd=settings.default_tenant_budget_micro_usd,
            key_limit_micro_usd=settings.default_key_budget_micro_usd,
            period=settings.default_budget_period,
            timezone=settings.default_budget_timezone,
            hard=settings.default_budget_hard,
            publisher=publisher,
        )

    async def apply(
        self, conn: Connection, actor: Actor, scope: str, scope_id: uuid.UUID, tenant_id: uuid.UUID
    ) -> bool:
        """Give a just-created tenant or key its default budget; False when there is none.

        The caller publishes (`published`) after its transaction commits.
        """
        limit = self.tenant_limit_micro_usd if scope == "tenant" else self.key_limit_micro_usd
        if limit <= 0:
            return False
        terms = checked_terms(
            BudgetTerms(
                limit_micro_usd=limit,
                period=self.period,
                rolling_days=None,
                timezone=self.timezone,
                hard=self.hard,
                thresholds=list(DEFAULT_THRESHOLDS),
            )
        )
        created = to_budget(await BudgetRepository(conn).create(scope, scope_id, terms), tenant_id)
        await record(conn, actor, "budget.create", "budget", created.id, after=created)
        return True

    def published(self) -> None:
        """Ask for a new snapshot carrying the budgets just committed (defaults, carried over)."""
        self.publisher.request("budget.default")
