"""Google service-account key -> OAuth2 access token (the JWT bearer grant, RFC 7523), for Vertex.

Credential: `service_account_json`, the JSON key file as downloaded (`client_email`,
`private_key`, `private_key_id`, `token_uri`). Settings: `token_url` (default: the key's
`token_uri`, else `https://oauth2.googleapis.com/token`; the fake serves its own) and
`oauth_scope` (default `https://www.googleapis.com/auth/cloud-platform`).

As google-auth's `service_account.Credentials` does: an RS256 JWT `{iss: client_email,
scope, aud: token URL, iat, exp: iat + 3600}` with the key id in its header is POSTed as
`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>`; the answer is
`{access_token, expires_in, token_type}`, and the token is refreshed 3 min 45 s before it
expires (google-auth's `REFRESH_THRESHOLD`). PyJWT (with `cryptography`) signs the JWT; it is
imported on the first signature, not with this module, so a proxy without Vertex service accounts
does not carry it (≈2 MiB of RSS per worker).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

import orjson

from gateway_providers.base import ProviderConfig, ProviderConfigError, ProviderError, UpstreamRequest
from gateway_providers.credentials.base import IssuedCredentials, TokenResponse
from gateway_providers.errors import error_from_response

KEY_CREDENTIAL: Final = "service_account_json"
TOKEN_CREDENTIAL: Final = "access_token"
TOKEN_URL_SETTING: Final = "token_url"
SCOPE_SETTING: Final = "oauth_scope"
DEFAULT_TOKEN_URL: Final = "https://oauth2.googleapis.com/token"
DEFAULT_SCOPE: Final = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S: Final = 3600


@dataclass(frozen=True, slots=True)
class ServiceAccountExchange:
    """`CredentialExchange` for a Vertex provider holding a `service_account_json` credential."""

    refresh_margin_s: float = 225.0  # google-auth's REFRESH_THRESHOLD (3 min 45 s)

    def applies(self, provider: ProviderConfig) -> bool:
        """True when the provider holds a service-account key."""
        return bool(provider.credentials.get(KEY_CREDENTIAL))

    def token_request(self, provider: ProviderConfig, now: float) -> UpstreamRequest:
        """The token request carrying a freshly signed JWT assertion."""
        key = _service_account(provider.credentials[KEY_CREDENTIAL])
        token_url = provider.settings.get(TOKEN_URL_SETTING) or key.get("token_uri") or DEFAULT_TOKEN_URL
        issued_at = int(now)
        claims = {
            "iss": key["client_email"],
            "scope": provider.settings.get(SCOPE_SETTING) or DEFAULT_SCOPE,
            "aud": token_url,
            "iat": issued_at,
            "exp": issued_at + ASSERTION_LIFETIME_S,
        }
        headers = {"kid": key["private_key_id"]} if key.get("private_key_id") else None
        import jwt  # lazy: see the module docstring

        try:
            assertion = jwt.encode(claims, key["private_key"], algorithm="RS256", headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError) as exc:  # an unreadable PEM
            raise ProviderConfigError(f"'{KEY_CREDENTIAL}' has an unusable private_key: {exc}") from None
        body = urlencode({"grant_type": JWT_BEARER_GRANT, "assertion": assertion}).encode()
        return UpstreamRequest(
            "POST", token_url, [("Content-Type", "application/x-www-form-urlencoded")], body
        )

    def parse_token_response(self, response: TokenResponse, now: float) -> IssuedCredentials:
        """The bearer token and its expiry; an OAuth error (`{error, error_description}`) raises.

        A refused grant (4xx other than 429: a revoked key, a bad signature, a wrong audience)
        is the gateway's credential failing: 502, kind `authentication`, message hidden.
        """
        try:
            parsed = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            parsed = None
        fields = parsed if isinstance(parsed, dict) else {}
        if response.status >= 300:
            treated_as = 403 if 400 <= response.status < 500 and response.status != 429 else response.status
            message = fields.get("error_description") or fields.get("error")
            body = orjson.dumps({"error": {"message": message, "type": None, "code": fields.get("error")}})
            raise error_from_response(treated_as, response.headers, body)
        token, lifetime = fields.get("access_token"), fields.get("expires_in")
        if not isinstance(token, str) or not token:
            raise ProviderError(
                502, "The OAuth token endpoint answered without an access token.", "upstream_error"
            )
        seconds = lifetime if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) else 3600
        return IssuedCredentials({TOKEN_CREDENTIAL: token}, now + float(seconds))


def _service_account(raw: str) -> Mapping[str, str]:
    try:
        key = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProviderConfigError(f"'{KEY_CREDENTIAL}' is not JSON") from None
    if not isinstance(key, dict) or not all(
        isinstance(key.get(f), str) for f in ("client_email", "private_key")
    ):
        raise ProviderConfigError(f"'{KEY_CREDENTIAL}' needs client_email and private_key")
    return {name: value for name, value in key.items() if isinstance(value, str)}
