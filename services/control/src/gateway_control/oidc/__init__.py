"""OpenID Connect relying party: the authorization-code flow with PKCE, state and nonce.

    pkce.py       the per-sign-in secrets: state, nonce, code verifier and its S256 challenge
    flows.py      pending sign-ins in Redis, each taken at most once
    discovery.py  the provider's discovery document and JWKS (cached; refetched on a new kid)
    id_token.py   ID token checks: signature against the JWKS, alg pinned, iss, aud, exp, nonce
    client.py     one provider: authorization URL, code exchange, verified identity
    errors.py     OidcError and its stable reason codes

No domain code here: who the verified identity is in control's database is domain/sso.
"""
