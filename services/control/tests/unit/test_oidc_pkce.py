"""PKCE (RFC 7636) and the per-sign-in secrets."""

from __future__ import annotations

import re

from gateway_control.oidc.pkce import new_flow_secrets, s256_challenge


def test_s256_matches_the_rfc_7636_example() -> None:
    # RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_flow_secrets_are_fresh_and_well_formed() -> None:
    first, second = new_flow_secrets(), new_flow_secrets()
    assert len({first.state, first.nonce, first.code_verifier, second.state}) == 4
    # 43..128 characters of the unreserved set (RFC 7636 section 4.1).
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", first.code_verifier)
    assert first.code_challenge == s256_challenge(first.code_verifier)
