"""Reading rendered Kubernetes manifests: label selectors, container environments and what a
set of NetworkPolicies lets a pod send or receive."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from deploycheck.kustomize import Manifest, pod_spec


def by_kind(manifests: Iterable[Manifest], kind: str) -> dict[str, Manifest]:
    """The manifests of one kind, by name."""
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def workloads(manifests: Iterable[Manifest]) -> Iterator[tuple[Manifest, dict[str, Any]]]:
    """Every manifest that runs pods, with its pod spec."""
    for manifest in manifests:
        spec = pod_spec(manifest)
        if spec is not None:
            yield manifest, spec


def pod_labels(manifest: Manifest) -> dict[str, str]:
    """The labels a workload's pods carry."""
    if manifest["kind"] == "Pod":
        return dict(manifest["metadata"].get("labels", {}))
    template = manifest["spec"]["template"] if manifest["kind"] != "CronJob" else None
    if template is None:
        template = manifest["spec"]["jobTemplate"]["spec"]["template"]
    return dict(template["metadata"].get("labels", {}))


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics: matchLabels and matchExpressions; {} matches all."""
    if selector is None:
        return False
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


@dataclass(frozen=True)
class ContainerEnv:
    """Where each environment variable of a container comes from."""

    literal: dict[str, str]
    config_map_keys: dict[str, tuple[str, str]]
    secret_keys: dict[str, tuple[str, str]]
    field_refs: dict[str, str]

    @property
    def names(self) -> set[str]:
        """Every variable name the container gets."""
        return set(self.literal) | set(self.config_map_keys) | set(self.secret_keys) | set(self.field_refs)


def container_env(container: dict[str, Any], config_maps: dict[str, Manifest]) -> ContainerEnv:
    """Resolve a container's env and envFrom (ConfigMaps must exist among `config_maps`)."""
    literal: dict[str, str] = {}
    from_config: dict[str, tuple[str, str]] = {}
    from_secret: dict[str, tuple[str, str]] = {}
    fields: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            for key in config_maps[name].get("data", {}):
                from_config[key] = (name, key)
        else:
            raise AssertionError(f"{container['name']}: only configMapRef is used in envFrom, got {source}")
    for variable in container.get("env", []):
        name = variable["name"]
        if "value" in variable:
            literal[name] = variable["value"]
            continue
        value_from = variable["valueFrom"]
        if "secretKeyRef" in value_from:
            ref = value_from["secretKeyRef"]
            from_secret[name] = (ref["name"], ref["key"])
        elif "configMapKeyRef" in value_from:
            ref = value_from["configMapKeyRef"]
            from_config[name] = (ref["name"], ref["key"])
        elif "fieldRef" in value_from:
            fields[name] = value_from["fieldRef"]["fieldPath"]
        else:
            raise AssertionError(f"{container['name']}: unexpected valueFrom {value_from}")
    return ContainerEnv(literal, from_config, from_secret, fields)


def _policies_for(
    policies: Iterable[Manifest], labels: dict[str, str], direction: str
) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    key = direction.lower()
    for policy in policies:
        spec = policy["spec"]
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        if direction in types and selector_matches(spec["podSelector"], labels):
            rules.extend(spec.get(key, []))
    return rules


def isolated(policies: Iterable[Manifest], labels: dict[str, str], direction: str) -> bool:
    """Whether some policy selects the pod for `direction` (so only its rules admit traffic)."""
    for policy in policies:
        spec = policy["spec"]
        types = spec.get("policyTypes") or ["Ingress"]
        if direction in types and selector_matches(spec["podSelector"], labels):
            return True
    return False


def rule_admits_port(rule: dict[str, Any], port: int, protocol: str = "TCP") -> bool:
    """Whether a rule's ports admit `port`; a named port or a rule without ports admits anything."""
    ports = rule.get("ports")
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        value = entry.get("port")
        if value is None or isinstance(value, str):
            return True
        if value == port or (value <= port <= entry.get("endPort", value)):
            return True
    return False


def egress_rules_admitting(
    policies: Iterable[Manifest], labels: dict[str, str], port: int
) -> list[dict[str, Any]]:
    """The egress rules that let a pod with `labels` send to `port` (any destination)."""
    return [rule for rule in _policies_for(policies, labels, "Egress") if rule_admits_port(rule, port)]


def ingress_rules_admitting(
    policies: Iterable[Manifest], labels: dict[str, str], port: int
) -> list[dict[str, Any]]:
    """The ingress rules that let traffic reach `port` of a pod with `labels`."""
    return [rule for rule in _policies_for(policies, labels, "Ingress") if rule_admits_port(rule, port)]


def peer_admits_pod(peer: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a from/to peer could be a pod with `labels` in the same namespace."""
    if "ipBlock" in peer:
        return True  # pod IPs may fall inside a CIDR: treat it as admitting, conservatively
    if "namespaceSelector" in peer and peer["namespaceSelector"] != {}:
        return True  # another namespace could carry such pods; conservative again
    return selector_matches(peer.get("podSelector", {}), labels)
