"""Personal tenants: one per user, entitled to the default models; changing the defaults resyncs
every personal tenant and the records of its keys (tenant_models)."""

from __future__ import annotations

from typing import Any

from gateway_common.apikeys import key_digest

from .rbac_helpers import create_user
from .test_api import create_catalog


async def test_default_entitlements_resync_personal_tenants(control: Any, probe: Any) -> None:
    async with control.client(await control.login()) as admin:
        await create_catalog(admin, control.canary, model="m-default")
        await create_catalog(admin, control.canary, model="m-extra")
        assert (await admin.get("/api/v1/settings/default-model-entitlements")).json() == {"models": []}
        set_defaults = await admin.put(
            "/api/v1/settings/default-model-entitlements", json={"models": ["m-default"]}
        )
        assert set_defaults.status_code == 200, set_defaults.text
        await create_user(admin, "dana@p.example")
        await create_user(admin, "eve@p.example")
        tenants = (await admin.get("/api/v1/tenants", params={"include_personal": True, "limit": 500})).json()
        personal = [t for t in tenants["items"] if t["is_personal"]]
        assert len(personal) == 3  # the bootstrap admin, dana, eve
        shared = (await admin.get("/api/v1/tenants")).json()
        assert all(not t["is_personal"] for t in shared["items"])
        newcomer = [t for t in personal if t["allowed_models"] == ["m-default"]]
        assert len(newcomer) >= 2
        keys = []
        for tenant in personal:
            created = await admin.post(f"/api/v1/tenants/{tenant['id']}/keys", json={"name": "p"})
            assert created.status_code == 201, created.text
            keys.append(created.json()["key"])
        assert (
            await admin.put("/api/v1/settings/default-model-entitlements", json={"models": ["nope"]})
        ).status_code == 422

        changed = await admin.put(
            "/api/v1/settings/default-model-entitlements", json={"models": ["m-extra", "m-default"]}
        )
        assert changed.json() == {"models": ["m-default", "m-extra"]}
        for secret in keys:
            record, _ = await probe.key_record(key_digest(control.pepper, secret))
            assert record is not None
            assert list(record.tenant_models) == ["m-default", "m-extra"]
        tenants = (await admin.get("/api/v1/tenants", params={"include_personal": True, "limit": 500})).json()
        assert {tuple(t["allowed_models"]) for t in tenants["items"] if t["is_personal"]} == {
            ("m-default", "m-extra")
        }
        audit = (
            await admin.get("/api/v1/audit", params={"action": "settings.default_model_entitlements"})
        ).json()
        assert len(audit["items"]) == 2
