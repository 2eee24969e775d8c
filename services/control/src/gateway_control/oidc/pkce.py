"""The secrets of one sign-in: state (CSRF), nonce (ID token replay) and the PKCE pair (RFC 7636)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass


def s256_challenge(verifier: str) -> str:
    """The S256 code challenge of a verifier: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class FlowSecrets:
    """Fresh random values for one authorization request."""

    state: str
    nonce: str
    code_verifier: str

    @property
    def code_challenge(self) -> str:
        """What the authorization request carries instead of the verifier."""
        return s256_challenge(self.code_verifier)


def new_flow_secrets() -> FlowSecrets:
    """256 bits each; the verifier is 43 characters of the unreserved set, as RFC 7636 requires."""
    return FlowSecrets(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(32),
    )
