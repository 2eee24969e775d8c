"""OIDC SSO end to end against a real OpenID Connect provider (node-oidc-provider on loopback).

The test plays the browser: control's start endpoint → the IdP's authorization endpoint → its
login and consent forms → back to control's callback → control's own session (the refresh
cookie, exchanged for an access token with the CSRF header). Unhappy paths must end with a
redirect naming the reason and no session cookie.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from gateway_devstack.procs import free_port

from .conftest import ADMIN_EMAIL, ControlInstance, StartControl
from .oidc_idp import Idp, StartIdp, sign_in_at_idp, start_idp  # noqa: F401  (start_idp: a fixture)

CLIENT_ID = "gateway-control"
CLIENT_SECRET = "idp-client-secret-" + "x" * 16
ACCOUNTS = {
    "alice": {"email": "alice@example.com", "email_verified": True, "name": "Alice Example"},
    "admin-sso": {"email": ADMIN_EMAIL, "email_verified": True, "name": "Admin"},
    "mallory": {"email": "mallory@example.com", "email_verified": False, "name": "Mallory"},
}


@dataclass
class Sso:
    """A control instance configured with one IdP called `corp`."""

    control: ControlInstance
    idp: Idp

    @property
    def callback_prefix(self) -> str:
        return f"{self.control.base_url}/api/v1/auth/sso/corp/callback"


@dataclass
class Browser:
    """Cookies for control kept by hand (they are Secure; httpx drops those over http)."""

    control: ControlInstance
    idp: httpx.AsyncClient
    cookies: dict[str, str] = field(default_factory=dict)

    def keep(self, response: httpx.Response) -> dict[str, Any]:
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_list("set-cookie"):
            jar.load(header)
        for name, morsel in jar.items():
            if morsel["max-age"] == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value
        return dict(jar.items())

    async def control_get(self, url: str) -> httpx.Response:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
            response = await http.get(url, headers={"Cookie": cookie} if cookie else {})
        self.keep(response)
        return response

    async def start(self, provider: str = "corp") -> str:
        response = await self.control_get(f"{self.control.base_url}/api/v1/auth/sso/{provider}/start")
        assert response.status_code == 302, response.text
        return response.headers["location"]


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _sso_env(port: int, idp: Idp, **provider: Any) -> dict[str, str]:
    corp = {
        "name": "corp",
        "display_name": "Corp SSO",
        "issuer": idp.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **provider,
    }
    return {
        "CONTROL_PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "OIDC_PROVIDERS": json.dumps([corp]),
    }


def _start(
    start_control: StartControl, idp_factory: StartIdp, idp_options: dict[str, Any], **provider: Any
) -> Sso:
    port = free_port()
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"http://127.0.0.1:{port}/api/v1/auth/sso/corp/callback"],
    }
    idp = idp_factory(clients=[client], accounts=ACCOUNTS, **idp_options)
    control = start_control(**_sso_env(port, idp, **provider))
    return Sso(control=control, idp=idp)


@pytest.fixture
def sso(start_control: StartControl, start_idp: StartIdp) -> Sso:  # noqa: F811
    """Control with the IdP `corp`: new users join tenant `engineering` as viewers."""
    return _start(start_control, start_idp, {}, default_tenant="engineering", default_role="viewer")


async def _sign_in(sso: Sso, login: str) -> tuple[Browser, str]:
    """Start at control, sign in at the IdP; the callback URL (not yet visited)."""
    idp_http = httpx.AsyncClient(trust_env=False, timeout=30, follow_redirects=False)
    browser = Browser(sso.control, idp_http)
    authorize = await browser.start()
    assert authorize.startswith(f"{sso.idp.issuer}/auth?")
    callback = await sign_in_at_idp(idp_http, authorize, login, stop_at=sso.callback_prefix)
    await idp_http.aclose()
    return browser, callback


async def _session(sso: Sso, browser: Browser) -> str:
    """Exchange the session cookies for an access token, as the web UI does."""
    csrf = browser.cookies["omg_csrf"]
    async with sso.control.client() as client:
        response = await client.post(
            "/api/v1/auth/refresh",
            headers={
                "Cookie": f"omg_refresh={browser.cookies['omg_refresh']}; omg_csrf={csrf}",
                "X-CSRF-Token": csrf,
            },
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _assert_refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/?sso_error={reason}"
    set_cookies = " ".join(response.headers.get_list("set-cookie"))
    assert "omg_refresh=" not in set_cookies
    assert "omg_csrf=" not in set_cookies


async def _audit_reasons(sso: Sso) -> list[str]:
    async with await psycopg.AsyncConnection.connect(sso.control.env["DATABASE_URL"]) as conn:
        rows = await (
            await conn.execute(
                "SELECT after->>'reason' FROM control.audit_log WHERE action = 'auth.sso_failed' ORDER BY id"
            )
        ).fetchall()
    return [row[0] for row in rows]


async def test_providers_are_listed_without_authentication(sso: Sso, control: ControlInstance) -> None:
    async with sso.control.client() as client:
        listed = (await client.get("/api/v1/auth/sso/providers")).json()
    assert listed == {
        "items": [
            {
                "name": "corp",
                "display_name": "Corp SSO",
                "start_url": f"{sso.control.base_url}/api/v1/auth/sso/corp/start",
            }
        ]
    }
    async with control.client() as client:  # a control without OIDC_PROVIDERS
        assert (await client.get("/api/v1/auth/sso/providers")).json() == {"items": []}


async def test_start_sends_pkce_state_and_nonce(sso: Sso) -> None:
    browser = Browser(sso.control, httpx.AsyncClient(trust_env=False))
    await browser.idp.aclose()
    response = await browser.control_get(f"{sso.control.base_url}/api/v1/auth/sso/corp/start")
    cookie = browser.keep(response)["omg_sso_state"]
    query = _query(response.headers["location"])
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == sso.callback_prefix
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["nonce"]) >= 43
    assert cookie.value == query["state"]
    assert cookie["httponly"]
    assert cookie["secure"]
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/api/v1/auth/sso"
    assert "code_verifier" not in response.headers["location"]


async def test_sign_in_provisions_the_user_and_opens_a_session(sso: Sso) -> None:
    admin = await sso.control.login()
    async with sso.control.client(admin) as client:
        tenant = (await client.post("/api/v1/tenants", json={"name": "engineering"})).json()

    browser, callback = await _sign_in(sso, "alice")
    assert "code" in _query(callback)
    response = await browser.control_get(callback)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    assert "omg_sso_state" not in browser.cookies  # used up
    token = await _session(sso, browser)

    async with sso.control.client(token) as client:
        me = (await client.get("/api/v1/user")).json()
        tenants = (await client.get("/api/v1/user/tenants")).json()["items"]
        password = await client.post(
            "/api/v1/user/password", json={"current_password": "x", "new_password": "y" * 16}
        )
    assert me["email"] == "alice@example.com"
    assert me["display_name"] == "Alice Example"
    roles = {t["name"] if not t["is_personal"] else "personal": t["role"] for t in tenants}
    assert roles == {"personal": "owner", "engineering": "viewer"}
    assert any(t["id"] == tenant["id"] for t in tenants)
    assert password.status_code == 409  # an SSO account has no password

    # The second sign-in maps the same subject to the same user; no second account.
    browser2, callback2 = await _sign_in(sso, "alice")
    assert (await browser2.control_get(callback2)).headers["location"] == "/"
    async with sso.control.client(await _session(sso, browser2)) as client:
        assert (await client.get("/api/v1/user")).json()["id"] == me["id"]
    async with sso.control.client(admin) as client:
        audit = (await client.get("/api/v1/audit", params={"target_id": me["id"]})).json()["items"]
    actions = [entry["action"] for entry in audit]
    assert actions.count("user.create") == 1
    assert actions.count("auth.login") == 2


async def test_an_existing_account_is_linked_by_verified_email(sso: Sso) -> None:
    browser, callback = await _sign_in(sso, "admin-sso")
    assert (await browser.control_get(callback)).headers["location"] == "/"
    async with sso.control.client(await _session(sso, browser)) as client:
        me = (await client.get("/api/v1/user")).json()
        users = await client.get("/api/v1/users")  # still the platform admin
    assert me["email"] == ADMIN_EMAIL
    assert users.status_code == 200


async def test_an_unverified_email_is_neither_linked_nor_provisioned(sso: Sso) -> None:
    browser, callback = await _sign_in(sso, "mallory")
    _assert_refused(await browser.control_get(callback), "email_not_verified")
    assert await _audit_reasons(sso) == ["email_not_verified"]


async def test_bad_state_and_missing_state_cookie_are_refused(sso: Sso) -> None:
    browser, callback = await _sign_in(sso, "alice")
    state = _query(callback)["state"]
    _assert_refused(await browser.control_get(callback.replace(state, state[:-2] + "xx")), "invalid_state")
    assert "omg_sso_state" not in browser.cookies  # a refused callback clears the state cookie
    # The callback URL delivered to another browser (login CSRF): no state cookie there.
    stranger = Browser(sso.control, browser.idp)
    _assert_refused(await stranger.control_get(callback), "invalid_state")
    # Neither attempt consumed the flow: with its state cookie, its own browser still finishes it.
    browser.cookies["omg_sso_state"] = state
    assert (await browser.control_get(callback)).headers["location"] == "/"
    assert await _audit_reasons(sso) == ["invalid_state", "invalid_state"]


async def test_a_replayed_callback_or_code_is_refused(sso: Sso) -> None:
    browser, callback = await _sign_in(sso, "alice")
    state_cookie = browser.cookies["omg_sso_state"]
    assert (await browser.control_get(callback)).headers["location"] == "/"
    session_cookie = browser.cookies.pop("omg_refresh")
    # The same callback again, state cookie and all: the flow was taken.
    browser.cookies["omg_sso_state"] = state_cookie
    _assert_refused(await browser.control_get(callback), "invalid_state")
    # The code again, under a fresh flow of this browser: the IdP refuses the redeemed code
    # (and the fresh flow's PKCE verifier does not match it either).
    await browser.start()
    fresh_state = browser.cookies["omg_sso_state"]
    code = _query(callback)["code"]
    replay = f"{sso.callback_prefix}?code={code}&state={fresh_state}"
    _assert_refused(await browser.control_get(replay), "code_rejected")
    assert "omg_refresh" not in browser.cookies
    assert session_cookie
    assert await _audit_reasons(sso) == ["invalid_state", "code_rejected"]


async def test_a_provider_error_is_reported(sso: Sso) -> None:
    browser = Browser(sso.control, httpx.AsyncClient(trust_env=False))
    await browser.idp.aclose()
    await browser.start()
    state = browser.cookies["omg_sso_state"]
    response = await browser.control_get(f"{sso.callback_prefix}?error=access_denied&state={state}")
    _assert_refused(response, "provider_error")


async def test_an_unknown_provider_goes_back_with_an_error(sso: Sso) -> None:
    browser = Browser(sso.control, httpx.AsyncClient(trust_env=False))
    await browser.idp.aclose()
    response = await browser.control_get(f"{sso.control.base_url}/api/v1/auth/sso/nope/start")
    assert response.status_code == 302
    assert response.headers["location"] == "/?sso_error=unknown_provider"
    assert "omg_sso_state" not in browser.cookies


async def test_an_expired_id_token_is_refused(start_control: StartControl, start_idp: StartIdp) -> None:  # noqa: F811
    # A provider whose clock is 10 minutes slow issues ID tokens that expired 9 minutes ago.
    sso = _start(start_control, start_idp, {"clock_offset_s": -600, "id_token_ttl_s": 60})
    browser, callback = await _sign_in(sso, "alice")
    started = time.monotonic()
    _assert_refused(await browser.control_get(callback), "id_token_invalid")
    assert time.monotonic() - started < 30
    assert await _audit_reasons(sso) == ["id_token_invalid"]
    log = sso.control.process.log_path.read_text()
    assert "the ID token has expired" in log
