"""The health service's settings: the only module that reads the environment.

Loaded once at startup with `gateway_common.settings.load_settings(HealthSettings)`: a YAML file
(GATEWAY_CONFIG_FILE, top level then its `health:` section), then .env, then the environment.
Each field's environment name is its upper-case name (`health_probe_interval_s` ->
HEALTH_PROBE_INTERVAL_S). README.md lists them all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from gateway_common.sealing import DataPlaneKeys, SealingError
from gateway_common.settings import GatewaySettings
from pydantic import Field, field_validator, model_validator


class HealthSettings(GatewaySettings):
    """Frozen settings of gateway_health (defaults follow DESIGN.md: 60 s, window 5, 5 min)."""

    service_name: str = "health"

    nats_url: str = Field(min_length=1)
    # base64 of 32 bytes: opens the provider credentials sealed into the ConfigSnapshot.
    dataplane_key: str = Field(min_length=1, repr=False)
    dataplane_key_id: str = "dp1"

    health_host: str = "127.0.0.1"
    health_port: int = Field(default=8083, ge=1, le=65535)
    health_grpc_port: int = Field(default=50052, ge=1, le=65535)

    health_probe_interval_s: float = Field(default=60.0, gt=0)
    health_probe_timeout_s: float = Field(default=10.0, gt=0)
    # Each wait between two probes of a deployment is the interval times 1 ± this fraction.
    health_probe_jitter: float = Field(default=0.1, ge=0, le=0.5)
    health_window: int = Field(default=5, ge=1, le=100)
    # Probe results kept per deployment for the UI (`recent`); the verdict reads the last N of them.
    health_history: int = Field(default=50, ge=1, le=1000)
    # This many failed probes in a row turn a deployment unhealthy even without a failed majority.
    health_unhealthy_after: int = Field(default=2, ge=1)
    health_cooldown_s: float = Field(default=300.0, ge=0)
    # The in-memory view rebuilds itself from the KV bucket this often (it also follows a watch).
    health_view_resync_s: float = Field(default=30.0, gt=0)
    # How long a replica's probe lease on a deployment lasts without renewal; 0 = 3 probe intervals.
    health_lease_ttl_s: float = Field(default=0.0, ge=0)

    @field_validator("dataplane_key")
    @classmethod
    def _dataplane_key_opens(cls, value: str) -> str:
        try:
            DataPlaneKeys.from_base64("check", value)
        except SealingError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _ports_differ(self) -> Self:
        if self.health_port == self.health_grpc_port:
            raise ValueError("HEALTH_PORT and HEALTH_GRPC_PORT must differ")
        if self.health_unhealthy_after > self.health_window:
            raise ValueError("HEALTH_UNHEALTHY_AFTER cannot exceed HEALTH_WINDOW")
        if self.health_history < self.health_window:
            raise ValueError("HEALTH_HISTORY cannot be smaller than HEALTH_WINDOW")
        longest_wait = self.health_probe_interval_s * (1 + self.health_probe_jitter)
        if self.health_lease_ttl_s and self.health_lease_ttl_s <= longest_wait:
            # The holder renews once per probe: a shorter lease would lapse between two renewals.
            raise ValueError("HEALTH_LEASE_TTL_S must exceed the longest wait between two probes")
        return self

    @property
    def lease_ttl_s(self) -> float:
        """HEALTH_LEASE_TTL_S, or three probe intervals when it is 0."""
        return self.health_lease_ttl_s or 3 * self.health_probe_interval_s

    @property
    def cooldown(self) -> timedelta:
        """HEALTH_COOLDOWN_S as a timedelta."""
        return timedelta(seconds=self.health_cooldown_s)

    def dataplane_keys(self) -> DataPlaneKeys:
        """The keys that open sealed provider credentials (validated at load time)."""
        return DataPlaneKeys.from_base64(self.dataplane_key_id, self.dataplane_key)
