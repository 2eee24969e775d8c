"""Prometheus metrics of the accounting service, in a registry owned by the app's state.

A registry per app (not the process-global one) lets tests build several apps in one process
without "duplicated timeseries" errors, and keeps metrics part of the lifespan state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from gateway_accounting.events import UsageRow


def _registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


@dataclass
class AccountingMetrics:
    """The consumer's counters and the batch latency histogram."""

    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.events_consumed = Counter(
            "gateway_accounting_events_consumed", "Usage messages fetched from JetStream", registry=r
        )
        self.rows_inserted = Counter(
            "gateway_accounting_rows_inserted", "Usage rows newly written", registry=r
        )
        self.duplicates = Counter(
            "gateway_accounting_duplicates",
            "Usage events whose request_id was already stored (redeliveries, replays)",
            registry=r,
        )
        self.poison_messages = Counter(
            "gateway_accounting_poison_messages",
            "Messages terminated because they can never be stored",
            registry=r,
        )
        self.dead_letters = Counter(
            "gateway_accounting_dead_letters",
            "Usage messages dead-lettered, by kind (poison, refused, max_deliveries): alert on any",
            ["kind"],
            registry=r,
        )
        self.errors = Counter(
            "gateway_accounting_errors",
            "Failures by kind (nats, postgres, ack, internal, budgets, redis)",
            ["kind"],
            registry=r,
        )
        self.budget_alerts = Counter(
            "gateway_accounting_budget_alerts",
            "Budget thresholds crossed (claimed once per period)",
            registry=r,
        )
        self.alert_deliveries = Counter(
            "gateway_accounting_alert_deliveries",
            "Alert deliveries finished, by channel kind and status (sent, failed)",
            ["kind", "status"],
            registry=r,
        )
        self.budget_counter_rebuilds = Counter(
            "gateway_accounting_budget_counter_rebuilds",
            "Redis budget counters rebuilt from Postgres",
            registry=r,
        )
        self.budget_counter_corrections = Counter(
            "gateway_accounting_budget_counter_corrections",
            "Redis budget counters corrected by the reconcile (persistent drift)",
            registry=r,
        )
        self.batch_seconds = Histogram(
            "gateway_accounting_batch_duration_seconds",
            "Time from a batch's fetch to its acks",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=r,
        )

        self.tokens = Counter(
            "gateway_accounting_tokens",
            "Tokens of usage rows newly stored, by model alias and kind (prompt, completion)",
            ["model", "kind"],
            registry=r,
        )
        self.spend = Counter(
            "gateway_accounting_spend_micro_usd",
            "Cost of usage rows newly stored, in micro-USD, by model alias",
            ["model"],
            registry=r,
        )
        self.consumer_pending = Gauge(
            "gateway_accounting_consumer_pending_messages",
            "Usage messages waiting in JetStream for this consumer (lag), as of the last fetch",
            registry=r,
        )

    def count_stored(self, rows: Sequence[UsageRow]) -> None:
        """Add rows stored for the first time to the token and spend counters."""
        for row in rows:
            self.tokens.labels(row.model, "prompt").inc(row.prompt_tokens)
            self.tokens.labels(row.model, "completion").inc(row.completion_tokens)
            self.spend.labels(row.model).inc(row.cost_micro_usd)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of this registry and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
