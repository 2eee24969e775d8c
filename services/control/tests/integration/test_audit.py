"""The audit trail: searchable through the API, never editable or deletable through anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest


async def test_audit_search_filters_and_pages(control: Any) -> None:
    async with control.client(await control.login()) as client:
        before = datetime.now(UTC)
        for name in ("a1", "a2", "a3"):
            assert (await client.post("/api/v1/tenants", json={"name": name})).status_code == 201
        page = (await client.get("/api/v1/audit", params={"action": "tenant.create", "limit": 2})).json()
        assert [e["action"] for e in page["items"]] == ["tenant.create"] * 2
        assert page["items"][0]["after"]["name"] == "a3"
        assert page["items"][0]["actor_email"] == control.admin_email
        assert page["items"][0]["ip"] == "127.0.0.1"
        older = (
            await client.get(
                "/api/v1/audit", params={"action": "tenant.create", "before_id": page["next_before_id"]}
            )
        ).json()
        assert [e["after"]["name"] for e in older["items"]] == ["a1"]
        assert older["next_before_id"] is None
        prefixed = (await client.get("/api/v1/audit", params={"action": "auth."})).json()
        assert {e["action"] for e in prefixed["items"]} == {"auth.login"}
        target = page["items"][0]["target_id"]
        by_target = (
            await client.get("/api/v1/audit", params={"target_type": "tenant", "target_id": target})
        ).json()
        assert [e["target_id"] for e in by_target["items"]] == [target]
        actor = page["items"][0]["actor_id"]
        by_actor = (await client.get("/api/v1/audit", params={"actor_id": actor})).json()
        assert all(e["actor_id"] == actor for e in by_actor["items"])
        assert len(by_actor["items"]) >= 4
        window = (
            await client.get(
                "/api/v1/audit",
                params={"since": before.isoformat(), "until": (before + timedelta(hours=1)).isoformat()},
            )
        ).json()
        assert [e["action"] for e in window["items"]] == ["tenant.create"] * 3  # login came earlier
        future = (await client.get("/api/v1/audit", params={"since": "2999-01-01T00:00:00Z"})).json()
        assert future["items"] == []
        assert (await client.get("/api/v1/audit", params={"since": "2020-01-01T00:00:00"})).status_code == 422


async def test_no_endpoint_can_change_the_audit_trail(control: Any, fresh_database_url: str) -> None:
    async with control.client(await control.login()) as client:
        spec = (await client.get("/schema/openapi.json")).json()
        entry = (await client.get("/api/v1/audit")).json()["items"][0]
        audit_paths = {path: item for path, item in spec["paths"].items() if "audit" in path}
        assert audit_paths
        assert all(set(item) <= {"get", "parameters"} for item in audit_paths.values()), audit_paths
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            for path in ("/api/v1/audit", f"/api/v1/audit/{entry['id']}"):
                response = await client.request(method, path, json={})
                assert response.status_code in (404, 405), (method, path, response.status_code)
        after = (await client.get("/api/v1/audit")).json()["items"]
        assert any(e["id"] == entry["id"] and e == entry for e in after)
    async with await psycopg.AsyncConnection.connect(fresh_database_url, autocommit=True) as conn:
        for statement in (
            "UPDATE control.audit_log SET action = 'x'",
            "DELETE FROM control.audit_log",
            "TRUNCATE control.audit_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                await conn.execute(statement)
