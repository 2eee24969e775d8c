"""A small, strict subset of `kustomize build`, enough for deploy/k8s.

Supported kustomization fields: `resources` (files, possibly multi-document, and directories
holding their own kustomization.yaml), `namespace`, `images` (newName / newTag / digest) and
`patches` whose file is a JSON 6902 operation list with a `target` of kind and name. Anything
else in a kustomization.yaml is an error, so an overlay cannot quietly rely on a feature this
renderer would skip: keep the overlays within it, or grow it here first.

Order follows kustomize: a directory's resources are rendered (recursively) first, then its
patches, then `namespace` and `images` are applied to everything it accumulated.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]

SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}

# Kinds kustomize leaves without a namespace (those this repository could plausibly use).
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
}

POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


class KustomizeError(RuntimeError):
    """The kustomization uses something this renderer does not support, or is inconsistent."""


def render(directory: Path) -> list[Manifest]:
    """Render the kustomization in `directory` into a list of manifests, like `kustomize build`."""
    kustomization_file = directory / "kustomization.yaml"
    if not kustomization_file.is_file():
        raise KustomizeError(f"{directory}: no kustomization.yaml")
    spec = yaml.safe_load(kustomization_file.read_text()) or {}
    unknown = set(spec) - SUPPORTED_FIELDS
    if unknown:
        raise KustomizeError(f"{kustomization_file}: unsupported fields {sorted(unknown)}")
    manifests: list[Manifest] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            manifests.extend(render(path))
        elif path.is_file():
            manifests.extend(load_documents(path))
        else:
            raise KustomizeError(f"{kustomization_file}: resource {entry} does not exist")
    for patch in spec.get("patches", []):
        _apply_patch(directory, patch, manifests)
    if "namespace" in spec:
        for manifest in manifests:
            if manifest["kind"] not in CLUSTER_SCOPED:
                manifest["metadata"]["namespace"] = spec["namespace"]
    for image in spec.get("images", []):
        _apply_image(image, manifests)
    _check_unique(manifests, kustomization_file)
    return manifests


def load_documents(path: Path) -> list[Manifest]:
    """Every non-empty YAML document of a file, each checked to look like a Kubernetes object."""
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    for doc in documents:
        if not isinstance(doc, dict) or not {"apiVersion", "kind", "metadata"} <= set(doc):
            raise KustomizeError(f"{path}: a document is not a Kubernetes object")
    return documents


def pod_spec(manifest: Manifest) -> dict[str, Any] | None:
    """The pod spec inside a workload manifest, or None for kinds without one."""
    path = POD_TEMPLATE_PATHS.get(manifest["kind"])
    if path is None:
        return None
    node: Any = manifest
    for key in path:
        node = node[key]
    spec: dict[str, Any] = node
    return spec


def _apply_patch(directory: Path, patch: dict[str, Any], manifests: list[Manifest]) -> None:
    if set(patch) != {"path", "target"}:
        raise KustomizeError(f"{directory}: only `path` + `target` patches are supported, got {patch}")
    target = patch["target"]
    if not set(target) <= {"kind", "name", "group", "version"}:
        raise KustomizeError(f"{directory}: unsupported patch target fields in {target}")
    operations = yaml.safe_load((directory / patch["path"]).read_text())
    if not isinstance(operations, list):
        raise KustomizeError(f"{directory}/{patch['path']}: only JSON 6902 patches (a list) are supported")
    matches = [m for m in manifests if _matches(m, target)]
    if not matches:
        raise KustomizeError(f"{directory}: patch {patch['path']} matches no resource ({target})")
    for manifest in matches:
        for operation in operations:
            apply_json_patch_operation(manifest, operation)


def _matches(manifest: Manifest, target: dict[str, str]) -> bool:
    group, _, version = str(manifest["apiVersion"]).rpartition("/")
    return bool(
        manifest["kind"] == target.get("kind", manifest["kind"])
        and manifest["metadata"]["name"] == target.get("name", manifest["metadata"]["name"])
        and group == target.get("group", group)
        and version == target.get("version", version)
    )


def apply_json_patch_operation(document: Any, operation: dict[str, Any]) -> None:
    """Apply one RFC 6902 operation (add, remove, replace, test) to `document` in place."""
    op = operation["op"]
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in operation["path"].split("/")[1:]]
    if not tokens:
        raise KustomizeError("patching the document root is not supported")
    parent: Any = document
    for token in tokens[:-1]:
        parent = parent[int(token)] if isinstance(parent, list) else parent[token]
    last = tokens[-1]
    if op == "test":
        current = parent[int(last)] if isinstance(parent, list) else parent[last]
        if current != operation["value"]:
            raise KustomizeError(f"test failed at {operation['path']}: {current!r}")
    elif op == "remove":
        del parent[int(last) if isinstance(parent, list) else last]
    elif op == "replace":
        if isinstance(parent, list):
            parent[int(last)] = copy.deepcopy(operation["value"])
        elif last not in parent:
            raise KustomizeError(f"replace: {operation['path']} does not exist")
        else:
            parent[last] = copy.deepcopy(operation["value"])
    elif op == "add":
        value = copy.deepcopy(operation["value"])
        if isinstance(parent, list):
            parent.insert(len(parent) if last == "-" else int(last), value)
        else:
            parent[last] = value
    else:
        raise KustomizeError(f"unsupported JSON patch op {op!r}")


def _apply_image(image: dict[str, str], manifests: list[Manifest]) -> None:
    if not set(image) <= {"name", "newName", "newTag", "digest"}:
        raise KustomizeError(f"unsupported image fields in {image}")
    for manifest in manifests:
        spec = pod_spec(manifest)
        if spec is None:
            continue
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            name, tag = split_image(container["image"])
            if name != image["name"]:
                continue
            name = image.get("newName", name)
            if "digest" in image:
                container["image"] = f"{name}@{image['digest']}"
            else:
                new_tag = image.get("newTag", tag)
                container["image"] = f"{name}:{new_tag}" if new_tag else name


def split_image(reference: str) -> tuple[str, str]:
    """`repo/name:tag` -> (`repo/name`, `tag`); a registry port is not mistaken for a tag."""
    if "@" in reference:
        return reference.split("@", 1)[0], ""
    name, sep, tag = reference.rpartition(":")
    if sep and "/" not in tag:
        return name, tag
    return reference, ""


def _check_unique(manifests: list[Manifest], where: Path) -> None:
    seen: set[tuple[str, str, str, str]] = set()
    for manifest in manifests:
        meta = manifest["metadata"]
        key = (manifest["apiVersion"], manifest["kind"], meta.get("namespace", ""), meta["name"])
        if key in seen:
            raise KustomizeError(f"{where}: duplicate resource {key}")
        seen.add(key)
