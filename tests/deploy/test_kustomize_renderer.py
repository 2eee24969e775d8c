"""The renderer that stands in for `kustomize build`: it must be faithful where it is used and
refuse what it does not implement."""

from __future__ import annotations

from pathlib import Path

import pytest
from deploycheck.kustomize import KustomizeError, apply_json_patch_operation, render, split_image


def _write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: "registry.local:5000/team/web:1.0"}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
"""


def test_overlay_applies_patches_namespace_and_images(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [web.yaml]\n",
            "base/web.yaml": DEPLOYMENT,
            "overlay/kustomization.yaml": (
                "namespace: team\n"
                "resources: [../base]\n"
                "images: [{name: 'registry.local:5000/team/web', newTag: '2.0'}]\n"
                "patches: [{path: p.yaml, target: {kind: Deployment, name: web}}]\n"
            ),
            "overlay/p.yaml": "- {op: replace, path: /spec/replicas, value: 5}\n",
        },
    )
    deployment, namespace = render(tmp_path / "overlay")
    assert deployment["spec"]["replicas"] == 5
    assert deployment["metadata"]["namespace"] == "team"
    assert "namespace" not in namespace["metadata"]
    assert (
        deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local:5000/team/web:2.0"
    )


def test_unsupported_field_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, {"kustomization.yaml": "resources: []\ncommonLabels: {a: b}\n"})
    with pytest.raises(KustomizeError, match="commonLabels"):
        render(tmp_path)


def test_patch_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [web.yaml]\npatches: [{path: p.yaml, target: {kind: Job}}]\n",
            "web.yaml": DEPLOYMENT,
            "p.yaml": "- {op: remove, path: /spec/replicas}\n",
        },
    )
    with pytest.raises(KustomizeError, match="matches no resource"):
        render(tmp_path)


def test_duplicate_resources_are_an_error(tmp_path: Path) -> None:
    _write(tmp_path, {"kustomization.yaml": "resources: [a.yaml, b.yaml]\n", "a.yaml": DEPLOYMENT})
    _write(tmp_path, {"b.yaml": DEPLOYMENT})
    with pytest.raises(KustomizeError, match="duplicate"):
        render(tmp_path)


def test_json_patch_operations() -> None:
    document = {"a": {"list": [1, 2], "x~y/z": 0}}
    apply_json_patch_operation(document, {"op": "add", "path": "/a/list/-", "value": 3})
    apply_json_patch_operation(document, {"op": "add", "path": "/a/list/0", "value": 0})
    apply_json_patch_operation(document, {"op": "replace", "path": "/a/x~0y~1z", "value": 9})
    apply_json_patch_operation(document, {"op": "remove", "path": "/a/list/1"})
    apply_json_patch_operation(document, {"op": "test", "path": "/a/list", "value": [0, 2, 3]})
    assert document == {"a": {"list": [0, 2, 3], "x~y/z": 9}}
    with pytest.raises(KustomizeError):
        apply_json_patch_operation(document, {"op": "replace", "path": "/a/missing", "value": 1})
    with pytest.raises(KustomizeError):
        apply_json_patch_operation(document, {"op": "test", "path": "/a/list", "value": []})


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("nats:2.15.1-alpine", ("nats", "2.15.1-alpine")),
        ("registry:5000/app", ("registry:5000/app", "")),
        ("registry:5000/app:1", ("registry:5000/app", "1")),
        ("app@sha256:abc", ("app", "")),
    ],
)
def test_split_image(reference: str, expected: tuple[str, str]) -> None:
    assert split_image(reference) == expected
