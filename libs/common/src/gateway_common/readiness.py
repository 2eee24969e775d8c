"""Readiness: named dependency checks behind /readyz, with a log line on every state change."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]


@dataclass
class Readiness:
    """Holds the checks of one service; `evaluate` runs them all with a timeout each."""

    timeout_s: float = 1.0
    checks: dict[str, Check] = field(default_factory=dict)
    _last: dict[str, bool] = field(default_factory=dict)

    def add(self, name: str, check: Check) -> None:
        """Register a check; it returns True when the dependency is usable."""
        self.checks[name] = check

    async def evaluate(self) -> dict[str, bool]:
        """Run every check concurrently and return name -> ready, logging transitions."""
        names = list(self.checks)
        results = await asyncio.gather(*(self._run(self.checks[n]) for n in names))
        state = dict(zip(names, results, strict=True))
        for name, ok in state.items():
            if self._last.get(name) != ok:
                if ok:
                    log.info("dependency ready: %s", name, extra={"dependency": name})
                else:
                    log.error("dependency NOT ready: %s", name, extra={"dependency": name})
        self._last = state
        return state

    async def _run(self, check: Check) -> bool:
        try:
            return await asyncio.wait_for(check(), self.timeout_s)
        except (TimeoutError, OSError, ConnectionError) as exc:
            log.debug("readiness check failed: %s", exc)
            return False
