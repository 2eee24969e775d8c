"""The proxy's hold on configuration: the newest `RuntimeConfig`, rebuilt per ConfigSnapshot.

`SnapshotFollower` (gateway_common) follows NATS KV and refuses snapshots it does not
understand; `ConfigHolder.apply` is its callback and swaps in the re-indexed config in one
assignment, so a request sees either the old or the new config, never a mix.
"""

from __future__ import annotations

import logging

from gateway_common.sealing import DataPlaneKeys
from gateway_proto.v1.config_pb2 import ConfigSnapshot

from gateway_proxy.errors import ServiceUnavailable
from gateway_proxy.runtime import RuntimeConfig, Timeouts, build_runtime_config

log = logging.getLogger(__name__)


class ConfigHolder:
    """Holds the current RuntimeConfig (None until the first snapshot arrives)."""

    def __init__(self, keys: DataPlaneKeys, defaults: Timeouts) -> None:
        self._keys = keys
        self._defaults = defaults
        self.current: RuntimeConfig | None = None

    def apply(self, snapshot: ConfigSnapshot) -> None:
        """Index `snapshot` and make it current (SnapshotFollower's on_snapshot callback).

        A snapshot that cannot be indexed is logged and the previous config kept, like a
        snapshot with an unknown schema_version: serving stale config beats serving none.
        """
        try:
            config = build_runtime_config(snapshot, self._keys, self._defaults)
        except Exception:
            log.exception("could not index config snapshot; keeping the current one")
            return
        self.current = config
        log.info(
            "config indexed",
            extra={
                "revision": snapshot.revision,
                "models": len(self.current.models_by_name),
                "unusable_providers": sorted(self.current.unusable_providers),
            },
        )

    def require(self) -> RuntimeConfig:
        """The current config; 503 `no_config` while none has been received."""
        config = self.current
        if config is None:
            raise ServiceUnavailable(
                "The gateway has not received its configuration yet; retry shortly.", code="no_config"
            )
        return config
