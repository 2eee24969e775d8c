"""The proxy's usage spool has a volume of its own, and JetStream replicas follow the NATS
cluster: 3 copies in prod (deploy/nats/values.yaml runs 3 nodes), 1 on dev's single server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from deploycheck.k8s import by_kind
from deploycheck.kustomize import Manifest

REPO = Path(__file__).resolve().parents[2]
NATS_OWNERS = ("control", "accounting", "health")  # the services that create streams and buckets
_UNITS = {"": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}


def quantity_bytes(quantity: str) -> int:
    """A Kubernetes memory/storage quantity (`2Gi`, `1536Mi`, `2147483648`) in bytes."""
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi|K|M|G)?", quantity)
    assert match, quantity
    return int(match.group(1)) * _UNITS[match.group(2) or ""]


def _config(manifests: list[Manifest], service: str) -> dict[str, str]:
    data: dict[str, str] = by_kind(manifests, "ConfigMap")[f"{service}-config"]["data"]
    return data


def test_the_proxy_spools_to_a_size_limited_volume(overlay: list[Manifest]) -> None:
    config = _config(overlay, "proxy")
    pod = by_kind(overlay, "Deployment")["proxy"]["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    volume_name = mounts.get(config["USAGE_SPOOL_DIR"])
    assert volume_name, f"nothing mounted at USAGE_SPOOL_DIR={config['USAGE_SPOOL_DIR']}"
    volume = next(v for v in pod["volumes"] if v["name"] == volume_name)
    # The kubelet evicts a pod whose emptyDir outgrows sizeLimit: the proxy's limit must bite first.
    assert quantity_bytes(volume["emptyDir"]["sizeLimit"]) > int(config["USAGE_SPOOL_MAX_BYTES"])


def test_the_image_and_the_manifests_agree_on_the_spool_path(overlay: list[Manifest]) -> None:
    dockerfile = (REPO / "services" / "proxy" / "Dockerfile").read_text()
    assert f"USAGE_SPOOL_DIR={_config(overlay, 'proxy')['USAGE_SPOOL_DIR']}" in dockerfile


def _nats_nodes_prod() -> int:
    values = yaml.safe_load((REPO / "deploy" / "nats" / "values.yaml").read_text())
    nodes: int = values["config"]["cluster"]["replicas"]
    return nodes


@pytest.mark.parametrize("service", NATS_OWNERS)
def test_stream_replicas_match_the_nats_cluster(rendered: dict[str, list[Manifest]], service: str) -> None:
    assert _config(rendered["prod"], service)["NATS_STREAM_REPLICAS"] == str(_nats_nodes_prod()) == "3"
    dev_nats = by_kind(rendered["dev"], "StatefulSet")["nats"]["spec"].get("replicas", 1)
    assert _config(rendered["dev"], service)["NATS_STREAM_REPLICAS"] == str(dev_nats) == "1"
