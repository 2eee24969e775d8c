"""NATS for production (values for the official Helm chart) and the datastore images the dev
overlay and compose run: the versions the test suite runs against (the pip wheels)."""

from __future__ import annotations

from pathlib import Path

import yaml
from deploycheck.k8s import by_kind
from deploycheck.kustomize import Manifest

REPO = Path(__file__).resolve().parents[2]


def test_nats_values_ask_for_a_three_node_jetstream_cluster() -> None:
    values = yaml.safe_load((REPO / "deploy" / "nats" / "values.yaml").read_text())
    config = values["config"]
    assert config["cluster"] == {"enabled": True, "replicas": 3}
    jetstream = config["jetstream"]
    assert jetstream["enabled"] is True
    assert jetstream["fileStore"]["enabled"] is True
    assert jetstream["fileStore"]["pvc"]["enabled"] is True
    assert values["natsBox"]["enabled"] is False
    assert values["podDisruptionBudget"]["enabled"] is True
    assert "kubernetes.io/hostname" in values["podTemplate"]["topologySpreadConstraints"]


def _images(manifests: list[Manifest]) -> dict[str, str]:
    return {
        name: m["spec"]["template"]["spec"]["containers"][0]["image"]
        for name, m in by_kind(manifests, "StatefulSet").items()
    }


def test_one_version_of_each_datastore_everywhere(rendered: dict[str, list[Manifest]]) -> None:
    dev = _images(rendered["dev"])
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())["services"]
    for store in ("postgres", "valkey", "nats"):
        assert compose[store]["image"] == dev[store], store
    values = yaml.safe_load((REPO / "deploy" / "nats" / "values.yaml").read_text())
    image = values["container"]["image"]
    assert f"{image['repository']}:{image['tag']}" == dev["nats"]
    # The servers the tests run on: PostgreSQL 18.6, Valkey 9.1.2, nats-server 2.15.1.
    assert dev == {
        "postgres": "postgres:18.6-alpine",
        "valkey": "valkey/valkey:9.1.2-alpine",
        "nats": "nats:2.15.1-alpine",
    }


def test_dev_services_reach_the_in_cluster_datastores(rendered: dict[str, list[Manifest]]) -> None:
    overlay = rendered["dev"]
    services = by_kind(overlay, "Service")
    secret = by_kind(overlay, "Secret")["gateway-secrets"]["stringData"]
    assert "@postgres:5432/" in secret["DATABASE_URL"]
    assert secret["REDIS_URL"].startswith("redis://valkey:6379/")
    assert {p["port"] for p in services["postgres"]["spec"]["ports"]} == {5432}
    assert {p["port"] for p in services["valkey"]["spec"]["ports"]} == {6379}
    assert 4222 in {p["port"] for p in services["nats"]["spec"]["ports"]}
    for name in ("proxy", "control", "accounting", "health"):
        assert by_kind(overlay, "ConfigMap")[f"{name}-config"]["data"]["NATS_URL"] == "nats://nats:4222"
    assert f":{secret['POSTGRES_PASSWORD']}@" in secret["DATABASE_URL"]
