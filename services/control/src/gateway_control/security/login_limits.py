"""Login attempt limits, per email and per client address, counted in Redis.

Failed sign-ins increment two fixed-window counters (`gw:ctl:login:email:{sha256(email)}` and
`gw:ctl:login:ip:{address}`); once either reaches its limit, further attempts are refused with
429 and Retry-After before any password is checked, so guessing costs the attacker the window.
A successful sign-in clears the email's counter. Emails are hashed so Redis holds no addresses.
If Redis is unreachable the limit is not enforced (logged): sign-in must not depend on a cache,
and argon2id still makes each guess expensive.
"""

from __future__ import annotations

import hashlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway_control.errors import RateLimitedError

log = logging.getLogger(__name__)

_INCREMENT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


def _email_key(email: str) -> str:
    return "gw:ctl:login:email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _ip_key(ip: str) -> str:
    return f"gw:ctl:login:ip:{ip}"


class LoginRateLimiter:
    """Counts failed sign-ins and refuses attempts over the limits."""

    def __init__(self, redis: Redis, *, per_email: int, per_ip: int, window_s: int) -> None:
        self._redis = redis
        self._per_email = per_email
        self._per_ip = per_ip
        self._window_s = window_s
        self._increment = redis.register_script(_INCREMENT)

    async def check(self, email: str, ip: str | None) -> None:
        """Raise RateLimitedError when the email or the address used up its failed attempts."""
        keys = [(_email_key(email), self._per_email)]
        if ip:
            keys.append((_ip_key(ip), self._per_ip))
        try:
            for key, limit in keys:
                count = await self._redis.get(key)
                if count is not None and int(count) >= limit:
                    ttl = await self._redis.ttl(key)
                    raise RateLimitedError(
                        "too many failed sign-in attempts; try again later", retry_after_s=max(int(ttl), 1)
                    )
        except (RedisError, OSError) as exc:
            log.warning("login rate limit not checked (Redis unreachable): %s", exc)

    async def failed(self, email: str, ip: str | None) -> None:
        """Count one failed attempt against the email and the address."""
        keys = [_email_key(email)] + ([_ip_key(ip)] if ip else [])
        try:
            for key in keys:
                await self._increment(keys=[key], args=[self._window_s])
        except (RedisError, OSError) as exc:
            log.warning("failed login not counted (Redis unreachable): %s", exc)

    async def succeeded(self, email: str) -> None:
        """Forget the email's failed attempts."""
        try:
            await self._redis.delete(_email_key(email))
        except (RedisError, OSError) as exc:
            log.warning("login counter not cleared (Redis unreachable): %s", exc)
