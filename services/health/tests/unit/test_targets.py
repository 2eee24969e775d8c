"""From a ConfigSnapshot to probe targets (gateway_health.targets): no I/O, credentials opened."""

from __future__ import annotations

import base64
import os

import pytest
from gateway_common.names import SNAPSHOT_SCHEMA_VERSION
from gateway_common.sealing import DataPlaneKeys
from gateway_health.errors import TargetError
from gateway_health.targets import targets_from_snapshot
from gateway_proto.v1.config_pb2 import ConfigSnapshot, Deployment, Provider

KEYS = DataPlaneKeys.from_base64("dp1", base64.b64encode(os.urandom(32)).decode())
OTHER_KEYS = DataPlaneKeys.from_base64("dp1", base64.b64encode(os.urandom(32)).decode())


def provider(
    pid: str,
    ptype: str = "openai",
    aad: str | None = None,
    keys: DataPlaneKeys = KEYS,
    settings: dict[str, str] | None = None,
    secret: dict[str, str] | None = None,
) -> Provider:
    return Provider(
        id=pid,
        name=pid,
        type=ptype,
        base_url="https://upstream.example/v1/",
        settings=settings or {},
        credentials=keys.seal(
            secret if secret is not None else {"api_key": "sk-secret-1234"}, aad=aad or pid
        ),
    )


def snapshot(providers: list[Provider], deployments: list[tuple[str, str]]) -> ConfigSnapshot:
    return ConfigSnapshot(
        revision=1,
        schema_version=SNAPSHOT_SCHEMA_VERSION,
        providers=providers,
        deployments=[Deployment(id=d, provider_id=p, upstream_model="gpt-4o-mini") for d, p in deployments],
    )


def test_a_good_deployment_builds_the_adapters_probe_request() -> None:
    targets = targets_from_snapshot(
        snapshot([provider("p1", settings={"header.x-fake-status": "500"})], [("d1", "p1"), ("d2", "p1")]),
        KEYS,
    )
    assert set(targets) == {"d1", "d2"}
    request = targets["d1"].build_request()
    assert (request.method, request.url) == ("GET", "https://upstream.example/v1/models")
    assert request.header("authorization") == "Bearer sk-secret-1234"
    assert request.header("x-fake-status") == "500"
    assert targets["d1"].secrets() == ("sk-secret-1234",)
    assert "sk-secret-1234" not in repr(targets["d1"])


@pytest.mark.parametrize(
    ("providers", "problem"),
    [
        ([], "provider 'p1' not found"),
        ([provider("p1", ptype="no-such-type")], "unknown provider type"),
        ([provider("p1", aad="p2")], "credentials cannot be opened"),
        ([provider("p1", keys=OTHER_KEYS)], "credentials cannot be opened"),
        ([provider("p1", secret={})], "has no 'api_key' credential"),
    ],
)
def test_a_deployment_that_cannot_be_probed_says_why(providers: list[Provider], problem: str) -> None:
    targets = targets_from_snapshot(snapshot(providers, [("d1", "p1")]), KEYS)
    with pytest.raises(TargetError, match=problem):
        targets["d1"].build_request()


def test_openai_compatible_needs_no_key() -> None:
    targets = targets_from_snapshot(
        snapshot([provider("p1", ptype="openai_compatible", secret={})], [("d1", "p1")]), KEYS
    )
    assert targets["d1"].build_request().header("authorization") is None


def test_describe_failure_hides_what_a_401_body_could_leak() -> None:
    target = targets_from_snapshot(snapshot([provider("p1")], [("d1", "p1")]), KEYS)["d1"]
    body = (
        b'{"error": {"message": "Incorrect API key provided: sk-secret-1234",'
        b' "type": "invalid_request_error"}}'
    )
    text = target.describe_failure(401, {}, body)
    assert "sk-secret" not in text
    assert target.describe_failure(500, {}, b'{"error": {"message": "boom", "type": "server_error"}}') == (
        "server_error: boom"
    )
