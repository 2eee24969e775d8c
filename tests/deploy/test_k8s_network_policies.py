"""NetworkPolicies: default deny, and exactly the paths the design needs — above all, the proxy
can never reach Postgres (no Postgres on the request path), only control and accounting can."""

from __future__ import annotations

import pytest
from deploycheck.k8s import (
    by_kind,
    egress_rules_admitting,
    ingress_rules_admitting,
    isolated,
    peer_admits_pod,
    pod_labels,
    workloads,
)
from deploycheck.kustomize import Manifest

POSTGRES, REDIS, NATS, HTTPS = 5432, 6379, 4222, 443


def _labels(overlay: list[Manifest], name: str) -> dict[str, str]:
    workload = next(m for m, _ in workloads(overlay) if m["metadata"]["name"] == name)
    return pod_labels(workload)


def _policies(overlay: list[Manifest]) -> list[Manifest]:
    return list(by_kind(overlay, "NetworkPolicy").values())


def test_default_deny_isolates_every_pod(overlay: list[Manifest]) -> None:
    deny = by_kind(overlay, "NetworkPolicy")["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for manifest, _ in workloads(overlay):
        labels = pod_labels(manifest)
        assert isolated(_policies(overlay), labels, "Ingress"), manifest["metadata"]["name"]
        assert isolated(_policies(overlay), labels, "Egress"), manifest["metadata"]["name"]


def test_proxy_cannot_reach_postgres(overlay: list[Manifest]) -> None:
    rules = egress_rules_admitting(_policies(overlay), _labels(overlay, "proxy"), POSTGRES)
    assert rules == [], f"the proxy may send to port {POSTGRES}: {rules}"


@pytest.mark.parametrize("name", ["control", "accounting", "migrate"])
def test_postgres_clients_can_reach_postgres(overlay: list[Manifest], name: str) -> None:
    assert egress_rules_admitting(_policies(overlay), _labels(overlay, name), POSTGRES)


def test_health_cannot_reach_postgres(overlay: list[Manifest]) -> None:
    assert egress_rules_admitting(_policies(overlay), _labels(overlay, "health"), POSTGRES) == []


def test_proxy_reaches_redis_nats_and_providers(overlay: list[Manifest]) -> None:
    labels = _labels(overlay, "proxy")
    for port in (REDIS, NATS, HTTPS):
        assert egress_rules_admitting(_policies(overlay), labels, port), port
    assert ingress_rules_admitting(_policies(overlay), labels, 8080)


@pytest.mark.parametrize(("name", "port"), [("accounting", 50051), ("health", 50052)])
def test_grpc_only_from_control(overlay: list[Manifest], name: str, port: int) -> None:
    policies = _policies(overlay)
    assert egress_rules_admitting(policies, _labels(overlay, "control"), port)
    rules = ingress_rules_admitting(policies, _labels(overlay, name), port)
    assert rules
    for other in ("proxy", "health", "accounting", "migrate"):
        if other == name:
            continue
        labels = _labels(overlay, other)
        admitted = [rule for rule in rules if any(peer_admits_pod(p, labels) for p in rule.get("from", [{}]))]
        assert admitted == [], f"{other} may call {name}'s gRPC port"
    control = _labels(overlay, "control")
    assert any(any(peer_admits_pod(p, control) for p in rule["from"]) for rule in rules)


def test_every_pod_may_resolve_names(overlay: list[Manifest]) -> None:
    for manifest, _ in workloads(overlay):
        rules = egress_rules_admitting(_policies(overlay), pod_labels(manifest), 53)
        assert rules, manifest["metadata"]["name"]


def test_dev_datastores_admit_only_their_clients(rendered: dict[str, list[Manifest]]) -> None:
    overlay = rendered["dev"]
    policies = _policies(overlay)
    expected = {
        "postgres": (POSTGRES, {"control", "accounting", "migrate"}),
        "valkey": (REDIS, {"proxy", "control"}),
    }
    for store, (port, clients) in expected.items():
        rules = ingress_rules_admitting(policies, _labels(overlay, store), port)
        assert rules, store
        for name in ("proxy", "control", "accounting", "health", "migrate"):
            labels = _labels(overlay, name)
            admitted = any(any(peer_admits_pod(p, labels) for p in rule.get("from", [{}])) for rule in rules)
            assert admitted == (name in clients), f"{name} -> {store}"


def test_nats_admits_gateway_clients_and_cluster_routes(overlay: list[Manifest]) -> None:
    policies = _policies(overlay)
    nats_labels = {"app.kubernetes.io/name": "nats", "app.kubernetes.io/instance": "nats"}
    rules = ingress_rules_admitting(policies, nats_labels, NATS)
    for name in ("proxy", "control", "accounting", "health"):
        assert any(any(peer_admits_pod(p, _labels(overlay, name)) for p in r["from"]) for r in rules), name
    assert egress_rules_admitting(policies, nats_labels, 6222)
    assert ingress_rules_admitting(policies, nats_labels, 6222)
