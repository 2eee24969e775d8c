"""Per-process rate limits for when Redis cannot be reached: `LocalLimiter`.

The same sliding-window logs as `limits.lua`, kept in memory, with every limit divided by the
number of proxy replicas (`PROXY_REPLICAS`, rounded up, at least 1), so that the replicas
together stay near the shared limit while each enforces its share alone. Results have the
script's shape, so `limits.rate_header_pairs` and `limits.refusal` read both.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Scopes not seen for this long are forgotten, so the maps stay bounded by recent traffic.
_MAX_SCOPES = 100_000


@dataclass(slots=True)
class _Scope:
    requests: deque[tuple[float, str]] = field(default_factory=deque)
    tokens: deque[tuple[float, str]] = field(default_factory=deque)
    token_counts: dict[str, int] = field(default_factory=dict)
    token_sum: int = 0
    leases: dict[str, float] = field(default_factory=dict)


class LocalLimiter:
    """Sliding-window limits in process memory, each limit ÷ replicas."""

    def __init__(
        self,
        *,
        replicas: int,
        lease_ttl_s: float,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._replicas = replicas
        self._lease_ttl_s = lease_ttl_s
        self._window_s = window_s
        self._clock = clock
        self._scopes: dict[str, _Scope] = {}

    def share(self, limit: int) -> int:
        """This replica's share of a shared limit (0 stays unlimited)."""
        return 0 if limit <= 0 else max(1, math.ceil(limit / self._replicas))

    def admit(self, lease_id: str, keys: Sequence[str], limits: Sequence[int], tokens: int) -> list[object]:
        """Check and record one request; the result has `limits.lua`'s shape."""
        now = self._clock()
        window_ms = int(self._window_s * 1000)
        scopes = [self._scope(keys[0]), self._scope(keys[4])]
        req, tok = [0, 0, 0], [0, 0, 0]  # limit, remaining, reset_ms of the tightest scope
        for index, scope in enumerate(scopes):
            name = ("key", "tenant")[index]
            rpm, tpm, par = (self.share(v) for v in limits[index * 3 : index * 3 + 3])
            self._prune(scope, now)
            if rpm:
                reset = self._reset_ms(scope.requests, now)
                if len(scope.requests) >= rpm:
                    return [0, f"{name}_rpm", reset, rpm, 0, reset, 0, 0, 0]
                if not req[0] or rpm - len(scope.requests) - 1 < req[1]:
                    req = [rpm, rpm - len(scope.requests) - 1, reset]
            if tpm:
                if tokens > tpm:
                    return [0, f"{name}_tpm_request_too_large", window_ms, 0, 0, 0, tpm, 0, window_ms]
                if scope.token_sum + tokens > tpm:
                    retry = self._token_retry_ms(scope, tokens, tpm, now)
                    return [0, f"{name}_tpm", retry, 0, 0, 0, tpm, max(tpm - scope.token_sum, 0), retry]
                left = tpm - scope.token_sum - tokens
                if not tok[0] or left < tok[1]:
                    tok = [tpm, left, self._reset_ms(scope.tokens, now)]
            if par and len(scope.leases) >= par:
                return [0, f"{name}_max_parallel", 1000, *req, 0, 0, 0]
        for index, scope in enumerate(scopes):
            rpm, tpm, par = limits[index * 3 : index * 3 + 3]
            if rpm:
                scope.requests.append((now, lease_id))
            if tpm:
                scope.tokens.append((now, lease_id))
                scope.token_counts[lease_id] = tokens
                scope.token_sum += tokens
            if par:
                scope.leases[lease_id] = now + self._lease_ttl_s
        return [1, "", 0, *req, *tok]

    def release(self, lease_id: str, keys: Sequence[str], estimate: int, actual: int) -> None:
        """Free the lease and move the TPM entry from the estimate to the actual tokens."""
        for key in (keys[0], keys[4]):
            scope = self._scopes.get(key)
            if scope is None:
                continue
            scope.leases.pop(lease_id, None)
            if lease_id in scope.token_counts:
                scope.token_sum += actual - scope.token_counts[lease_id]
                scope.token_counts[lease_id] = actual

    def _scope(self, key: str) -> _Scope:
        scope = self._scopes.get(key)
        if scope is None:
            if len(self._scopes) >= _MAX_SCOPES:
                self._scopes.clear()
            scope = self._scopes[key] = _Scope()
        return scope

    def _prune(self, scope: _Scope, now: float) -> None:
        cutoff = now - self._window_s
        while scope.requests and scope.requests[0][0] <= cutoff:
            scope.requests.popleft()
        while scope.tokens and scope.tokens[0][0] <= cutoff:
            _, lease = scope.tokens.popleft()
            scope.token_sum -= scope.token_counts.pop(lease, 0)
        for lease, expiry in list(scope.leases.items()):
            if expiry <= now:
                del scope.leases[lease]

    def _reset_ms(self, log: deque[tuple[float, str]], now: float) -> int:
        if not log:
            return int(self._window_s * 1000)
        return int((log[0][0] + self._window_s - now) * 1000)

    def _token_retry_ms(self, scope: _Scope, tokens: int, tpm: int, now: float) -> int:
        freed = 0
        for admitted, lease in scope.tokens:
            freed += scope.token_counts.get(lease, 0)
            if scope.token_sum - freed + tokens <= tpm:
                return int((admitted + self._window_s - now) * 1000)
        return int(self._window_s * 1000)
