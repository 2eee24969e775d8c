"""Stack settings, read once from an explicit environment mapping at the entry point."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from gateway_devstack.errors import DevStackError


class StackMode(Enum):
    """How the servers are provided."""

    EMBEDDED = "embedded"
    CONTAINERS = "containers"


@dataclass(frozen=True)
class StackSettings:
    """Everything that decides what `start_stack` does.

    `root` holds data, logs, stack.json and the lock. A URL that is set replaces the
    matching embedded server. `durable=False` turns off fsync in Postgres (for tests:
    faster, and the data is thrown away anyway).
    """

    root: Path
    database_url: str | None = None
    redis_url: str | None = None
    nats_url: str | None = None
    mode: StackMode = StackMode.EMBEDDED
    durable: bool = True
    start_timeout: float = 60.0
    stop_timeout: float = 15.0

    @classmethod
    def from_env(cls, root: Path, env: Mapping[str, str], *, durable: bool = True) -> StackSettings:
        """Build settings from `env` (pass os.environ at the entry point).

        Reads DATABASE_URL, REDIS_URL and NATS_URL (empty counts as unset) and
        GATEWAY_STACK (`embedded`, the default, or `containers`).
        """
        mode_name = env.get("GATEWAY_STACK", "") or StackMode.EMBEDDED.value
        try:
            mode = StackMode(mode_name)
        except ValueError:
            choices = ", ".join(m.value for m in StackMode)
            raise DevStackError(f"GATEWAY_STACK={mode_name!r} is not one of: {choices}") from None
        return cls(
            root=root.resolve(),
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            nats_url=env.get("NATS_URL") or None,
            mode=mode,
            durable=durable,
        )
