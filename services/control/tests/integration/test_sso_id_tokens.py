"""ID token checks against the real IdP's discovery document and JWKS.

Tokens are signed with the IdP's own signing key (the fixture generated it and handed it to the
IdP), so each case differs from a genuine ID token in exactly one respect; every one must be
refused with the check that failed named. A genuine-looking token passes, which proves the
refusals are not caused by something else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway_control.oidc.client import OidcClient, OidcClients
from gateway_control.oidc.errors import OidcError
from gateway_control.settings import OidcProviderSettings
from pydantic import SecretStr

from .oidc_idp import Idp, StartIdp, start_idp  # noqa: F401  (start_idp: a fixture)

CLIENT_ID = "gateway-control"
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture
def idp(start_idp: StartIdp) -> Idp:  # noqa: F811
    client = {"client_id": CLIENT_ID, "client_secret": "s" * 32, "redirect_uris": ["http://127.0.0.1:9/cb"]}
    return start_idp(clients=[client])


@pytest.fixture
async def client(idp: Idp) -> AsyncIterator[OidcClient]:
    provider = OidcProviderSettings(
        name="corp",
        display_name="Corp",
        issuer=idp.issuer,
        client_id=CLIENT_ID,
        client_secret=SecretStr("s" * 32),
    )
    clients = OidcClients([provider], "http://127.0.0.1:9", timeout_s=10, leeway_s=30)
    yield clients.get("corp")
    await clients.aclose()


def _claims(idp: Idp, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": idp.issuer,
        "sub": "alice",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "email": "Alice@Example.com",
        "email_verified": True,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    # Built by hand: PyJWT itself refuses to use a PEM key as an HMAC secret.
    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
        + b"."
        + b64(json.dumps(claims).encode())
    )
    return (signing_input + b"." + b64(hmac.new(secret, signing_input, hashlib.sha256).digest())).decode()


async def _refused(client: OidcClient, token: str, reason: str, message: str) -> None:
    with pytest.raises(OidcError) as refused:
        await client.verify(token, NONCE)
    assert refused.value.reason == reason
    assert message in refused.value.message


async def test_a_genuine_token_passes(client: OidcClient, idp: Idp) -> None:
    identity = await client.verify(idp.sign(_claims(idp)), NONCE)
    assert (identity.issuer, identity.subject, identity.email) == (idp.issuer, "alice", "alice@example.com")
    assert identity.email_verified


async def test_wrong_audience(client: OidcClient, idp: Idp) -> None:
    await _refused(client, idp.sign(_claims(idp, aud="another-client")), "id_token_invalid", "not for client")
    several = _claims(idp, aud=[CLIENT_ID, "another-client"], azp="another-client")
    await _refused(client, idp.sign(several), "id_token_invalid", "azp")


async def test_wrong_nonce(client: OidcClient, idp: Idp) -> None:
    await _refused(client, idp.sign(_claims(idp, nonce="another-nonce")), "nonce_mismatch", "nonce")
    await _refused(client, idp.sign(_claims(idp, nonce=None)), "nonce_mismatch", "nonce")


async def test_expired_and_wrong_issuer(client: OidcClient, idp: Idp) -> None:
    now = int(time.time())
    expired = _claims(idp, iat=now - 600, exp=now - 60)
    await _refused(client, idp.sign(expired), "id_token_invalid", "expired")
    await _refused(
        client, idp.sign(_claims(idp, iss="http://evil.test")), "id_token_invalid", "not issued by"
    )
    await _refused(client, idp.sign(_claims(idp, exp=None)), "id_token_invalid", "exp")


async def test_algorithm_and_key_attacks(client: OidcClient, idp: Idp) -> None:
    claims = _claims(idp)
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": idp.kid})
    await _refused(client, unsigned, "id_token_invalid", "'none' is not allowed")
    # HS256 keyed with the IdP's public key (the classic RS/HS confusion).
    public_pem = idp.signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    confused = _hs256(claims, public_pem, idp.kid)
    await _refused(client, confused, "id_token_invalid", "'HS256' is not allowed")
    await _refused(client, idp.sign(claims, kid="unknown-kid"), "id_token_invalid", "unknown-kid")
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    await _refused(client, idp.sign(claims, key=forger), "id_token_invalid", "verification")
    await _refused(client, "not-a-jwt", "id_token_invalid", "not a JWS")
