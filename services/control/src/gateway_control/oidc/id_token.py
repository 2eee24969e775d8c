"""ID token validation (OpenID Connect Core 1.0, section 3.1.3.7), with PyJWT.

signature  a JWKS key chosen by `kid` (or the only key), algorithm pinned to the configured
           asymmetric list; the JWK's own `alg`, if any, must agree; alg none, HMAC and
           key-type confusion are refused
iss        exactly the configured issuer
aud        contains the client id; with several audiences, `azp` must be the client id
exp, iat   required; exp in the future (with the configured clock skew)
sub        required
nonce      exactly the nonce the authorization request sent (constant-time compare)
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from gateway_control.oidc.errors import OidcError


@dataclass(frozen=True, slots=True)
class IdentityClaims:
    """Who the provider says signed in."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


@dataclass(frozen=True, slots=True)
class Expected:
    """What a valid ID token of this sign-in must say."""

    issuer: str
    client_id: str
    nonce: str
    algorithms: Sequence[str]
    leeway_s: int


def with_userinfo(identity: IdentityClaims, userinfo: dict[str, Any]) -> IdentityClaims:
    """The identity completed from the UserInfo response, which must be about the same subject.

    Providers that follow Core 5.4 strictly put scope-requested claims (email, name) only in the
    UserInfo response, not in the ID token.
    """
    if userinfo.get("sub") != identity.subject:
        raise _invalid("the UserInfo response is about another subject than the ID token")
    email = userinfo.get("email")
    name = userinfo.get("name")
    return IdentityClaims(
        issuer=identity.issuer,
        subject=identity.subject,
        email=email.lower() if isinstance(email, str) else None,
        email_verified=userinfo.get("email_verified") is True,
        name=name if isinstance(name, str) else identity.name,
    )


def _invalid(message: str) -> OidcError:
    return OidcError("id_token_invalid", message)


def unverified_kid(token: str) -> str | None:
    """The key id in the token's header (to pick or refetch the JWKS), or None."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise _invalid(f"the ID token is not a JWS: {exc}") from exc
    return kid if isinstance(kid, str) else None


def _signing_key(token: str, jwks: Sequence[dict[str, Any]], algorithms: Sequence[str]) -> tuple[Any, str]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _invalid(f"the ID token is not a JWS: {exc}") from exc
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise _invalid(f"the ID token's algorithm {alg!r} is not allowed (allowed: {', '.join(algorithms)})")
    kid = header.get("kid")
    candidates = [k for k in jwks if k.get("use", "sig") == "sig" and (kid is None or k.get("kid") == kid)]
    if len(candidates) != 1:
        raise _invalid(f"no single key in the provider's JWKS matches kid {kid!r}")
    jwk = candidates[0]
    if jwk.get("alg") not in (None, alg):
        raise _invalid(f"the key {kid!r} is for {jwk.get('alg')}, the token says {alg}")
    try:
        return jwt.PyJWK(jwk, algorithm=alg).key, alg
    except jwt.PyJWTError as exc:
        raise _invalid(f"the key {kid!r} cannot verify {alg}: {exc}") from exc


def validate_id_token(token: str, jwks: Sequence[dict[str, Any]], expected: Expected) -> IdentityClaims:
    """Verify `token` completely; raise OidcError naming the first check that failed."""
    key, alg = _signing_key(token, jwks, expected.algorithms)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=expected.client_id,
            issuer=expected.issuer,
            leeway=expected.leeway_s,
            options={"require": ["iss", "aud", "exp", "iat", "sub"], "strict_aud": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _invalid("the ID token has expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise _invalid(f"the ID token is not for client {expected.client_id!r}") from exc
    except jwt.InvalidIssuerError as exc:
        raise _invalid(f"the ID token was not issued by {expected.issuer!r}") from exc
    except jwt.PyJWTError as exc:
        raise _invalid(f"the ID token failed verification: {exc}") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != expected.client_id:
        raise _invalid("the ID token has several audiences and azp is not this client")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), expected.nonce.encode()):
        raise OidcError("nonce_mismatch", "the ID token's nonce is not the one this sign-in sent")
    email = claims.get("email")
    name = claims.get("name")
    return IdentityClaims(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=email.lower() if isinstance(email, str) else None,
        email_verified=claims.get("email_verified") is True,
        name=name if isinstance(name, str) else None,
    )
