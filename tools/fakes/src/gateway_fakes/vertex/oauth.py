"""A fake Google OAuth2 token endpoint for service accounts (the JWT-bearer grant, RFC 7523).

The fake owns one service account whose RSA key it generates at start-up;
`GET /_fake/service-account.json` hands out its key file (as the console's "create key"
does), with `token_uri` pointing at this fake's `POST /token`. The token endpoint takes
`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT>` and checks
what Google checks: the signature against the account's public key, `iss` = the account's
email, `aud` = the token URL, a `scope`, `iat`/`exp` no more than an hour apart and current,
and the header's `kid`. It answers `{access_token, expires_in: 3599, token_type: Bearer}`
with the token the Vertex fake accepts, or Google's OAuth error JSON
(`{"error": "invalid_grant", "error_description": ...}`, 400).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Final

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import Response

from gateway_fakes.openai.call import FakeCall, Handler

JWT_BEARER_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_EMAIL: Final = "gateway@conformance-project.iam.gserviceaccount.com"
TOKEN_LIFETIME_S: Final = 3599
MAX_ASSERTION_LIFETIME_S: Final = 3600
CLOCK_SKEW_S: Final = 300


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """The fake's one service account: an RSA key pair and its ids."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    private_key_id: str
    client_email: str = CLIENT_EMAIL

    @classmethod
    def generate(cls) -> ServiceAccount:
        """A new 2048-bit key (what Google issues)."""
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), secrets.token_hex(20))

    def key_file(self, token_uri: str) -> dict[str, str]:
        """The JSON key file, as Google's console downloads it."""
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {
            "type": "service_account",
            "project_id": "conformance-project",
            "private_key_id": self.private_key_id,
            "private_key": pem,
            "client_email": self.client_email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
        }


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    """Google's OAuth2 error JSON."""
    body = orjson.dumps({"error": error, "error_description": description})
    return Response(body, status, media_type="application/json")


def token_url(request: Request) -> str:
    """This fake's token endpoint URL, as the client addressed it."""
    return f"{request.url.scheme}://{request.headers.get('host', '')}/token"


def key_file_endpoint(account: ServiceAccount) -> Handler:
    """`GET /_fake/service-account.json`."""

    async def key_file(call: FakeCall) -> Response:
        return Response(
            orjson.dumps(account.key_file(token_url(call.request))), media_type="application/json"
        )

    return key_file


def token_endpoint(account: ServiceAccount, access_token: str) -> Handler:
    """`POST /token`: verify the JWT assertion and issue `access_token`."""
    public_key = account.private_key.public_key()

    async def token(call: FakeCall) -> Response:
        if call.body.get("grant_type") != JWT_BEARER_GRANT:
            return oauth_error("unsupported_grant_type", "Invalid grant_type.")
        assertion = call.body.get("assertion")
        if not isinstance(assertion, str):
            return oauth_error("invalid_request", "Missing required parameter: assertion")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256"],
                audience=token_url(call.request),
                issuer=account.client_email,
                options={"require": ["iss", "aud", "iat", "exp"]},
                leeway=CLOCK_SKEW_S,
            )
        except jwt.InvalidSignatureError:
            return oauth_error("invalid_grant", "Invalid JWT Signature.")
        except jwt.InvalidTokenError as exc:
            return oauth_error("invalid_grant", f"Invalid JWT: {exc}")
        if header.get("kid") != account.private_key_id:
            return oauth_error("invalid_grant", "Invalid key id (kid).")
        lifetime = int(claims["exp"]) - int(claims["iat"])
        if not 0 < lifetime <= MAX_ASSERTION_LIFETIME_S or int(claims["iat"]) > time.time() + CLOCK_SKEW_S:
            return oauth_error(
                "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes)."
            )
        if not isinstance(claims.get("scope"), str) or not claims["scope"]:
            return oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        body = {"access_token": access_token, "expires_in": TOKEN_LIFETIME_S, "token_type": "Bearer"}
        return Response(orjson.dumps(body), media_type="application/json")

    return token
