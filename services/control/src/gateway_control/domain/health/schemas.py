"""Deployment health payloads for the UI: the verdict, the recent probes, and what is probed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

# gateway.v1.HealthStatus as the API spells it; "unknown" = not judged yet (never probed, or
# not in the published configuration because it, its model or its provider is disabled).
HealthStatusName = Literal["healthy", "unhealthy", "unknown"]


class ProbeResult(msgspec.Struct):
    """One active probe: when, whether it passed, the HTTP status (null: no answer), latency."""

    at: datetime | None
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str | None


class DeploymentHealth(msgspec.Struct):
    """A deployment's current health, with its names in control and its probe history.

    `recent` is oldest first; `cooldown_until` is when an unhealthy deployment may recover
    (after a recovery it stays set, in the past); `prober` is the health replica that probed it.
    """

    deployment_id: uuid.UUID
    model_id: uuid.UUID
    model: str
    provider_id: uuid.UUID
    provider: str
    provider_type: str
    upstream_model: str
    priority: int
    in_service: bool
    status: HealthStatusName
    checked_at: datetime | None
    cooldown_until: datetime | None
    prober: str | None
    recent: list[ProbeResult]


class DeploymentHealthList(msgspec.Struct):
    """Every deployment's health, by model name then priority."""

    items: list[DeploymentHealth]
