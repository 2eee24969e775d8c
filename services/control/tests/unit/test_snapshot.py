"""Building the ConfigSnapshot from catalogue rows."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import UTC, datetime

import pytest
from gateway_common.names import SNAPSHOT_SCHEMA_VERSION
from gateway_common.sealing import DataPlaneKeys, SealingError
from gateway_control.db.routes import ListRoutesRow
from gateway_control.db.tables import Deployment, Model, Provider
from gateway_control.publishing.snapshot import (
    STRATEGIES,
    CatalogRows,
    build_snapshot,
    deployment_cost,
    model_pricing,
)
from gateway_control.security.credentials import seal_credentials
from gateway_control.security.envelope import EnvelopeCipher
from gateway_proto.v1 import config_pb2
from gateway_proto.v1.pricing_pb2 import ModelPricing

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CANARY = "sk-canary-5b0f3c1e9d"


@pytest.fixture
def envelope() -> EnvelopeCipher:
    return EnvelopeCipher("mk1", {"mk1": os.urandom(32)})


@pytest.fixture
def dataplane() -> DataPlaneKeys:
    return DataPlaneKeys.from_base64("dp1", base64.b64encode(os.urandom(32)).decode())


def _model(
    name: str, *, price_in: int = 0, price_out: int = 0, enabled: bool = True, **extra: object
) -> Model:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "name": name,
        "owned_by": "gateway",
        "capabilities": ["chat"],
        "context_window": 128_000,
        "input_price_micro_usd_per_mtok": price_in,
        "output_price_micro_usd_per_mtok": price_out,
        "cached_input_price_micro_usd_per_mtok": None,
        "reasoning_price_micro_usd_per_mtok": None,
        "sync_timeout_ms": None,
        "stream_idle_timeout_ms": 15_000,
        "total_timeout_ms": None,
        "upstream_timeout_ms": None,
        "enabled": enabled,
        "created_at": NOW,
        "updated_at": NOW,
    }
    fields.update(extra)
    return Model(**fields)  # type: ignore[arg-type]


def _provider(
    envelope: EnvelopeCipher, *, credentials: dict[str, str] | None, enabled: bool = True
) -> Provider:
    provider_id = uuid.uuid4()
    sealed = None if credentials is None else seal_credentials(envelope, provider_id, credentials)
    return Provider(
        id=provider_id,
        name=f"p-{provider_id.hex[:6]}",
        type="openai",
        base_url="http://127.0.0.1:9999/v1",
        settings={"organization": "org-1", "retries": 2},
        credentials_ciphertext=None if sealed is None else sealed.ciphertext,
        credentials_key_id=None if sealed is None else sealed.key_id,
        credentials_wrapped_key=None if sealed is None else sealed.wrapped_key,
        credentials_nonce=None if sealed is None else sealed.nonce,
        enabled=enabled,
        created_at=NOW,
        updated_at=NOW,
    )


def _deployment(
    model: Model, provider: Provider, *, priority: int = 0, enabled: bool = True, **extra: object
) -> Deployment:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "model_id": model.id,
        "provider_id": provider.id,
        "upstream_model": f"up-{model.name}-{priority}",
        "weight": 3,
        "priority": priority,
        "rpm_limit": None,
        "tpm_limit": 1000,
        "settings": {},
        "enabled": enabled,
        "created_at": NOW,
        "updated_at": NOW,
        "cost_input_micro_usd_per_mtok": None,
        "cost_output_micro_usd_per_mtok": None,
        "cost_cached_input_micro_usd_per_mtok": None,
    }
    fields.update(extra)
    return Deployment(**fields)  # type: ignore[arg-type]


def _route(model: Model, strategy: str = "weighted") -> ListRoutesRow:
    return ListRoutesRow(
        id=uuid.uuid4(),
        model_id=model.id,
        model_name=model.name,
        strategy=strategy,
        fallback_models=["backup"],
        created_at=NOW,
        updated_at=NOW,
    )


def test_snapshot_carries_models_routes_and_sealed_credentials(
    envelope: EnvelopeCipher, dataplane: DataPlaneKeys
) -> None:
    model = _model("demo", price_in=150_000, price_out=600_000)
    provider = _provider(envelope, credentials={"api_key": CANARY})
    low = _deployment(model, provider, priority=1)
    high = _deployment(model, provider, priority=0)
    route = _route(model, "least_busy")
    rows = CatalogRows(
        revision=42, models=[model], deployments=[low, high], routes=[route], providers=[provider]
    )

    snapshot = build_snapshot(
        rows, envelope=envelope, dataplane=dataplane, allow_unpriced_models=False, now=NOW
    )

    assert snapshot.revision == 42
    assert snapshot.schema_version == SNAPSHOT_SCHEMA_VERSION
    assert snapshot.created_at.ToDatetime(tzinfo=UTC) == NOW
    [proto_model] = snapshot.models
    assert proto_model.name == "demo"
    assert proto_model.pricing.priced
    assert proto_model.pricing.input_micro_usd_per_mtok == 150_000
    assert proto_model.timeouts.stream_idle_ms == 15_000
    [proto_route] = snapshot.routes
    assert proto_route.strategy == config_pb2.ROUTING_STRATEGY_LEAST_IN_FLIGHT
    assert list(proto_route.deployment_ids) == [str(high.id), str(low.id)]
    assert list(proto_route.fallback_models) == ["backup"]
    assert {d.id for d in snapshot.deployments} == {str(low.id), str(high.id)}
    [proto_provider] = snapshot.providers
    assert dict(proto_provider.settings) == {"organization": "org-1", "retries": "2"}
    assert proto_provider.credentials.key_id == "dp1"
    assert dataplane.open(proto_provider.credentials, aad=str(provider.id)) == {"api_key": CANARY}
    with pytest.raises(SealingError):
        dataplane.open(proto_provider.credentials, aad=str(uuid.uuid4()))
    assert CANARY.encode() not in snapshot.SerializeToString()


def test_unset_cached_and_reasoning_prices_charge_as_input_and_output() -> None:
    pricing = model_pricing(_model("m", price_in=100, price_out=400))
    assert (pricing.cached_input_micro_usd_per_mtok, pricing.reasoning_micro_usd_per_mtok) == (100, 400)
    explicit = model_pricing(
        _model(
            "m",
            price_in=100,
            price_out=400,
            cached_input_price_micro_usd_per_mtok=10,
            reasoning_price_micro_usd_per_mtok=0,
        )
    )
    assert (explicit.cached_input_micro_usd_per_mtok, explicit.reasoning_micro_usd_per_mtok) == (10, 0)


def test_a_model_without_any_price_is_unpriced() -> None:
    assert not model_pricing(_model("free")).priced
    assert model_pricing(_model("cheap", price_out=1)).priced


def test_disabled_things_and_unopenable_providers_are_left_out(
    envelope: EnvelopeCipher, dataplane: DataPlaneKeys
) -> None:
    model = _model("on", price_in=1, price_out=1)
    off_model = _model("off", price_in=1, price_out=1, enabled=False)
    good = _provider(envelope, credentials={"api_key": "k"})
    disabled = _provider(envelope, credentials={"api_key": "k"}, enabled=False)
    foreign = _provider(EnvelopeCipher("mk1", {"mk1": os.urandom(32)}), credentials={"api_key": "k"})
    keyless = _provider(envelope, credentials=None)
    deployments = [
        kept := _deployment(model, good),
        _deployment(model, good, priority=2, enabled=False),
        _deployment(model, disabled, priority=3),
        _deployment(model, foreign, priority=4),
        _deployment(off_model, good),
    ]
    rows = CatalogRows(
        revision=1,
        models=[model, off_model],
        deployments=deployments,
        routes=[_route(model), _route(off_model)],
        providers=[good, disabled, foreign, keyless],
    )
    snapshot = build_snapshot(
        rows, envelope=envelope, dataplane=dataplane, allow_unpriced_models=True, now=NOW
    )
    assert [m.name for m in snapshot.models] == ["on"]
    assert [d.id for d in snapshot.deployments] == [str(kept.id)]
    assert [list(r.deployment_ids) for r in snapshot.routes] == [[str(kept.id)]]
    assert {p.id for p in snapshot.providers} == {str(good.id), str(keyless.id)}
    assert not next(p for p in snapshot.providers if p.id == str(keyless.id)).HasField("credentials")
    assert snapshot.allow_unpriced_models


def test_routing_fields_and_cost_of_deployments_are_published(
    envelope: EnvelopeCipher, dataplane: DataPlaneKeys
) -> None:
    model = _model("demo", price_in=150_000, price_out=600_000)
    provider = _provider(envelope, credentials={"api_key": "k"})
    costed = _deployment(
        model,
        provider,
        weight=7,
        rpm_limit=500,
        tpm_limit=90_000,
        cost_input_micro_usd_per_mtok=120_000,
        cost_output_micro_usd_per_mtok=480_000,
    )
    free = _deployment(
        model,
        provider,
        priority=1,
        cost_input_micro_usd_per_mtok=0,
        cost_output_micro_usd_per_mtok=0,
        cost_cached_input_micro_usd_per_mtok=0,
    )
    plain = _deployment(model, provider, priority=2, rpm_limit=None, tpm_limit=None)
    rows = CatalogRows(
        revision=3,
        models=[model],
        deployments=[costed, free, plain],
        routes=[_route(model, "lowest_cost")],
        providers=[provider],
    )
    snapshot = build_snapshot(
        rows, envelope=envelope, dataplane=dataplane, allow_unpriced_models=False, now=NOW
    )
    by_id = {d.id: d for d in snapshot.deployments}
    published = by_id[str(costed.id)]
    assert (published.weight, published.priority, published.rpm_limit, published.tpm_limit) == (
        7,
        0,
        500,
        90_000,
    )
    assert published.cost.priced
    assert (
        published.cost.input_micro_usd_per_mtok,
        published.cost.output_micro_usd_per_mtok,
        published.cost.cached_input_micro_usd_per_mtok,
        published.cost.reasoning_micro_usd_per_mtok,
    ) == (120_000, 480_000, 120_000, 480_000)
    # A configured zero cost is a free upstream, not an unknown one.
    assert by_id[str(free.id)].cost.priced
    assert by_id[str(free.id)].cost.input_micro_usd_per_mtok == 0
    unset = by_id[str(plain.id)]
    assert not unset.HasField("cost")
    assert (unset.rpm_limit, unset.tpm_limit) == (0, 0)
    [route] = snapshot.routes
    assert route.strategy == config_pb2.ROUTING_STRATEGY_LOWEST_COST
    assert list(route.deployment_ids) == [str(costed.id), str(free.id), str(plain.id)]


def test_a_cost_without_both_token_prices_is_not_published(envelope: EnvelopeCipher) -> None:
    # The database refuses such a row (deployments_cost_complete); the builder does not trust it.
    provider = _provider(envelope, credentials=None)
    half = _deployment(_model("m"), provider, cost_input_micro_usd_per_mtok=5)
    assert deployment_cost(half) is None
    cached = _deployment(
        _model("m"),
        provider,
        cost_input_micro_usd_per_mtok=5,
        cost_output_micro_usd_per_mtok=9,
        cost_cached_input_micro_usd_per_mtok=1,
    )
    assert deployment_cost(cached) == ModelPricing(
        input_micro_usd_per_mtok=5,
        output_micro_usd_per_mtok=9,
        cached_input_micro_usd_per_mtok=1,
        reasoning_micro_usd_per_mtok=9,
        priced=True,
    )


def test_strategy_names_map_to_the_data_plane_enum() -> None:
    assert STRATEGIES["lowest_cost"] == config_pb2.ROUTING_STRATEGY_LOWEST_COST
    assert STRATEGIES["lowest_latency"] == config_pb2.ROUTING_STRATEGY_LOWEST_LATENCY
    assert STRATEGIES["least_busy"] == config_pb2.ROUTING_STRATEGY_LEAST_IN_FLIGHT
    assert STRATEGIES["weighted"] == config_pb2.ROUTING_STRATEGY_WEIGHTED
