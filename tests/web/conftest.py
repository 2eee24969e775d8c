"""Fixtures of the browser tests: Debian's Chromium, the built UI, and a control serving it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from gateway_devstack.readiness import wait_for_ready
from gateway_devstack.system import GatewaySystem

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
CHROMIUM = Path("/usr/bin/chromium")
# What the build reads; dist is rebuilt only when one of these is newer than dist/index.html.
BUILD_INPUTS = ("src", "public", "index.html", "package-lock.json", "vite.config.ts", "tsconfig.app.json")


def _newest_mtime(paths: list[Path]) -> float:
    files = [p for root in paths for p in ([root, *root.rglob("*")] if root.is_dir() else [root])]
    return max((p.stat().st_mtime for p in files), default=0.0)


def _run(argv: list[str], cwd: Path, timeout: float) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        output = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        pytest.fail(f"{' '.join(argv)} failed ({result.returncode}):\n{output}")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """/usr/bin/chromium, installed from Debian on first use (idempotent)."""
    if not CHROMIUM.exists():
        apt = shutil.which("apt-get")
        if apt is None:
            pytest.fail("/usr/bin/chromium is missing and there is no apt-get: install Debian's chromium")
        _run([apt, "install", "-y", "--no-install-recommends", "chromium"], REPO, timeout=900)
    assert CHROMIUM.exists(), "apt-get installed chromium but /usr/bin/chromium is still missing"
    return CHROMIUM


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """web/dist built from the current sources (`npm ci` when needed; no rebuild when up to date)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm (Node 20+) is required to build the web UI")
    installed = WEB / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (WEB / "package-lock.json").stat().st_mtime:
        _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], WEB, timeout=900)
    index = WEB / "dist" / "index.html"
    inputs = [WEB / name for name in BUILD_INPUTS if (WEB / name).exists()]
    if not index.exists() or index.stat().st_mtime < _newest_mtime(inputs):
        _run([npm, "run", "build"], WEB, timeout=600)
    assert index.exists()
    return WEB / "dist"


@pytest.fixture(scope="session")
def console(web_dist: Path, request: pytest.FixtureRequest) -> GatewaySystem:
    """The shared gateway, with control serving the UI at "/".

    Control mounts web/dist only if it existed when control started; when an earlier test of the
    session started the system before the build, control is restarted once (same ports, same data).
    """
    system: GatewaySystem = request.getfixturevalue("system")
    if httpx.get(f"{system.control_url}/", timeout=5.0, trust_env=False).status_code != 200:
        system.processes["control"].stop()
        control = system.service_process("control")
        system.processes["control"] = control
        control.start()
        control.wait_ready(60.0)
        wait_for_ready(system.readyz_url("control"), 60.0, name="control")
    page = httpx.get(f"{system.control_url}/", timeout=5.0, trust_env=False)
    assert page.status_code == 200, "control does not serve web/dist at /"
    assert '<div id="root">' in page.text
    return system
