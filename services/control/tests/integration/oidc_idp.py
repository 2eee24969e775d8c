"""A real OpenID Connect provider on loopback (tools/oidc-idp: node-oidc-provider) for SSO tests.

`start_idp(...)` starts the IdP (gateway_devstack.oidc_idp: `npm ci` when needed, `node idp.mjs`
on a free port) with a fresh RSA signing key the tests can sign with too, and waits for its
discovery document. `sign_in_at_idp` walks its login and consent forms the way a
browser would, returning the redirect back to the relying party.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway_devstack.oidc_idp import install_oidc_idp, oidc_idp_process
from gateway_devstack.procs import ManagedProcess

_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass
class Idp:
    """A running IdP: its issuer URL and the private key its ID tokens are signed with."""

    issuer: str
    signing_key: rsa.RSAPrivateKey
    kid: str
    process: ManagedProcess

    def sign(
        self, claims: dict[str, Any], *, kid: str | None = None, key: Any = None, alg: str = "RS256"
    ) -> str:
        """An ID token signed like the IdP signs them (or with another key / kid / alg)."""
        return jwt.encode(
            claims,
            key if key is not None else self.signing_key,
            algorithm=alg,
            headers={"kid": kid or self.kid},
        )


StartIdp = Callable[..., Idp]


@pytest.fixture
def start_idp(tmp_path: Path) -> Iterator[StartIdp]:
    """Start IdPs: `start_idp(clients=[...], accounts={...}, clock_offset_s=0, id_token_ttl_s=3600)`."""
    install_oidc_idp()
    started: list[ManagedProcess] = []

    def start(clients: list[dict[str, Any]], **options: Any) -> Idp:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = f"idp-key-{len(started)}"
        jwk = {
            **jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True),
            "kid": kid,
            "alg": "RS256",
            "use": "sig",
        }
        idp = oidc_idp_process(tmp_path, clients, jwks={"keys": [jwk]}, **options)
        started.append(idp.process)
        idp.process.start()
        idp.process.wait_ready(timeout=60)
        return Idp(issuer=idp.issuer, signing_key=key, kid=kid, process=idp.process)

    yield start
    for process in reversed(started):
        process.stop()


async def sign_in_at_idp(browser: httpx.AsyncClient, authorize_url: str, login: str, stop_at: str) -> str:
    """Follow the IdP's redirects and post its login and consent forms; the URL sent to `stop_at`."""
    url = authorize_url
    for _ in range(20):
        response = await browser.get(url)
        while response.is_redirect:
            url = urljoin(url, response.headers["location"])
            if url.startswith(stop_at):
                return url
            response = await browser.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:500]}"
        form = _FORM.search(response.text)
        assert form is not None, f"no form at {url}: {response.text[:500]}"
        fields = {name: unescape(value) for name, value in _HIDDEN.findall(form.group(2))}
        if fields.get("prompt") == "login":
            fields.update(login=login, password="any password")
        posted = await browser.post(urljoin(url, unescape(form.group(1))), data=fields)
        assert posted.is_redirect, (
            f"posting the {fields.get('prompt')} form: {posted.status_code} {posted.text[:500]}"
        )
        url = urljoin(url, posted.headers["location"])
        if url.startswith(stop_at):
            return url
    raise AssertionError("the IdP never redirected back")
