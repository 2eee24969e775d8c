"""Prometheus instruments of the control service (HTTP metrics come from Litestar's middleware).

Collectors live at module level on purpose: Prometheus registries are process-wide, and
defining them per app instance would register duplicates when an app is built twice.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SNAPSHOT_PUBLISHES = Counter(
    "gateway_control_snapshot_publishes_total",
    "Config snapshot publish attempts by result (published, stale, failed).",
    ["result"],
)
SNAPSHOT_REVISION = Gauge(
    "gateway_control_snapshot_revision",
    "Revision of the last config snapshot this instance published.",
)
KEY_RECORD_WRITES = Counter(
    "gateway_control_key_record_writes_total",
    "Key records written to Redis by result (written, failed).",
    ["result"],
)
KEY_REPOPULATIONS = Counter(
    "gateway_control_key_repopulations_total",
    "Times every active key record was rewritten because Redis had lost them.",
)
KEY_RECORDS_PENDING = Gauge(
    "gateway_control_key_records_pending",
    "Key records waiting to be written to Redis after a failed write.",
)
