"""Sign-in attempts are limited per email and per client address (counted in Redis)."""

from __future__ import annotations

from typing import Any

from .conftest import ADMIN_PASSWORD, StartControl


async def test_failed_logins_are_rate_limited_per_email(start_control: StartControl) -> None:
    control: Any = start_control(LOGIN_MAX_FAILURES_PER_EMAIL="3", LOGIN_MAX_FAILURES_PER_IP="1000")
    async with control.client() as client:
        bad = {"email": control.admin_email, "password": "wrong-password-123"}
        for _ in range(3):
            assert (await client.post("/api/v1/auth/login", json=bad)).status_code == 401
        limited = await client.post("/api/v1/auth/login", json=bad)
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 900
        # Even the right password is refused while the email is locked: guessing gains nothing.
        good = {"email": control.admin_email, "password": ADMIN_PASSWORD}
        assert (await client.post("/api/v1/auth/login", json=good)).status_code == 429
        # Another email from the same address is not affected by the per-email limit.
        other = {"email": "someone@example.com", "password": "wrong-password-123"}
        assert (await client.post("/api/v1/auth/login", json=other)).status_code == 401


async def test_failed_logins_are_rate_limited_per_address(start_control: StartControl) -> None:
    control: Any = start_control(LOGIN_MAX_FAILURES_PER_EMAIL="100", LOGIN_MAX_FAILURES_PER_IP="4")
    async with control.client() as client:
        for i in range(4):
            response = await client.post(
                "/api/v1/auth/login", json={"email": f"u{i}@example.com", "password": "wrong-password-123"}
            )
            assert response.status_code == 401
        sprayed = await client.post(
            "/api/v1/auth/login", json={"email": "fresh@example.com", "password": "wrong-password-123"}
        )
        assert sprayed.status_code == 429


async def test_success_clears_the_email_counter(start_control: StartControl) -> None:
    control: Any = start_control(LOGIN_MAX_FAILURES_PER_EMAIL="3", LOGIN_MAX_FAILURES_PER_IP="1000")
    async with control.client() as client:
        bad = {"email": control.admin_email, "password": "wrong-password-123"}
        good = {"email": control.admin_email, "password": ADMIN_PASSWORD}
        for _ in range(2):
            assert (await client.post("/api/v1/auth/login", json=bad)).status_code == 401
        assert (await client.post("/api/v1/auth/login", json=good)).status_code == 200
        for _ in range(2):
            assert (await client.post("/api/v1/auth/login", json=bad)).status_code == 401
        assert (await client.post("/api/v1/auth/login", json=good)).status_code == 200
