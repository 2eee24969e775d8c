"""Indexing a ConfigSnapshot: credentials opened once, routes resolved, timeouts merged."""

from __future__ import annotations

import base64
import os

from gateway_common.names import SNAPSHOT_SCHEMA_VERSION
from gateway_common.sealing import DataPlaneKeys
from gateway_proto.v1.config_pb2 import (
    ConfigSnapshot,
    Deployment,
    Model,
    Provider,
    Route,
)
from gateway_proto.v1.config_pb2 import (
    Timeouts as TimeoutsProto,
)
from gateway_proto.v1.pricing_pb2 import ModelPricing
from gateway_proxy.runtime import Timeouts, build_runtime_config

KEYS = DataPlaneKeys.from_base64("dp1", base64.b64encode(os.urandom(32)).decode())
OTHER_KEYS = DataPlaneKeys.from_base64("dp1", base64.b64encode(os.urandom(32)).decode())
DEFAULTS = Timeouts(sync_s=300, stream_idle_s=30, total_s=300, upstream_s=280, connect_s=10)


def snapshot() -> ConfigSnapshot:
    return ConfigSnapshot(
        revision=7,
        schema_version=SNAPSHOT_SCHEMA_VERSION,
        providers=[
            Provider(
                id="p1",
                name="good",
                type="openai",
                base_url="http://a/v1",
                credentials=KEYS.seal({"api_key": "sk-up"}, aad="p1"),
                settings={"header.x-a": "1"},
            ),
            # Sealed for another provider id: must not open as p2.
            Provider(
                id="p2",
                name="swapped",
                type="openai",
                base_url="http://b/v1",
                credentials=KEYS.seal({"api_key": "sk-up"}, aad="p1"),
            ),
            Provider(id="p3", name="alien", type="no-such-adapter", base_url="http://c/v1"),
            Provider(
                id="p4",
                name="other-key",
                type="openai",
                base_url="http://d/v1",
                credentials=OTHER_KEYS.seal({"api_key": "sk-up"}, aad="p4"),
            ),
        ],
        models=[
            Model(
                id="m1",
                name="chat",
                pricing=ModelPricing(priced=True),
                timeouts=TimeoutsProto(stream_idle_ms=1500),
            ),
            Model(id="m2", name="unpriced"),
        ],
        deployments=[
            Deployment(id="d1", model_id="m1", provider_id="p1", upstream_model="gpt-up", weight=1),
            Deployment(id="d2", model_id="m1", provider_id="p2", upstream_model="gpt-up", weight=1),
            Deployment(id="d3", model_id="m2", provider_id="p1", upstream_model="cheap", weight=1),
            Deployment(id="d4", model_id="m2", provider_id="p3", upstream_model="cheap", weight=1),
        ],
        routes=[Route(id="r1", model_id="m1", deployment_ids=["d1", "d2", "missing"])],
    )


def test_models_are_indexed_by_name_and_id() -> None:
    config = build_runtime_config(snapshot(), KEYS, DEFAULTS)
    assert config.revision == 7
    assert config.model("chat") is config.models_by_id["m1"]
    assert config.model("m1") is None  # clients call models by name


def test_credentials_are_opened_once_and_bad_providers_left_out() -> None:
    config = build_runtime_config(snapshot(), KEYS, DEFAULTS)
    chat = config.model("chat")
    assert chat is not None
    assert [d.id for d in chat.route.deployments] == ["d1"]
    assert chat.route.deployments[0].provider.config.credentials == {"api_key": "sk-up"}
    assert chat.route.deployments[0].target.upstream_model == "gpt-up"
    assert config.unusable_providers == {"p2", "p3", "p4"}


def test_a_model_without_a_route_uses_all_its_deployments() -> None:
    config = build_runtime_config(snapshot(), KEYS, DEFAULTS)
    unpriced = config.model("unpriced")
    assert unpriced is not None
    assert [d.id for d in unpriced.route.deployments] == ["d3"]


def test_unpriced_models_are_not_servable_unless_allowed() -> None:
    snap = snapshot()
    assert not build_runtime_config(snap, KEYS, DEFAULTS).models_by_name["unpriced"].servable
    snap.allow_unpriced_models = True
    assert build_runtime_config(snap, KEYS, DEFAULTS).models_by_name["unpriced"].servable


def test_model_timeouts_override_the_defaults() -> None:
    config = build_runtime_config(snapshot(), KEYS, DEFAULTS)
    assert config.models_by_name["chat"].timeouts == Timeouts(300, 1.5, 300, 280, 10)
    assert config.models_by_name["unpriced"].timeouts == DEFAULTS
