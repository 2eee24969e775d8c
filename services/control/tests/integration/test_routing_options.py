"""Routing options through the API: strategies, weights, priority tiers, the provider account's
RPM/TPM caps, per-deployment cost and fallback models are stored, validated and published."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from gateway_proto.v1 import config_pb2

from .rbac_helpers import create_user, login

PRICE = {"input_micro_usd_per_mtok": 150_000, "output_micro_usd_per_mtok": 600_000}
DATA_PLANE_STRATEGY = {
    "weighted": config_pb2.ROUTING_STRATEGY_WEIGHTED,
    "least_busy": config_pb2.ROUTING_STRATEGY_LEAST_IN_FLIGHT,
    "lowest_latency": config_pb2.ROUTING_STRATEGY_LOWEST_LATENCY,
    "lowest_cost": config_pb2.ROUTING_STRATEGY_LOWEST_COST,
}


async def _model(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post("/api/v1/models", json={"name": name, "pricing": PRICE})
    assert response.status_code == 201, response.text


async def _provider(client: httpx.AsyncClient, name: str) -> str:
    response = await client.post(
        "/api/v1/providers",
        json={
            "name": name,
            "type": "openai",
            "base_url": "http://127.0.0.1:9/v1",
            "credentials": {"api_key": "k"},
        },
    )
    assert response.status_code == 201, response.text
    provider_id: str = response.json()["id"]
    return provider_id


def _error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    assert error["request_id"]
    if code is not None:
        assert error["code"] == code, error


async def test_routing_options_are_stored_and_published(control: Any, probe: Any) -> None:
    async with control.client(await control.login()) as client:
        for name in ("chat", "backup-a", "backup-b"):
            await _model(client, name)
        primary, secondary = await _provider(client, "primary"), await _provider(client, "secondary")
        created = await client.post(
            "/api/v1/routes",
            json={
                "model": "chat",
                "strategy": "lowest_cost",
                "fallback_models": ["backup-a", "backup-b"],
                "deployments": [
                    {
                        "provider_id": primary,
                        "upstream_model": "gpt-4o-mini",
                        "weight": 7,
                        "priority": 0,
                        "rpm_limit": 500,
                        "tpm_limit": 90_000,
                        "cost": {"input_micro_usd_per_mtok": 120_000, "output_micro_usd_per_mtok": 480_000},
                    },
                    {"provider_id": secondary, "upstream_model": "gpt-4o-mini", "priority": 1},
                ],
            },
        )
        assert created.status_code == 201, created.text
        route = created.json()
        assert route["strategy"] == "lowest_cost"
        assert route["fallback_models"] == ["backup-a", "backup-b"]
        first, second = route["deployments"]
        assert (first["weight"], first["priority"], first["rpm_limit"], first["tpm_limit"]) == (
            7,
            0,
            500,
            90_000,
        )
        assert first["cost"] == {
            "input_micro_usd_per_mtok": 120_000,
            "output_micro_usd_per_mtok": 480_000,
            "cached_input_micro_usd_per_mtok": None,
        }
        assert (second["weight"], second["rpm_limit"], second["tpm_limit"], second["cost"]) == (
            1,
            None,
            None,
            None,
        )
        assert (await client.get("/api/v1/routes")).json()["items"] == [route]

        snapshot, _ = await probe.wait_for_snapshot(lambda s: len(s.routes) == 1 and len(s.deployments) == 2)
        [proto_route] = snapshot.routes
        assert proto_route.strategy == config_pb2.ROUTING_STRATEGY_LOWEST_COST
        assert list(proto_route.fallback_models) == ["backup-a", "backup-b"]
        assert list(proto_route.deployment_ids) == [first["id"], second["id"]]
        published = {d.id: d for d in snapshot.deployments}
        costed = published[first["id"]]
        assert (costed.weight, costed.priority, costed.rpm_limit, costed.tpm_limit) == (7, 0, 500, 90_000)
        assert costed.cost.priced
        assert (
            costed.cost.input_micro_usd_per_mtok,
            costed.cost.output_micro_usd_per_mtok,
            costed.cost.cached_input_micro_usd_per_mtok,
        ) == (120_000, 480_000, 120_000)
        assert not published[second["id"]].HasField("cost")

        # Changing the route: strategy and fallbacks.
        changed = await client.patch(
            f"/api/v1/routes/{route['id']}",
            json={"strategy": "lowest_latency", "fallback_models": ["backup-b"]},
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["strategy"], changed.json()["fallback_models"]) == (
            "lowest_latency",
            ["backup-b"],
        )
        # Changing a deployment: caps removed with 0, a new weight and tier, the cost replaced.
        path = f"/api/v1/routes/{route['id']}/deployments"
        updated = await client.patch(
            f"{path}/{first['id']}",
            json={
                "weight": 3,
                "priority": 2,
                "rpm_limit": 0,
                "tpm_limit": 1_000,
                "cost": {
                    "input_micro_usd_per_mtok": 1,
                    "output_micro_usd_per_mtok": 2,
                    "cached_input_micro_usd_per_mtok": 0,
                },
            },
        )
        assert updated.status_code == 200, updated.text
        body = updated.json()
        assert (body["weight"], body["priority"], body["rpm_limit"], body["tpm_limit"]) == (3, 2, None, 1_000)
        cheap = await client.patch(f"{path}/{second['id']}", json={"cost": {**PRICE}, "weight": 0})
        assert cheap.status_code == 200, cheap.text
        assert cheap.json()["cost"]["input_micro_usd_per_mtok"] == 150_000

        snapshot, _ = await probe.wait_for_snapshot(
            lambda s: (
                s.routes[0].strategy == config_pb2.ROUTING_STRATEGY_LOWEST_LATENCY
                and {d.id: d.weight for d in s.deployments} == {first["id"]: 3, second["id"]: 0}
            )
        )
        [proto_route] = snapshot.routes
        assert list(proto_route.fallback_models) == ["backup-b"]
        # The priority tiers changed order: second (tier 1) now comes before first (tier 2).
        assert list(proto_route.deployment_ids) == [second["id"], first["id"]]
        published = {d.id: d for d in snapshot.deployments}
        assert (published[first["id"]].rpm_limit, published[first["id"]].tpm_limit) == (0, 1_000)
        assert published[first["id"]].cost.cached_input_micro_usd_per_mtok == 0
        assert published[second["id"]].cost.priced

        # clear_cost removes the cost; disabling takes the deployment out of the snapshot.
        cleared = await client.patch(f"{path}/{first['id']}", json={"clear_cost": True, "enabled": False})
        assert cleared.status_code == 200, cleared.text
        assert (cleared.json()["cost"], cleared.json()["enabled"]) == (None, False)
        snapshot, _ = await probe.wait_for_snapshot(lambda s: [d.id for d in s.deployments] == [second["id"]])
        assert list(snapshot.routes[0].deployment_ids) == [second["id"]]

        audit = (await client.get("/api/v1/audit", params={"action": "deployment."})).json()["items"]
        assert [entry["action"] for entry in audit] == ["deployment.update"] * 3
        assert audit[-1]["before"]["cost"]["input_micro_usd_per_mtok"] == 120_000
        route_audit = (await client.get("/api/v1/audit", params={"action": "route.update"})).json()["items"]
        assert route_audit[0]["after"]["strategy"] == "lowest_latency"


async def test_every_strategy_reaches_the_data_plane(control: Any, probe: Any) -> None:
    async with control.client(await control.login()) as client:
        provider = await _provider(client, "p")
        for strategy in DATA_PLANE_STRATEGY:
            await _model(client, f"m-{strategy}")
            response = await client.post(
                "/api/v1/routes",
                json={
                    "model": f"m-{strategy}",
                    "strategy": strategy,
                    "deployments": [{"provider_id": provider, "upstream_model": "u"}],
                },
            )
            assert response.status_code == 201, response.text
        snapshot, _ = await probe.wait_for_snapshot(lambda s: len(s.routes) == len(DATA_PLANE_STRATEGY))
    names = {m.id: m.name for m in snapshot.models}
    assert {names[r.model_id]: r.strategy for r in snapshot.routes} == {
        f"m-{strategy}": enum for strategy, enum in DATA_PLANE_STRATEGY.items()
    }


async def test_bad_routing_options_are_refused_and_change_nothing(control: Any, probe: Any) -> None:
    async with control.client(await control.login()) as client:
        for name in ("chat", "other"):
            await _model(client, name)
        provider = await _provider(client, "p")
        good = {"provider_id": provider, "upstream_model": "gpt"}
        cost = {"input_micro_usd_per_mtok": 1, "output_micro_usd_per_mtok": 2}
        for bad_deployment in (
            {**good, "weight": -1},
            {**good, "weight": 10_001},
            {**good, "priority": 1_001},
            {**good, "rpm_limit": 0},
            {**good, "rpm_limit": 2**31},
            {**good, "tpm_limit": -5},
            {**good, "tpm_limit": 1.5},
            {**good, "cost": {"input_micro_usd_per_mtok": 1}},
            {**good, "cost": {**cost, "input_micro_usd_per_mtok": -1}},
            {**good, "cost": {**cost, "reasoning_micro_usd_per_mtok": 3}},
            {**good, "cost": {**cost, "cached_input_micro_usd_per_mtok": "one"}},
            {**good, "cost": 5},
        ):
            response = await client.post(
                "/api/v1/routes", json={"model": "chat", "deployments": [bad_deployment]}
            )
            _error(response, 400, "bad_request")
        for strategy in ("priority", "round_robin", "cheapest", None):
            response = await client.post(
                "/api/v1/routes", json={"model": "chat", "deployments": [good], "strategy": strategy}
            )
            _error(response, 400, "bad_request")
        for fallbacks, status in (
            (["nope"], 422),
            (["chat"], 422),
            (["bad name"], 400),
            (["other"] * 21, 400),
        ):
            response = await client.post(
                "/api/v1/routes", json={"model": "chat", "deployments": [good], "fallback_models": fallbacks}
            )
            _error(response, status)
        assert (await client.get("/api/v1/routes")).json()["items"] == []

        created = await client.post(
            "/api/v1/routes", json={"model": "chat", "deployments": [{**good, "cost": cost}]}
        )
        assert created.status_code == 201, created.text
        route = created.json()
        [deployment] = route["deployments"]
        other = await client.post("/api/v1/routes", json={"model": "other", "deployments": [good]})
        assert other.status_code == 201, other.text
        foreign = other.json()["deployments"][0]["id"]

        route_path = f"/api/v1/routes/{route['id']}"
        deployment_path = f"{route_path}/deployments/{deployment['id']}"
        for body in ({"strategy": "random"}, {"fallback_models": "other"}, {"color": "red"}):
            _error(await client.patch(route_path, json=body), 400, "bad_request")
        _error(await client.patch(route_path, json={"fallback_models": ["nope"]}), 422, "invalid_input")
        _error(
            await client.patch(f"/api/v1/routes/{uuid.uuid4()}", json={"strategy": "weighted"}),
            404,
            "not_found",
        )
        for body in (
            {"weight": -1},
            {"priority": 5_000},
            {"rpm_limit": -1},
            {"tpm_limit": "many"},
            {"cost": {"output_micro_usd_per_mtok": 1}},
            {"upstream_model": "other"},
        ):
            _error(await client.patch(deployment_path, json=body), 400, "bad_request")
        both = await client.patch(deployment_path, json={"cost": cost, "clear_cost": True})
        _error(both, 422, "invalid_input")
        # A deployment of another route, or no deployment at all: 404 like any unknown id.
        _error(
            await client.patch(f"{route_path}/deployments/{foreign}", json={"weight": 2}), 404, "not_found"
        )
        _error(
            await client.patch(f"{route_path}/deployments/{uuid.uuid4()}", json={"weight": 2}),
            404,
            "not_found",
        )

        items = (await client.get("/api/v1/routes")).json()["items"]
        assert [r for r in items if r["id"] == route["id"]] == [route]
        assert not (await client.get("/api/v1/audit", params={"action": "route.update"})).json()["items"]
        assert not (await client.get("/api/v1/audit", params={"action": "deployment.update"})).json()["items"]


async def test_routes_stay_platform_admin_only(control: Any) -> None:
    admin_token = await control.login()
    async with control.client(admin_token) as admin:
        await create_user(admin, "someone@example.com")
    token = await login(control, "someone@example.com")
    route_id, deployment_id = uuid.uuid4(), uuid.uuid4()
    async with control.client(token) as client:
        _error(
            await client.patch(f"/api/v1/routes/{route_id}", json={"strategy": "weighted"}), 403, "forbidden"
        )
        _error(
            await client.patch(f"/api/v1/routes/{route_id}/deployments/{deployment_id}", json={"weight": 1}),
            403,
            "forbidden",
        )
