"""Idempotency-Key (IETF httpapi draft) for the POST endpoints: `IdempotencyStore`.

A request with `Idempotency-Key: <key>` (a structured-field string, quoted or bare, 1 to 255
characters) is scoped to the calling API key and fingerprinted (endpoint + canonical JSON body,
file parts by their SHA-256). The first request claims `gw:idem:{key_id}:{sha256(key)}` in
Redis (a hash: fingerprint, state, owner) and runs; its response (status, content type, body —
for a stream, the exact SSE bytes sent) is then stored there for `IDEMPOTENCY_TTL_S` (24 h) and
replayed to every later request with the same key and body, without reaching the provider or
producing a usage event. While the first one runs, a duplicate gets 409
`idempotency_key_in_use`; the same key with another body gets 422
`idempotency_key_reused` (either way, at any time).

Only complete 2xx responses are stored. A refused or failed request (rate limit, upstream
error, a stream that ended in an error event or that the client left, a response larger than
`IDEMPOTENCY_MAX_BYTES`) releases its claim, so the client may retry with the same key. A claim
whose proxy died is released by its TTL (the total request timeout plus a margin).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.responses import Response

from gateway_proxy.errors import GatewayError, InvalidRequest, ServiceUnavailable

log = logging.getLogger(__name__)

HEADER = "idempotency-key"
REPLAYED_HEADER = "idempotent-replayed"
_MAX_KEY_LENGTH = 255
_STORED_HEADERS = ("content-type", "content-encoding")

# Claim the key, or return what is there: {fingerprint, state, status, headers, body}.
_BEGIN_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HMGET', KEYS[1], 'fp', 'state', 'status', 'headers', 'body')
end
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'state', 'pending', 'owner', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return false
"""
# Store the response, only if this request still owns the claim.
_COMPLETE_LUA = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'headers', ARGV[3], 'body', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""
# Release an unfinished claim, only if this request owns it.
_ABANDON_LUA = """
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == 'pending' then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class IdempotencyConflict(GatewayError):
    """409: a request with this Idempotency-Key is still being served."""

    status = 409
    type = "invalid_request_error"
    code = "idempotency_key_in_use"


class IdempotencyMismatch(GatewayError):
    """422: this Idempotency-Key was used with a different request body."""

    status = 422
    type = "invalid_request_error"
    code = "idempotency_key_reused"


@dataclass(frozen=True, slots=True)
class Claim:
    """This request owns the key: run it, then `complete` or `abandon`."""

    redis_key: str
    owner: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A recorded first response, replayed byte for byte."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def response(self) -> Response:
        """The replay, flagged with `idempotent-replayed: true`."""
        response = Response(self.body, status_code=self.status)
        response.raw_headers = [
            *[(k.encode(), v.encode()) for k, v in self.headers],
            (b"content-length", str(len(self.body)).encode()),
            (REPLAYED_HEADER.encode(), b"true"),
        ]
        return response


def read_key(headers: Mapping[str, str]) -> str | None:
    """The Idempotency-Key of a request (quotes of the sf-string removed), None when absent.

    An empty or over-long key is 400 `invalid_idempotency_key`.
    """
    raw = headers.get(HEADER)
    if raw is None:
        return None
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not 1 <= len(value) <= _MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"The Idempotency-Key header must be 1 to {_MAX_KEY_LENGTH} characters.",
            param=HEADER,
            code="invalid_idempotency_key",
        )
    return value


def fingerprint(endpoint: str, body: Mapping[str, object]) -> str:
    """SHA-256 of the endpoint and the canonical (sorted-key) JSON of the parsed body."""

    def canonical(value: object) -> object:
        if isinstance(value, bytes):
            return hashlib.sha256(value).hexdigest()
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
        raise TypeError(f"cannot fingerprint {type(value).__name__}")

    encoded = orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=canonical)
    return hashlib.sha256(endpoint.encode() + b"\n" + encoded).hexdigest()


def storable_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """The response headers worth replaying (content type and encoding)."""
    return [(k.decode().lower(), v.decode()) for k, v in raw if k.decode().lower() in _STORED_HEADERS]


class IdempotencyStore:
    """Claims, records and replays responses in Redis under `gw:idem:*`."""

    def __init__(self, redis: aioredis.Redis, *, ttl_s: int, lock_ttl_s: float, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._ttl_ms = ttl_s * 1000
        self._lock_ttl_ms = int(lock_ttl_s * 1000)
        self._begin = redis.register_script(_BEGIN_LUA)
        self._complete = redis.register_script(_COMPLETE_LUA)
        self._abandon = redis.register_script(_ABANDON_LUA)

    async def begin(self, key_id: str, key: str, print_: str, owner: str) -> Claim | StoredResponse:
        """Claim `key` for this request, or return the stored response to replay.

        Raises 409 while another request holds the key, 422 when it was used with another
        body, 503 when Redis cannot answer (the request is not run without its guarantee).
        """
        redis_key = f"gw:idem:{key_id}:{hashlib.sha256(key.encode()).hexdigest()}"
        try:
            found = await self._begin(keys=[redis_key], args=[print_, owner, self._lock_ttl_ms])
        except (RedisError, OSError) as exc:
            raise ServiceUnavailable(
                "The gateway cannot check the Idempotency-Key right now; retry shortly.",
                code="idempotency_store_unavailable",
            ) from exc
        if not found:
            return Claim(redis_key, owner)
        stored_print, state, status, headers, body = found
        if stored_print is None or stored_print.decode() != print_:
            raise IdempotencyMismatch("This Idempotency-Key was already used with a different request.")
        if state != b"done":
            raise IdempotencyConflict("A request with this Idempotency-Key is still being processed.")
        pairs = orjson.loads(headers or b"[]")
        return StoredResponse(int(status), [(str(k), str(v)) for k, v in pairs], bytes(body or b""))

    async def complete(self, claim: Claim, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        """Store the first response for replay (errors logged: the claim then expires)."""
        try:
            await self._complete(
                keys=[claim.redis_key],
                args=[claim.owner, status, orjson.dumps(headers), body, self._ttl_ms],
            )
        except (RedisError, OSError) as exc:
            log.error("could not store an idempotent response: %r", exc)

    async def abandon(self, claim: Claim) -> None:
        """Release the claim of a request that produced nothing to replay."""
        try:
            await self._abandon(keys=[claim.redis_key], args=[claim.owner])
        except (RedisError, OSError) as exc:
            log.error("could not release an Idempotency-Key claim: %r", exc)
