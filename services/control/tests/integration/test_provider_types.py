"""GET /api/v1/providers/types lists the registered adapters and their capabilities."""

from __future__ import annotations

from typing import Any

from gateway_providers.registry import get_adapter, registered_types

from .rbac_helpers import create_user, login


async def test_provider_types_come_from_the_adapter_registry(control: Any) -> None:
    async with control.client(await control.login()) as admin:
        response = await admin.get("/api/v1/providers/types")
        await create_user(admin, "nonadmin@example.com")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["type"] for item in items] == sorted(registered_types())
    assert {"openai", "anthropic"} <= {item["type"] for item in items}
    for item in items:
        assert item["capabilities"] == sorted(get_adapter(item["type"]).capabilities)
    openai = next(item for item in items if item["type"] == "openai")
    assert {"chat", "stream", "embeddings"} <= set(openai["capabilities"])
    async with control.client(await login(control, "nonadmin@example.com")) as user:
        assert (await user.get("/api/v1/providers/types")).status_code == 403
