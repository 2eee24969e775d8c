"""Rate limits through control: tenant overrides reach the key records in Redis, and the
platform's rate-limit defaults reach the ConfigSnapshot in NATS KV (platform admins only)."""

from __future__ import annotations

from typing import Any

from gateway_common.apikeys import key_digest

from .rbac_helpers import add_member, create_user, login

DEFAULTS_PATH = "/api/v1/settings/rate-limit-defaults"


async def test_tenant_limits_are_published_in_key_records(control: Any, probe: Any) -> None:
    async with control.client(await control.login()) as admin:
        tenant = (await admin.post("/api/v1/tenants", json={"name": "limited"})).json()
        assert (tenant["rpm_limit"], tenant["tpm_limit"], tenant["max_parallel"]) == (None, None, None)
        secret = (await admin.post(f"/api/v1/tenants/{tenant['id']}/keys", json={"name": "k"})).json()["key"]
        path = f"/api/v1/tenants/{tenant['id']}"

        changed = await admin.patch(path, json={"rpm_limit": 30, "tpm_limit": 5_000, "max_parallel": 4})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["rpm_limit"], changed.json()["max_parallel"]) == (30, 4)
        record, _ = await probe.key_record(key_digest(control.pepper, secret))
        assert record is not None
        assert (record.tenant_limits.rpm, record.tenant_limits.tpm, record.tenant_limits.max_parallel) == (
            30,
            5_000,
            4,
        )

        # 0 removes one override (the default applies again); omitted fields stay.
        cleared = await admin.patch(path, json={"rpm_limit": 0})
        assert cleared.status_code == 200, cleared.text
        assert (cleared.json()["rpm_limit"], cleared.json()["tpm_limit"]) == (None, 5_000)
        record, _ = await probe.key_record(key_digest(control.pepper, secret))
        assert record is not None
        assert (record.tenant_limits.rpm, record.tenant_limits.tpm) == (0, 5_000)

        for bad in ({"rpm_limit": -1}, {"max_parallel": -5}, {"tpm_limit": "many"}):
            refused = await admin.patch(path, json=bad)
            assert refused.status_code == 400, (bad, refused.text)
            assert refused.json()["error"]["code"], refused.text
        assert (await admin.get(path)).json()["tpm_limit"] == 5_000

        audit = (await admin.get("/api/v1/audit", params={"action": "tenant.update"})).json()
        assert [item["after"]["rpm_limit"] for item in audit["items"]][:2] in ([None, 30], [30, None])

        # A tenant owner may not change the tenant's limits.
        await create_user(admin, "owner@limits.example")
        await add_member(admin, tenant["id"], "owner@limits.example", "owner")
    async with control.client(await login(control, "owner@limits.example")) as owner:
        assert (await owner.patch(path, json={"rpm_limit": 1_000})).status_code == 403
    async with control.client(await control.login()) as admin:
        assert (await admin.get(path)).json()["rpm_limit"] is None


async def test_rate_limit_defaults_are_published_in_the_snapshot(control: Any, probe: Any) -> None:
    async with control.client(await control.login()) as admin:
        zero = {"rpm": 0, "tpm": 0, "max_parallel": 0}
        assert (await admin.get(DEFAULTS_PATH)).json() == {"key_limits": zero, "tenant_limits": zero}
        wanted = {
            "key_limits": {"rpm": 60, "tpm": 10_000, "max_parallel": 2},
            "tenant_limits": {**zero, "rpm": 600},
        }
        stored = await admin.put(DEFAULTS_PATH, json=wanted)
        assert stored.status_code == 200, stored.text
        assert stored.json() == wanted
        assert (await admin.get(DEFAULTS_PATH)).json() == wanted

        snapshot, _ = await probe.wait_for_snapshot(lambda s: s.default_key_limits.rpm == 60)
        assert (snapshot.default_key_limits.tpm, snapshot.default_key_limits.max_parallel) == (10_000, 2)
        assert (snapshot.default_tenant_limits.rpm, snapshot.default_tenant_limits.tpm) == (600, 0)

        for bad in (
            {"key_limits": {"rpm": -1}},
            {"tenant_limits": {"max_parallel": -1}},
            {"key_limits": {"rpms": 1}},
            {"key_limits": {"tpm": 1.5}},
            {"key": {"rpm": 1}},
        ):
            refused = await admin.put(DEFAULTS_PATH, json=bad)
            assert refused.status_code == 400, (bad, refused.text)
            assert refused.json()["error"]["code"], refused.text
        assert (await admin.get(DEFAULTS_PATH)).json() == wanted

        audit = (await admin.get("/api/v1/audit", params={"action": "settings.rate_limit_defaults"})).json()
        assert len(audit["items"]) == 1
        assert audit["items"][0]["after"]["key_limits"]["rpm"] == 60

        await create_user(admin, "member@limits.example")
    async with control.client(await login(control, "member@limits.example")) as member:
        assert (await member.get(DEFAULTS_PATH)).status_code == 403
        assert (await member.put(DEFAULTS_PATH, json={"key_limits": {"rpm": 1}})).status_code == 403
    async with control.client(await control.login()) as admin:
        assert (await admin.get(DEFAULTS_PATH)).json() == wanted
