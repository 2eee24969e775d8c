"""deploy/k8s, rendered per overlay: schema-valid, and every service deployed the way the
Operations issue asks (probes, resources, hardening, settings that the service really reads)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploycheck.k8s import by_kind, container_env, pod_labels, selector_matches, workloads
from deploycheck.kustomize import Manifest, split_image
from deploycheck.services import (
    SERVICE_NAMES,
    SERVICES,
    required_setting_names,
    service,
    setting_names,
    settings_class,
)

# The oldest and newest Kubernetes minor versions the manifests are checked against. 1.30 is the
# floor because the preStop `sleep` action is on by default from 1.30.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
SECRET_NAME = "gateway-secrets"
KUBERNETES_VALIDATE = Path(sys.executable).with_name("kubernetes-validate")


def _validate(path: Path, version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUBERNETES_VALIDATE), "--strict", "--quiet", "-k", version, str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_rendered_manifests_pass_kubernetes_validate_strict(
    rendered: dict[str, list[Manifest]], tmp_path: Path, version: str
) -> None:
    for name, manifests in rendered.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump_all(manifests, sort_keys=False))
        result = _validate(path, version)
        assert result.returncode == 0, f"overlay {name} against {version}:\n{result.stdout}{result.stderr}"


def test_kubernetes_validate_strict_rejects_an_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
        "spec: {selector: {a: b}, ports: [{port: 80, targetprot: 8080}]}\n"
    )
    result = _validate(path, KUBERNETES_VERSIONS[-1])
    assert result.returncode != 0, result.stdout


def test_each_service_has_its_objects(overlay: list[Manifest]) -> None:
    for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy"):
        assert set(SERVICE_NAMES) <= set(by_kind(overlay, kind)), kind
    assert {f"{name}-config" for name in SERVICE_NAMES} <= set(by_kind(overlay, "ConfigMap"))
    assert set(by_kind(overlay, "Job")) == {"migrate"}


def _deployment_container(overlay: list[Manifest], name: str) -> tuple[Manifest, dict[str, Any]]:
    deployment = by_kind(overlay, "Deployment")[name]
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == [name]
    return deployment, containers[0]


def _port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container["ports"] if p["name"] == port)


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_probes_hit_healthz_and_readyz_on_the_service_port(overlay: list[Manifest], name: str) -> None:
    _, container = _deployment_container(overlay, name)
    http_port = service(name).http_port
    liveness, readiness = container["livenessProbe"]["httpGet"], container["readinessProbe"]["httpGet"]
    assert liveness["path"] == "/healthz"
    assert readiness["path"] == "/readyz"
    assert _port_number(container, liveness["port"]) == http_port
    assert _port_number(container, readiness["port"]) == http_port
    config = by_kind(overlay, "ConfigMap")[f"{name}-config"]["data"]
    assert config[f"{name.upper()}_PORT"] == str(http_port)
    # Bound to every interface, or the kubelet and the Service cannot reach it.
    assert config[f"{name.upper()}_HOST"] == "0.0.0.0"
    grpc_port = service(name).grpc_port
    if grpc_port is not None:
        assert config[f"{name.upper()}_GRPC_PORT"] == str(grpc_port)
        assert grpc_port in [p["containerPort"] for p in container["ports"]]


def test_every_container_has_requests_and_limits(overlay: list[Manifest]) -> None:
    for manifest, spec in workloads(overlay):
        for container in spec["containers"]:
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(bound, {})), (
                    f"{manifest['kind']}/{manifest['metadata']['name']} {container['name']}: {bound}"
                )


def _gateway_workloads(overlay: list[Manifest]) -> list[tuple[Manifest, dict[str, Any]]]:
    return [
        (m, spec)
        for m, spec in workloads(overlay)
        if m["kind"] in ("Deployment", "Job")
        and pod_labels(m).get("app.kubernetes.io/part-of") == "open-model-gateway"
    ]


def test_gateway_pods_are_hardened(overlay: list[Manifest]) -> None:
    found = _gateway_workloads(overlay)
    assert {m["metadata"]["name"] for m, _ in found} == {*SERVICE_NAMES, "migrate"}
    for manifest, spec in found:
        where = f"{manifest['kind']}/{manifest['metadata']['name']}"
        pod_context = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, where
        # Service links would inject e.g. PROXY_PORT=tcp://10.0.0.1:8080 and clash with settings.
        assert spec.get("enableServiceLinks") is False, where
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"]:
            context = container.get("securityContext", {})

            def effective(
                key: str, context: dict[str, Any] = context, pod_context: dict[str, Any] = pod_context
            ) -> Any:
                return context.get(key, pod_context.get(key))

            assert effective("runAsNonRoot") is True, where
            assert effective("runAsUser") == 10001, where
            assert effective("seccompProfile") == {"type": "RuntimeDefault"}, where
            assert context.get("readOnlyRootFilesystem") is True, where
            assert context.get("allowPrivilegeEscalation") is False, where
            assert context.get("capabilities", {}).get("drop") == ["ALL"], where
            tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            assert len(tmp) == 1, f"{where}: /tmp must be a writable emptyDir"
            assert "emptyDir" in volumes[tmp[0]["name"]], where


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_environment_names_are_settings_of_the_service(overlay: list[Manifest], name: str) -> None:
    _, container = _deployment_container(overlay, name)
    env = container_env(container, by_kind(overlay, "ConfigMap"))
    svc = service(name)
    unknown = env.names - setting_names(svc)
    assert not unknown, f"{name} gets variables its settings do not read: {sorted(unknown)}"
    missing = required_setting_names(svc) - env.names
    assert not missing, f"{name} lacks required settings: {sorted(missing)}"


def test_migrate_job_runs_control_migrate_with_control_settings(overlay: list[Manifest]) -> None:
    job = by_kind(overlay, "Job")["migrate"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"][:4] == ["python", "-m", "gateway_control", "migrate"]
    control_image = _deployment_container(overlay, "control")[1]["image"]
    assert container["image"] == control_image
    env = container_env(container, by_kind(overlay, "ConfigMap"))
    control = service("control")
    assert env.names <= setting_names(control)
    assert required_setting_names(control) <= env.names
    # The command exists: argparse answers --help before any setting is read.
    result = subprocess.run(
        [sys.executable, *container["command"][1:4], "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--wait" in result.stdout


def test_secrets_come_from_the_operator_secret(rendered: dict[str, list[Manifest]]) -> None:
    for name, overlay in rendered.items():
        config_maps = by_kind(overlay, "ConfigMap")
        referenced: dict[str, bool] = {}
        for _, spec in workloads(overlay):
            for container in spec["containers"]:
                for variable in container.get("env", []):
                    ref = variable.get("valueFrom", {}).get("secretKeyRef")
                    if ref is not None:
                        assert ref["name"] == SECRET_NAME, variable
                        referenced[ref["key"]] = referenced.get(ref["key"], False) or not ref.get("optional")
                container_env(container, config_maps)  # every envFrom ConfigMap exists
        secrets = by_kind(overlay, "Secret")
        if name == "prod":
            assert secrets == {}, "the prod overlay must not ship a Secret: the operator creates it"
            continue
        example = secrets[SECRET_NAME]["stringData"]
        required = {key for key, needed in referenced.items() if needed}
        assert required <= set(example), sorted(required - set(example))


def _dev_values(overlay: list[Manifest], container: dict[str, Any]) -> dict[str, str]:
    config_maps = by_kind(overlay, "ConfigMap")
    secret = by_kind(overlay, "Secret")[SECRET_NAME]["stringData"]
    env = container_env(container, config_maps)
    values = dict(env.literal)
    values.update({n: config_maps[cm]["data"][k] for n, (cm, k) in env.config_map_keys.items()})
    values.update({n: secret[k] for n, (_, k) in env.secret_keys.items() if k in secret})
    values.update({n: "pod-name" for n in env.field_refs})
    return values


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_dev_overlay_values_load_as_the_service_settings(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    overlay = rendered["dev"]
    _, container = _deployment_container(overlay, name)
    values = _dev_values(overlay, container)
    settings = settings_class(service(name))(**{key.lower(): value for key, value in values.items()})
    assert getattr(settings, f"{name}_port") == service(name).http_port


def test_services_select_their_pods_and_ports(overlay: list[Manifest]) -> None:
    deployments = by_kind(overlay, "Deployment")
    for name, svc in by_kind(overlay, "Service").items():
        if name not in SERVICE_NAMES:
            continue
        deployment = deployments[name]
        assert selector_matches({"matchLabels": svc["spec"]["selector"]}, pod_labels(deployment))
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        named = {p["name"] for p in container["ports"]}
        for port in svc["spec"]["ports"]:
            assert port["targetPort"] in named, (name, port)
        expected = {service(name).http_port, service(name).grpc_port} - {None}
        assert {p["port"] for p in svc["spec"]["ports"]} == expected


def test_disruption_budgets_and_autoscaler(overlay: list[Manifest]) -> None:
    deployments = by_kind(overlay, "Deployment")
    for name, budget in by_kind(overlay, "PodDisruptionBudget").items():
        if name in deployments:
            assert selector_matches(budget["spec"]["selector"], pod_labels(deployments[name]))
            assert budget["spec"].get("maxUnavailable") == 1
    autoscalers = by_kind(overlay, "HorizontalPodAutoscaler")
    assert set(autoscalers) == {"proxy"}
    hpa = autoscalers["proxy"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "proxy"}
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    # The autoscaler owns the count: a `replicas` field would fight it on every apply.
    assert "replicas" not in deployments["proxy"]["spec"]


def test_images(rendered: dict[str, list[Manifest]]) -> None:
    for overlay_name, overlay in rendered.items():
        for manifest, spec in _gateway_workloads(overlay):
            for container in spec["containers"]:
                name, tag = split_image(container["image"])
                owner = (
                    "control" if manifest["metadata"]["name"] == "migrate" else manifest["metadata"]["name"]
                )
                assert name == f"open-model-gateway/{owner}", container["image"]
                assert tag, container["image"]
                assert tag != "latest", container["image"]
                if overlay_name == "prod":
                    assert tag != "dev", container["image"]


def test_every_service_is_listed_for_the_checks() -> None:
    on_disk = {p.name for p in (Path(__file__).resolve().parents[2] / "services").iterdir() if p.is_dir()}
    assert on_disk == {svc.name for svc in SERVICES}
