"""Accounting settings: the only module of the service that reads configuration.

Values come from the YAML file named by GATEWAY_CONFIG_FILE (top level, then its `accounting:`
section), then `.env`, then the environment, which wins. Each field's environment name is its
upper-cased name (`accounting_batch_size` <- ACCOUNTING_BATCH_SIZE).
"""

from __future__ import annotations

from typing import Literal

from gateway_common.settings import GatewaySettings
from pydantic import Field


class AccountingSettings(GatewaySettings):
    """Everything the accounting service can be told; frozen once loaded."""

    service_name: str = "accounting"

    # Postgres (usage rows, rollups) and NATS (the USAGE stream). Required: no sane default.
    database_url: str = Field(min_length=1)
    nats_url: str = Field(min_length=1)
    # Redis (Valkey) for the budget spend counters the proxy reserves against. Optional: without
    # it (or while it is down) budgets are still reported and alerted from Postgres.
    redis_url: str = ""

    accounting_host: str = "127.0.0.1"
    accounting_port: int = Field(default=8082, ge=1, le=65535)
    # Bound once per process: scale accounting with replicas, never with Granian workers.
    accounting_grpc_port: int = Field(default=50051, ge=1, le=65535)

    # Up to this many usage events are written in one transaction.
    accounting_batch_size: int = Field(default=500, ge=1, le=10_000)
    # How long one pull waits for messages before the loop looks around (shutdown, health).
    accounting_fetch_timeout_s: float = Field(default=1.0, gt=0, le=30)
    # JetStream redelivers a message not acked within this many seconds.
    accounting_ack_wait_s: float = Field(default=30.0, ge=1, le=3600)
    # Deliveries per message (first one included) before JetStream gives up on it. Generous, because
    # a crash mid-batch costs every message of that batch one delivery.
    accounting_max_deliver: int = Field(default=20, ge=2, le=1000)
    # asyncpg pool bounds; the consumer holds one connection, queries share the rest.
    accounting_db_pool_min: int = Field(default=1, ge=0, le=100)
    accounting_db_pool_max: int = Field(default=10, ge=2, le=200)
    # How long shutdown waits for the batch in flight before abandoning it to redelivery.
    accounting_shutdown_grace_s: float = Field(default=10.0, gt=0, le=300)

    # Budgets are read from control's tables this often; counters are reconciled with Postgres
    # (drift corrected, thresholds checked) on the longer interval.
    accounting_budget_refresh_s: float = Field(default=5.0, gt=0, le=3600)
    accounting_budget_reconcile_s: float = Field(default=30.0, gt=0, le=3600)

    # Webhook alerts: the HMAC-SHA256 signing secret when a channel has no `settings.secret`;
    # loopback, private, link-local and reserved targets are refused unless allowed here.
    alert_webhook_secret: str = ""
    alert_webhook_allow_private: bool = False
    alert_webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Deliveries per alert and channel (first included), with exponential backoff between them.
    alert_max_attempts: int = Field(default=5, ge=1, le=20)
    alert_retry_delay_s: float = Field(default=1.0, gt=0, le=300)

    # Email alerts: the SMTP relay (email alerts fail while the host is empty).
    alert_smtp_host: str = ""
    alert_smtp_port: int = Field(default=587, ge=1, le=65535)
    alert_smtp_from: str = "gateway-alerts@localhost"
    alert_smtp_username: str = ""
    alert_smtp_password: str = ""
    alert_smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    alert_smtp_timeout_s: float = Field(default=10.0, gt=0, le=120)
