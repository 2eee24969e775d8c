"""Short-lived access tokens: JWT signed with HS256, algorithm pinned, aud and iss checked.

Only HS256 is accepted on the way in, so `alg: none` and algorithm-confusion tokens fail before
any signature logic runs. Every token carries iss, aud, sub, iat, nbf, exp and a jti; all of
them are required when verifying.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti"]
_LEEWAY_S = 5


class InvalidTokenError(Exception):
    """The bearer token is missing, malformed, expired, or not ours."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says: who, until when, and its id."""

    user_id: uuid.UUID
    token_id: str
    issued_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token as returned by login."""

    token: str
    expires_in: int


class AccessTokens:
    """Issues and verifies access tokens for one issuer/audience pair."""

    def __init__(self, secret: str, issuer: str, audience: str, ttl_s: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._ttl_s = ttl_s

    def issue(self, user_id: uuid.UUID, now: float | None = None) -> IssuedToken:
        """Sign a new access token for `user_id`, valid for the configured lifetime."""
        issued_at = int(time.time() if now is None else now)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + self._ttl_s,
            "jti": secrets.token_urlsafe(16),
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM, headers={"typ": "at+jwt"})
        return IssuedToken(token=token, expires_in=self._ttl_s)

    def verify(self, token: str) -> AccessClaims:
        """Check signature, algorithm, issuer, audience and times; raise InvalidTokenError otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != ALGORITHM:
                raise InvalidTokenError(f"unexpected token algorithm {header.get('alg')!r}")
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=_LEEWAY_S,
                options={"require": _REQUIRED_CLAIMS, "strict_aud": True},
            )
            user_id = uuid.UUID(str(claims["sub"]))
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidTokenError(str(exc)) from exc
        return AccessClaims(
            user_id=user_id,
            token_id=str(claims["jti"]),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
        )
