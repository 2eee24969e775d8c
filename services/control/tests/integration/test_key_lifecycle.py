"""API key rotation with a grace period, per-key limits and allow-lists, entitlements, and
provider/model changes re-publishing the snapshot."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from gateway_common.apikeys import key_digest
from gateway_common.sealing import DataPlaneKeys

from .test_api import create_catalog


async def test_rotation_keeps_the_old_key_until_the_grace_ends(control: Any, probe: Any) -> None:
    async with control.client(await control.login()) as client:
        tenant_id = (await client.post("/api/v1/tenants", json={"name": "rotating"})).json()["id"]
        old = (
            await client.post(f"/api/v1/tenants/{tenant_id}/keys", json={"name": "svc", "rpm_limit": 30})
        ).json()
        started = time.time()
        rotated = await client.post(f"/api/v1/keys/{old['id']}/rotate", json={"grace_period_s": 600})
        assert rotated.status_code == 201, rotated.text
        new = rotated.json()
        assert new["key"] != old["key"]
        assert new["rotated_from"] == old["id"]
        assert new["rpm_limit"] == 30
        assert new["name"] == "svc"

        old_record, old_ttl = await probe.key_record(key_digest(control.pepper, old["key"]))
        assert old_record is not None
        assert not old_record.revoked
        assert old_ttl == -1
        assert started + 590 <= old_record.expires_at.seconds <= time.time() + 610
        new_record, _ = await probe.key_record(key_digest(control.pepper, new["key"]))
        assert new_record is not None
        assert not new_record.HasField("expires_at")
        assert new_record.key_limits.rpm == 30

        listed = (await client.get(f"/api/v1/keys/{old['id']}")).json()
        assert listed["expires_at"] is not None
        assert listed["revoked_at"] is None
        # A second rotation of the old key never extends its life.
        again = await client.post(f"/api/v1/keys/{old['id']}/rotate", json={"grace_period_s": 3600})
        assert again.status_code == 201
        assert (await client.get(f"/api/v1/keys/{old['id']}")).json()["expires_at"] == listed["expires_at"]
        # Ending the grace now: the old key's record expires within a second.
        await client.post(f"/api/v1/keys/{old['id']}/rotate", json={"grace_period_s": 0})
        old_record, _ = await probe.key_record(key_digest(control.pepper, old["key"]))
        assert old_record is not None
        assert old_record.expires_at.seconds <= time.time() + 2
        revoked = await client.post(f"/api/v1/keys/{old['id']}/revoke")
        assert revoked.status_code == 200
        assert (await client.post(f"/api/v1/keys/{old['id']}/rotate", json={})).status_code == 409


async def test_limits_and_allow_list_reach_the_key_record(control: Any, probe: Any) -> None:
    async with control.client(await control.login()) as client:
        await create_catalog(client, control.canary, model="alpha")
        await create_catalog(client, control.canary, model="beta")
        tenant_id = (await client.post("/api/v1/tenants", json={"name": "limited"})).json()["id"]
        key = (await client.post(f"/api/v1/tenants/{tenant_id}/keys", json={"name": "k"})).json()
        digest = key_digest(control.pepper, key["key"])
        patched = await client.patch(
            f"/api/v1/keys/{key['id']}",
            json={
                "rpm_limit": 60,
                "tpm_limit": 10_000,
                "max_parallel": 2,
                "allowed_models": ["beta", "alpha"],
            },
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["allowed_models"] == ["alpha", "beta"]
        record, _ = await probe.key_record(digest)
        assert record is not None
        assert (record.key_limits.rpm, record.key_limits.tpm, record.key_limits.max_parallel) == (
            60,
            10_000,
            2,
        )
        assert list(record.allowed_models) == ["alpha", "beta"]

        cleared = await client.patch(f"/api/v1/keys/{key['id']}", json={"rpm_limit": 0, "disabled": True})
        assert cleared.json()["rpm_limit"] is None
        record, _ = await probe.key_record(digest)
        assert record is not None
        assert record.key_limits.rpm == 0
        assert record.disabled
        assert (
            await client.patch(f"/api/v1/keys/{key['id']}", json={"allowed_models": ["nope"]})
        ).status_code == 422
        assert (await client.patch(f"/api/v1/keys/{key['id']}", json={"rpm_limit": -1})).status_code == 400

        # Tenant entitlements: keys may only narrow them, and records carry them as tenant_models.
        entitled = await client.patch(f"/api/v1/tenants/{tenant_id}", json={"allowed_models": ["alpha"]})
        assert entitled.status_code == 200, entitled.text
        record, _ = await probe.key_record(digest)
        assert record is not None
        assert list(record.tenant_models) == ["alpha"]
        outside = await client.patch(f"/api/v1/keys/{key['id']}", json={"allowed_models": ["beta"]})
        assert outside.status_code == 422
        assert (
            await client.post(
                f"/api/v1/tenants/{tenant_id}/keys", json={"name": "b", "allowed_models": ["beta"]}
            )
        ).status_code == 422


async def test_provider_and_model_changes_republish(
    control: Any, probe: Any, fresh_database_url: str
) -> None:
    second_canary = "sk-canary-second-7c1e55aa90"
    async with control.client(await control.login()) as client:
        catalog = await create_catalog(client, control.canary, model="gamma")
        provider_id = catalog["provider"]["id"]
        model_id = catalog["model"]["id"]
        first, _ = await probe.wait_for_snapshot(lambda s: any(m.name == "gamma" for m in s.models))
        changed = await client.patch(
            f"/api/v1/providers/{provider_id}",
            json={
                "base_url": "http://127.0.0.1:10/v2",
                "settings": {"organization": "org-2"},
                "credentials": {"api_key": second_canary},
            },
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["base_url"] == "http://127.0.0.1:10/v2"
        assert "credentials" not in changed.json()
        assert second_canary not in changed.text
        priced = await client.patch(
            f"/api/v1/models/{model_id}",
            json={"pricing": {"input_micro_usd_per_mtok": 1_000_000, "output_micro_usd_per_mtok": 2_000_000}},
        )
        assert priced.status_code == 200, priced.text
        assert priced.json()["pricing"]["input_micro_usd_per_mtok"] == 1_000_000

        def applied(snapshot: Any) -> bool:
            models = [m for m in snapshot.models if m.name == "gamma"]
            providers = [p for p in snapshot.providers if p.id == provider_id]
            return (
                bool(models)
                and models[0].pricing.input_micro_usd_per_mtok == 1_000_000
                and bool(providers)
                and providers[0].base_url == "http://127.0.0.1:10/v2"
            )

        snapshot, raw = await probe.wait_for_snapshot(applied)
        assert snapshot.revision > first.revision
        assert second_canary.encode() not in raw
        [provider] = [p for p in snapshot.providers if p.id == provider_id]
        dataplane = DataPlaneKeys.from_base64("dp-test", control.env["DATAPLANE_KEY"])
        assert dataplane.open(provider.credentials, aad=provider.id) == {"api_key": second_canary}
        assert (await client.get(f"/api/v1/providers/{provider_id}")).json()["has_credentials"] is True
        assert (
            await client.patch(f"/api/v1/providers/{provider_id}", json={"base_url": "ftp://x"})
        ).status_code == 400

    async with await psycopg.AsyncConnection.connect(fresh_database_url) as conn:
        rows = await (
            await conn.execute("SELECT before::text, after::text FROM control.audit_log")
        ).fetchall()
    assert second_canary not in str(rows)
    assert not any(second_canary.encode() in body for body in control.responses)
    assert second_canary not in control.process.log_tail(10_000_000)
