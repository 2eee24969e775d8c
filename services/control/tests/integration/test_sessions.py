"""Browser sessions: refresh cookie rotation, reuse detection, logout, CSRF and CORS."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import httpx

from .conftest import ADMIN_PASSWORD, ControlInstance, StartControl

LOGIN = {"email": "admin@example.com", "password": ADMIN_PASSWORD}


def _cookies(response: httpx.Response) -> dict[str, Any]:
    """Set-Cookie headers by name (each a Morsel with its attributes)."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return dict(jar.items())


async def _login(client: httpx.AsyncClient) -> tuple[str, str]:
    response = await client.post("/api/v1/auth/login", json=LOGIN)
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]
    cookies = _cookies(response)
    return cookies["omg_refresh"].value, cookies["omg_csrf"].value


async def _refresh(
    client: httpx.AsyncClient, refresh: str, csrf: str, header: str | None = None
) -> httpx.Response:
    # The cookies are Secure, so httpx would not send them over plain http: set them by hand.
    headers = {"Cookie": f"omg_refresh={refresh}; omg_csrf={csrf}"}
    if header is not None:
        headers["X-CSRF-Token"] = header
    return await client.post("/api/v1/auth/refresh", headers=headers)


async def test_login_sets_hardened_cookies(control: ControlInstance) -> None:
    async with control.client() as client:
        response = await client.post("/api/v1/auth/login", json=LOGIN)
    assert response.status_code == 200
    cookies = _cookies(response)
    refresh, csrf = cookies["omg_refresh"], cookies["omg_csrf"]
    assert refresh["httponly"]
    assert refresh["secure"]
    assert refresh["samesite"].lower() == "strict"
    assert refresh["path"] == "/api/v1/auth"
    assert int(refresh["max-age"]) == 14 * 86400
    assert not csrf["httponly"]
    assert csrf["secure"]
    assert csrf["samesite"].lower() == "strict"
    assert len(refresh.value) >= 40
    assert len(csrf.value) >= 40


async def test_refresh_rotates_and_reuse_revokes_the_family(control: ControlInstance) -> None:
    async with control.client() as client:
        first, csrf = await _login(client)
        rotated = await _refresh(client, first, csrf, csrf)
        assert rotated.status_code == 200, rotated.text
        token = rotated.json()["access_token"]
        assert (
            await client.get("/api/v1/user", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200
        second = _cookies(rotated)["omg_refresh"].value
        assert second != first
        # An attacker replays the consumed token: refused, and the whole family dies with it...
        replay = await _refresh(client, first, csrf, csrf)
        assert replay.status_code == 401
        assert replay.json()["error"]["code"] == "unauthorized"
        # ...including the legitimate successor, which was never used.
        assert (await _refresh(client, second, csrf, csrf)).status_code == 401
        # Another session (another family) is unaffected.
        other, other_csrf = await _login(client)
        assert (await _refresh(client, other, other_csrf, other_csrf)).status_code == 200
        audit = await client.get(
            "/api/v1/audit",
            params={"action": "auth.refresh_reuse"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert audit.status_code == 200
    assert len(audit.json()["items"]) == 1


async def test_refresh_and_logout_refuse_missing_or_wrong_csrf(control: ControlInstance) -> None:
    async with control.client() as client:
        refresh, csrf = await _login(client)
        for header in (None, "", "forged-value", csrf + "x"):
            refused = await _refresh(client, refresh, csrf, header)
            assert refused.status_code == 403, (header, refused.text)
            assert refused.json()["error"]["code"] == "csrf_failed"
        logout = await client.post(
            "/api/v1/auth/logout", headers={"Cookie": f"omg_refresh={refresh}; omg_csrf={csrf}"}
        )
        assert logout.status_code == 403
        # The refused attempts consumed nothing: the token still rotates.
        assert (await _refresh(client, refresh, csrf, csrf)).status_code == 200


async def test_logout_revokes_the_session(control: ControlInstance) -> None:
    async with control.client() as client:
        refresh, csrf = await _login(client)
        logout = await client.post(
            "/api/v1/auth/logout",
            headers={"Cookie": f"omg_refresh={refresh}; omg_csrf={csrf}", "X-CSRF-Token": csrf},
        )
        assert logout.status_code == 204
        cleared = _cookies(logout)
        assert int(cleared["omg_refresh"]["max-age"]) == 0
        assert cleared["omg_refresh"].value == ""
        assert (await _refresh(client, refresh, csrf, csrf)).status_code == 401
        assert (await _refresh(client, "not-a-token", csrf, csrf)).status_code == 401
        no_cookie = await client.post(
            "/api/v1/auth/refresh", headers={"Cookie": f"omg_csrf={csrf}", "X-CSRF-Token": csrf}
        )
        assert no_cookie.status_code == 401


async def test_password_change_by_an_admin_revokes_refresh_tokens(control: ControlInstance) -> None:
    async with control.client() as client:
        refresh, csrf = await _login(client)
        token = (await client.post("/api/v1/auth/login", json=LOGIN)).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        created = await client.post(
            "/api/v1/users", json={"email": "u@example.com", "password": "first-password-123"}, headers=auth
        )
        user_login = {"email": "u@example.com", "password": "first-password-123"}
        response = await client.post("/api/v1/auth/login", json=user_login)
        user_refresh, user_csrf = (
            _cookies(response)["omg_refresh"].value,
            _cookies(response)["omg_csrf"].value,
        )
        changed = await client.patch(
            f"/api/v1/users/{created.json()['id']}", json={"password": "second-password-123"}, headers=auth
        )
        assert changed.status_code == 200
        assert (await _refresh(client, user_refresh, user_csrf, user_csrf)).status_code == 401
        assert (await _refresh(client, refresh, csrf, csrf)).status_code == 200


async def test_cors_only_for_configured_origins(start_control: StartControl) -> None:
    control = start_control(CORS_ALLOWED_ORIGINS="https://ui.example.com, http://localhost:5173")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-csrf-token"}
    async with control.client() as client:
        allowed = await client.options(
            "/api/v1/auth/refresh", headers={"Origin": "https://ui.example.com", **preflight}
        )
        assert allowed.status_code in (200, 204)
        assert allowed.headers["access-control-allow-origin"] == "https://ui.example.com"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert "x-csrf-token" in allowed.headers["access-control-allow-headers"].lower()
        evil = await client.options(
            "/api/v1/auth/refresh", headers={"Origin": "https://evil.example.com", **preflight}
        )
        assert "access-control-allow-origin" not in evil.headers
        simple = await client.post(
            "/api/v1/auth/login", json=LOGIN, headers={"Origin": "https://evil.example.com"}
        )
        assert "access-control-allow-origin" not in simple.headers


async def test_no_cors_headers_without_configured_origins(control: ControlInstance) -> None:
    async with control.client() as client:
        response = await client.post(
            "/api/v1/auth/login", json=LOGIN, headers={"Origin": "https://ui.example.com"}
        )
        preflight = await client.options(
            "/api/v1/auth/login",
            headers={"Origin": "https://ui.example.com", "Access-Control-Request-Method": "POST"},
        )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight.headers
