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
    degraded: set[str] = field(default_factory=set)
    _last: dict[str, bool] = field(default_factory=dict)
    _needed_once: set[str] = field(default_factory=set)
    _passed_once: set[str] = field(default_factory=set)

    def add(self, name: str, check: Check, *, needed_once: bool = False) -> None:
        """Register a check; it returns True when the dependency is usable.

        A `needed_once` dependency gates readiness only until it has been reached once: after
        that an outage marks it degraded instead (the proxy serves from memory while NATS or Redis
        is away, and pulling every replica out of its Service would turn a partial outage into a
        full one).
        """
        self.checks[name] = check
        if needed_once:
            self._needed_once.add(name)

    async def evaluate(self) -> dict[str, bool]:
        """Run every check concurrently and return name -> ready, logging transitions."""
        names = list(self.checks)
        results = await asyncio.gather(*(self._run(self.checks[n]) for n in names))
        state = dict(zip(names, results, strict=True))
        self._passed_once.update(name for name, ok in state.items() if ok)
        self.degraded = {
            n for n, ok in state.items() if not ok and n in self._needed_once & self._passed_once
        }
        for name, ok in state.items():
            if self._last.get(name) != ok:
                if ok:
                    log.info("dependency ready: %s", name, extra={"dependency": name})
                else:
                    log.error("dependency NOT ready: %s", name, extra={"dependency": name})
        self._last = state
        return {name: ok or name in self.degraded for name, ok in state.items()}

    async def _run(self, check: Check) -> bool:
        try:
            return await asyncio.wait_for(check(), self.timeout_s)
        except (TimeoutError, OSError, ConnectionError) as exc:
            log.debug("readiness check failed: %s", exc)
            return False
