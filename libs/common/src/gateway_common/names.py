"""The names services share (DESIGN.md "Contracts"): NATS subjects, buckets, streams, Redis keys."""

from __future__ import annotations

CONFIG_BUCKET = "gateway_config"
CONFIG_KEY = "snapshot"
HEALTH_BUCKET = "gateway_health"
USAGE_STREAM = "USAGE"
USAGE_SUBJECT = "gateway.usage.v1"
KEY_INVALIDATE_SUBJECT = "gateway.keys.invalidate"

# The ConfigSnapshot schema this build understands; a snapshot with another version is refused.
SNAPSHOT_SCHEMA_VERSION = 1


def redis_key_record(digest: str) -> str:
    """Redis key holding the KeyRecord for a key digest."""
    return f"gw:key:{digest}"
