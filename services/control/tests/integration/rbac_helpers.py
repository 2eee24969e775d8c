"""Helpers for RBAC tests: users with passwords, memberships, and signed-in clients."""

from __future__ import annotations

from typing import Any

import httpx

PASSWORD = "user-password-0123456789"


async def create_user(admin: httpx.AsyncClient, email: str) -> dict[str, Any]:
    """A local user (platform admin API)."""
    response = await admin.post("/api/v1/users", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


async def add_member(admin: httpx.AsyncClient, tenant_id: str, email: str, role: str) -> None:
    """Give a user a role in a tenant."""
    response = await admin.post(f"/api/v1/tenants/{tenant_id}/members", json={"email": email, "role": role})
    assert response.status_code == 201, response.text


async def login(control: Any, email: str, password: str = PASSWORD) -> str:
    """An access token for a user."""
    async with control.client() as client:
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
