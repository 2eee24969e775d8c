"""The platform's rate-limit defaults, stored in the settings row `default_rate_limits`.

The value is a JSON object `{"key": {...}, "tenant": {...}}`, each with `rpm`, `tpm` and
`max_parallel` (0 or missing: no default from control, the proxy's `DEFAULT_*` setting applies).
The publisher copies them into the snapshot's `default_key_limits` / `default_tenant_limits`.
"""

from __future__ import annotations

from typing import Final

from gateway_proto.v1 import config_pb2

from gateway_control.database import Connection
from gateway_control.db import settings as setting_queries

RATE_LIMIT_DEFAULTS_KEY: Final = "default_rate_limits"
SCOPES: Final = ("key", "tenant")
FIELDS: Final = ("rpm", "tpm", "max_parallel")

LimitDefaults = dict[str, dict[str, int]]
"""Scope ("key" / "tenant") -> field ("rpm" / "tpm" / "max_parallel") -> value (0: unset)."""


def _scope(value: object) -> dict[str, int]:
    source = value if isinstance(value, dict) else {}
    picked: dict[str, int] = {}
    for name in FIELDS:
        field = source.get(name)
        picked[name] = field if isinstance(field, int) and field > 0 else 0
    return picked


async def load_rate_limit_defaults(conn: Connection) -> LimitDefaults:
    """The stored defaults, every scope and field present (0 where none is set)."""
    row = await setting_queries.get_setting(conn, key=RATE_LIMIT_DEFAULTS_KEY)
    stored = row.value if row is not None and isinstance(row.value, dict) else {}
    return {scope: _scope(stored.get(scope)) for scope in SCOPES}


async def store_rate_limit_defaults(conn: Connection, defaults: LimitDefaults) -> None:
    """Replace the stored defaults."""
    value = {scope: _scope(defaults.get(scope)) for scope in SCOPES}
    await setting_queries.upsert_setting(conn, key=RATE_LIMIT_DEFAULTS_KEY, value=value)


def to_proto(defaults: LimitDefaults, scope: str) -> config_pb2.RateLimits:
    """One scope's defaults as the snapshot carries them."""
    return config_pb2.RateLimits(**_scope(defaults.get(scope)))
