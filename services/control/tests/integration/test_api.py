"""The admin API end to end: login, resources, snapshot in NATS KV, key records in Redis, audit."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import nats
import psycopg
from gateway_common.apikeys import is_well_formed, key_digest
from gateway_common.names import KEY_INVALIDATE_SUBJECT
from gateway_common.sealing import DataPlaneKeys
from gateway_proto.v1.keys_pb2 import KeyInvalidation, KeyRecord, TenantStatus


async def create_catalog(
    client: httpx.AsyncClient, canary: str, model: str = "demo"
) -> dict[str, dict[str, object]]:
    """A provider (with the canary credential), a priced model and its route."""
    provider = await client.post(
        "/api/v1/providers",
        json={
            "name": f"fake-openai-{model}",
            "type": "openai",
            "base_url": "http://127.0.0.1:9/v1",
            "credentials": {"api_key": canary},
            "settings": {"organization": "org-test"},
        },
    )
    assert provider.status_code == 201, provider.text
    created_model = await client.post(
        "/api/v1/models",
        json={
            "name": model,
            "context_window": 8192,
            "capabilities": ["chat"],
            "pricing": {"input_micro_usd_per_mtok": 150_000, "output_micro_usd_per_mtok": 600_000},
        },
    )
    assert created_model.status_code == 201, created_model.text
    route = await client.post(
        "/api/v1/routes",
        json={
            "model": model,
            "deployments": [
                {"provider_id": provider.json()["id"], "upstream_model": "gpt-4o-mini", "weight": 2}
            ],
        },
    )
    assert route.status_code == 201, route.text
    return {"provider": provider.json(), "model": created_model.json(), "route": route.json()}


async def test_admin_flow_publishes_snapshot_and_key_records(
    control: Any, probe: Any, fresh_database_url: str
) -> None:
    token = await control.login()
    async with control.client(token) as client:
        tenant = await client.post("/api/v1/tenants", json={"name": "acme"})
        assert tenant.status_code == 201, tenant.text
        assert tenant.json()["status"] == "active"
        tenant_id = tenant.json()["id"]
        assert (await client.get(f"/api/v1/tenants/{tenant_id}")).json()["name"] == "acme"
        page = (await client.get("/api/v1/tenants", params={"limit": 10, "offset": 0})).json()
        assert page["total"] == 1
        assert page["items"][0]["id"] == tenant_id

        catalog = await create_catalog(client, control.canary)
        provider = catalog["provider"]
        assert provider["has_credentials"] is True
        assert "credentials" not in provider
        route = catalog["route"]
        assert route["model"] == "demo"
        assert route["strategy"] == "weighted"
        assert route["deployments"][0]["weight"] == 2

        snapshot, raw = await probe.wait_for_snapshot(
            lambda s: any(m.name == "demo" for m in s.models) and len(s.routes) == 1
        )
        assert control.canary.encode() not in raw
        [model] = [m for m in snapshot.models if m.name == "demo"]
        assert model.pricing.priced
        assert model.pricing.output_micro_usd_per_mtok == 600_000
        [proto_route] = snapshot.routes
        assert list(proto_route.deployment_ids) == [route["deployments"][0]["id"]]
        [proto_provider] = snapshot.providers
        dataplane = DataPlaneKeys.from_base64("dp-test", control.env["DATAPLANE_KEY"])
        opened = dataplane.open(proto_provider.credentials, aad=proto_provider.id)
        assert opened == {"api_key": control.canary}

        created = await client.post(
            f"/api/v1/tenants/{tenant_id}/keys", json={"name": "ci", "allowed_models": ["demo"]}
        )
        assert created.status_code == 201, created.text
        secret = created.json()["key"]
        key_id = created.json()["id"]
        assert is_well_formed(secret)
        assert secret.startswith(created.json()["prefix"])
        assert secret.endswith(created.json()["last4"])
        digest = key_digest(control.pepper, secret)
        record, ttl = await probe.key_record(digest)
        assert record is not None
        assert ttl == -1
        assert (record.key_id, record.tenant_id) == (key_id, tenant_id)
        assert not record.revoked
        assert record.tenant_status == TenantStatus.TENANT_STATUS_ACTIVE
        assert list(record.allowed_models) == ["demo"]

        listed = await client.get(f"/api/v1/tenants/{tenant_id}/keys")
        assert listed.status_code == 200
        assert secret not in listed.text
        assert listed.json()["items"][0]["last4"] == secret[-4:]

        nc = await nats.connect(probe.nats_url)
        invalidations = await nc.subscribe(KEY_INVALIDATE_SUBJECT)
        try:
            revoked = await client.post(f"/api/v1/keys/{key_id}/revoke")
            assert revoked.status_code == 200, revoked.text
            assert revoked.json()["revoked_at"] is not None
            message = await invalidations.next_msg(timeout=5)
        finally:
            await nc.close()
        invalidation = KeyInvalidation()
        invalidation.ParseFromString(message.data)
        assert (invalidation.key_id, invalidation.digest) == (key_id, digest)
        record, ttl = await probe.key_record(digest)
        assert record is not None
        assert record.revoked
        assert ttl > 0
        again = await client.post(f"/api/v1/keys/{key_id}/revoke")
        assert again.status_code == 200
        assert again.json()["revoked_at"] == revoked.json()["revoked_at"]

    await _internal_lookup_works(control, digest)
    assert not any(control.canary.encode() in body for body in control.responses)
    assert not any(secret.encode() in body for body in control.responses[1:] if b'"key":' not in body)
    await _audit_trail_is_complete_and_clean(fresh_database_url, secret, control)
    log = control.process.log_tail(10_000_000)
    assert control.canary not in log
    assert secret not in log
    # The access log is there (so the absence above means something).
    assert '"message":"POST /api/v1/providers 201"' in log


async def _internal_lookup_works(control: Any, digest: str) -> None:
    async with control.client() as client:
        unauthorised = await client.get(f"/internal/keys/{digest}")
        assert unauthorised.status_code == 401
        headers = {"Authorization": f"Bearer {control.internal_token}"}
        found = await client.get(f"/internal/keys/{digest}", headers=headers)
        assert found.status_code == 200
        assert found.headers["content-type"].startswith("application/x-protobuf")
        record = KeyRecord()
        record.ParseFromString(found.content)
        assert record.digest == digest
        assert record.revoked
        missing = await client.get(f"/internal/keys/{'0' * 64}", headers=headers)
        assert missing.status_code == 404
        malformed = await client.get("/internal/keys/not-a-digest", headers=headers)
        assert malformed.status_code == 400


async def _audit_trail_is_complete_and_clean(database_url: str, secret: str, control: Any) -> None:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute(
            "SELECT action, actor_email, request_id, host(ip), before::text, after::text"
            " FROM control.audit_log ORDER BY id"
        )
        rows = await cursor.fetchall()
    actions = [row[0] for row in rows]
    for expected in (
        "user.create",
        "auth.login",
        "tenant.create",
        "provider.create",
        "model.create",
        "route.create",
        "api_key.create",
        "api_key.revoke",
    ):
        assert expected in actions, actions
    mutations = [row for row in rows if row[0] in ("tenant.create", "provider.create", "api_key.revoke")]
    for _action, actor_email, request_id, ip, _before, _after in mutations:
        assert actor_email == control.admin_email
        assert request_id
        assert ip == "127.0.0.1"
    everything = " ".join(str(value) for row in rows for value in row)
    assert control.canary not in everything
    assert secret not in everything


async def test_suspending_a_tenant_rewrites_its_key_records(control: Any, probe: Any) -> None:
    async with control.client(await control.login()) as client:
        tenant_id = (await client.post("/api/v1/tenants", json={"name": "suspend-me"})).json()["id"]
        keys = [
            (await client.post(f"/api/v1/tenants/{tenant_id}/keys", json={"name": f"k{i}"})).json()["key"]
            for i in range(3)
        ]
        suspended = await client.patch(f"/api/v1/tenants/{tenant_id}", json={"status": "suspended"})
        assert suspended.status_code == 200
        assert suspended.json()["status"] == "suspended"
        for secret in keys:
            record, _ttl = await probe.key_record(key_digest(control.pepper, secret))
            assert record is not None
            assert record.tenant_status == TenantStatus.TENANT_STATUS_SUSPENDED
        await client.patch(f"/api/v1/tenants/{tenant_id}", json={"status": "active"})
        record, _ttl = await probe.key_record(key_digest(control.pepper, keys[0]))
        assert record is not None
        assert record.tenant_status == TenantStatus.TENANT_STATUS_ACTIVE


async def test_every_route_has_an_operation_id(control: Any) -> None:
    async with control.client() as client:
        spec = (await client.get("/schema/openapi.json")).json()
    operations = [op for item in spec["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert len(operations) >= 14
    ids = [op.get("operationId") for op in operations]
    assert all(ids)
    assert len(set(ids)) == len(ids)
    assert "BearerToken" in spec["components"]["securitySchemes"]


async def test_health_metrics_and_request_id(control: Any) -> None:
    async with control.client() as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"postgres": True, "redis": True, "nats": True, "migrations": True}
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert "gateway_control_snapshot_publishes_total" in metrics.text
        echoed = await client.get("/healthz", headers={"X-Request-ID": "req-123"})
        assert echoed.headers["x-request-id"] == "req-123"
        generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces;drop"})
        assert generated.headers["x-request-id"] != "bad id with spaces;drop"


async def test_unknown_ids_are_404(control: Any) -> None:
    async with control.client(await control.login()) as client:
        missing = uuid.uuid4()
        for response in (
            await client.get(f"/api/v1/tenants/{missing}"),
            await client.get(f"/api/v1/models/{missing}"),
            await client.post(f"/api/v1/keys/{missing}/revoke"),
            await client.get(f"/api/v1/tenants/{missing}/keys"),
            await client.post(f"/api/v1/tenants/{missing}/keys", json={"name": "x"}),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["error"]["code"] == "not_found"
