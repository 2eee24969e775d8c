"""OidcError: a sign-in through an identity provider failed, with a stable reason code.

The reason is what the browser is sent back with (`?sso_error=<reason>`) and what the audit
record names; the message says what exactly was wrong, for the log.

    invalid_state            unknown, expired, replayed or foreign state (or no state cookie)
    unknown_provider         no configured identity provider has this name
    provider_error           the provider redirected back with an error (the user cancelled, ...)
    provider_unavailable     discovery, JWKS or the token endpoint could not be reached or parsed
    code_rejected            the token endpoint refused the code (replayed, expired, PKCE mismatch)
    id_token_invalid         signature, alg, iss, aud, exp/iat or a required claim is wrong
    nonce_mismatch           the ID token's nonce is not the one this sign-in sent
    email_not_verified       linking or provisioning needs a verified email
    email_domain_not_allowed the email's domain is not among the provider's allowed domains
    account_not_linked       a local account has this email but linking by email is off
    no_account               nobody matches and just-in-time provisioning is off
    account_disabled         the matched user is disabled
    service_unavailable      control cannot keep the sign-in's state (Redis is down)
"""

from __future__ import annotations


class OidcError(Exception):
    """A failed SSO sign-in; `reason` is one of the codes above."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
