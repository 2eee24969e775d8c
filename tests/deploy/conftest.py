"""Fixtures for the deployment checks: the repository and the rendered Kustomize overlays.

The helpers live in the `deploycheck` package beside this file; pytest's importlib mode does not
put test directories on sys.path, so this conftest does it for that one package.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploycheck.kustomize import Manifest, render

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Manifest]]:
    """Each overlay of deploy/k8s rendered like `kustomize build deploy/k8s/overlays/<name>`."""
    return {name: render(REPO / "deploy" / "k8s" / "overlays" / name) for name in OVERLAYS}


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, rendered: dict[str, list[Manifest]]) -> list[Manifest]:
    """One rendered overlay (the test runs once per overlay)."""
    return rendered[request.param]
