"""Access tokens: HS256 pinned; aud, iss and expiry checked; tampering and confusion refused."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway_control.security.tokens import AccessTokens, InvalidTokenError

SECRET = "unit-test-secret-" + "0123456789abcdef" * 4
ISSUER = "test-issuer"
AUDIENCE = "test-audience"


@pytest.fixture
def tokens() -> AccessTokens:
    return AccessTokens(SECRET, issuer=ISSUER, audience=AUDIENCE, ttl_s=300)


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "abc",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip(tokens: AccessTokens) -> None:
    user = uuid.uuid4()
    issued = tokens.issue(user)
    claims = tokens.verify(issued.token)
    assert claims.user_id == user
    assert issued.expires_in == 300
    assert claims.expires_at - claims.issued_at == 300
    assert jwt.get_unverified_header(issued.token)["alg"] == "HS256"


def test_alg_none_is_rejected(tokens: AccessTokens) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    with pytest.raises(InvalidTokenError):
        tokens.verify(f"{header}.{payload}.")


def test_other_hmac_algorithm_is_rejected(tokens: AccessTokens) -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS512")
    with pytest.raises(InvalidTokenError):
        tokens.verify(token)


def test_rs256_token_is_rejected(tokens: AccessTokens) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), key, algorithm="RS256")
    with pytest.raises(InvalidTokenError):
        tokens.verify(token)


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"aud": "someone-else"}, "wrong audience"),
        ({"aud": [AUDIENCE, "someone-else"]}, "audience list (strict aud)"),
        ({"iss": "someone-else"}, "wrong issuer"),
        ({"exp": int(time.time()) - 60}, "expired"),
        # Far in the future: these values are computed when pytest collects, maybe long before the run.
        (
            {"nbf": int(time.time()) + 10 * 365 * 86400, "exp": int(time.time()) + 11 * 365 * 86400},
            "not yet valid",
        ),
        ({"aud": None}, "no audience"),
        ({"iss": None}, "no issuer"),
        ({"exp": None}, "no expiry"),
        ({"jti": None}, "no token id"),
        ({"sub": "not-a-uuid"}, "subject is not a user id"),
    ],
)
def test_bad_claims_are_rejected(tokens: AccessTokens, overrides: dict[str, object], why: str) -> None:
    token = jwt.encode(_claims(**overrides), SECRET, algorithm="HS256")
    with pytest.raises(InvalidTokenError):
        tokens.verify(token)


def test_wrong_secret_is_rejected(tokens: AccessTokens) -> None:
    token = jwt.encode(_claims(), "another-secret-" + "0123456789abcdef" * 4, algorithm="HS256")
    with pytest.raises(InvalidTokenError):
        tokens.verify(token)


def test_tampered_payload_is_rejected(tokens: AccessTokens) -> None:
    header, _payload, signature = tokens.issue(uuid.uuid4()).token.split(".")
    forged = _b64(json.dumps(_claims(sub=str(uuid.uuid4()))).encode())
    with pytest.raises(InvalidTokenError):
        tokens.verify(f"{header}.{forged}.{signature}")


def test_garbage_is_rejected(tokens: AccessTokens) -> None:
    for junk in ("", "abc", "a.b.c", "Bearer x"):
        with pytest.raises(InvalidTokenError):
            tokens.verify(junk)


def test_token_from_another_issuer_config_is_rejected() -> None:
    ours = AccessTokens(SECRET, issuer=ISSUER, audience=AUDIENCE, ttl_s=300)
    theirs = AccessTokens(SECRET, issuer=ISSUER, audience="other-api", ttl_s=300)
    with pytest.raises(InvalidTokenError):
        ours.verify(theirs.issue(uuid.uuid4()).token)
