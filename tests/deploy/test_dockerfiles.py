"""Each service's Dockerfile (and web/Dockerfile once it exists), checked by structure since no
Docker engine runs here: multi-stage, pinned bases, a numeric non-root USER, an entrypoint that
starts the service, COPY sources that exist, and dependencies installed from the lock file.

A missing Dockerfile fails its test: every service must ship one."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from deploycheck.dockerfile import Dockerfile, copy_sources, is_pinned, parse
from deploycheck.services import SERVICE_NAMES, service

REPO = Path(__file__).resolve().parents[2]
TARGETS = [*SERVICE_NAMES, *(["web"] if (REPO / "web" / "Dockerfile").is_file() else [])]


def _path(target: str) -> Path:
    return REPO / ("web" if target == "web" else f"services/{target}") / "Dockerfile"


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> str:
    """A component whose Dockerfile is checked."""
    return str(request.param)


def _load(target: str) -> Dockerfile:
    """The parsed Dockerfile of `target`; the calling test fails when it does not exist."""
    path = _path(target)
    assert path.is_file(), f"{path.relative_to(REPO)} is missing: every service ships a Dockerfile"
    return parse(path)


def test_multi_stage_with_pinned_bases(target: str) -> None:
    dockerfile = _load(target)
    assert len(dockerfile.stages) >= 2, "build and runtime stages"
    aliases = {stage.alias for stage in dockerfile.stages if stage.alias}
    for stage in dockerfile.stages:
        if stage.image in aliases:
            continue
        assert is_pinned(stage.image), f"FROM {stage.image} is not pinned to a version"
    copied_from = [i for i in dockerfile.final.of("COPY") if "--from=" in i.arguments]
    assert copied_from, "the runtime stage copies its artefacts from a build stage"


def test_runs_as_a_numeric_non_root_user(target: str) -> None:
    dockerfile = _load(target)
    users = dockerfile.final.of("USER")
    assert users, "the runtime stage sets USER"
    user = users[-1].arguments.split(":", 1)[0]
    # Numeric, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
    assert user.isdigit(), f"USER {users[-1].arguments}"
    assert int(user) != 0, "USER 0 is root"
    last_user_line = users[-1].line
    later = [i for i in dockerfile.final.instructions if i.line > last_user_line and i.keyword == "RUN"]
    assert later == [], "nothing runs as root after USER"


def test_has_an_entrypoint_that_starts_the_component(target: str) -> None:
    dockerfile = _load(target)
    commands = dockerfile.final.of("ENTRYPOINT") + dockerfile.final.of("CMD")
    assert commands, "ENTRYPOINT or CMD"
    if target != "web":
        words = [word for command in commands for word in command.words()]
        assert f"gateway_{target}" in words, f"runs python -m gateway_{target}: {words}"
        exposed = {int(p.split("/")[0]) for i in dockerfile.final.of("EXPOSE") for p in i.words()}
        expected = {service(target).http_port, service(target).grpc_port} - {None}
        assert expected <= exposed, f"EXPOSE {sorted(expected)}"


def test_copy_sources_exist(target: str) -> None:
    dockerfile = _load(target)
    for stage in dockerfile.stages:
        for instruction in stage.of("COPY") + stage.of("ADD"):
            for source in copy_sources(instruction):
                assert list(REPO.glob(source.lstrip("/"))), (
                    f"line {instruction.line}: {source} does not exist"
                )


def _workspace_members() -> list[str]:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    return list(root["tool"]["uv"]["workspace"]["members"])


def _makefile_uv_version() -> str:
    match = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert match, "Makefile pins UV_VERSION"
    return match.group(1)


def test_installs_from_the_lock_file(target: str) -> None:
    dockerfile = _load(target)
    runs = [i.arguments for stage in dockerfile.stages for i in stage.of("RUN")]
    sources = {
        s.rstrip("/") for stage in dockerfile.stages for i in stage.of("COPY") for s in copy_sources(i)
    }
    if target == "web":
        assert any("npm ci" in run for run in runs), "npm ci installs exactly package-lock.json"
        assert any("package-lock.json" in s or s in ("web", ".") for s in sources)
        return
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs, "dependencies are installed with uv sync"
    for run in syncs:
        assert "--frozen" in run or "--locked" in run, f"uv sync without --frozen/--locked: {run}"
    assert "uv.lock" in sources or "." in sources, "uv.lock is copied into the build"
    # uv reads the whole workspace from the lock: every member's manifest must be in the image.
    for member in _workspace_members():
        manifest = f"{member}/pyproject.toml"
        covered = any(manifest == s or manifest.startswith(f"{s}/") or s == "." for s in sources)
        assert covered, f"{manifest} is not copied; uv sync --frozen needs every workspace member"
    uv_images = [
        stage.image for stage in dockerfile.stages if stage.image.startswith("ghcr.io/astral-sh/uv:")
    ]
    for image in uv_images:
        assert image.split(":", 1)[1] == _makefile_uv_version(), f"{image} differs from the Makefile's uv"


def test_parser_sees_what_docker_sees(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "# syntax=docker/dockerfile:1\nARG BASE=python:3.11-slim\nFROM ${BASE} AS build\n"
        "RUN echo a \\\n  # a comment inside a continuation\n  && echo b\n"
        "FROM ${BASE}\nCOPY --from=build --chown=1:1 /a /b\nCOPY x y /dest/\nUSER 10001\n"
        'ENTRYPOINT ["python", "-m", "app"]\n'
    )
    parsed = parse(path)
    assert [s.image for s in parsed.stages] == ["python:3.11-slim", "python:3.11-slim"]
    assert parsed.stages[0].of("RUN")[0].arguments == "echo a  && echo b"
    copies = parsed.final.of("COPY")
    assert copy_sources(copies[0]) == []
    assert copy_sources(copies[1]) == ["x", "y"]
    assert parsed.final.of("ENTRYPOINT")[0].words() == ["python", "-m", "app"]
    for unpinned in ("python", "python:latest", "img:${TAG}"):
        assert not is_pinned(unpinned), unpinned
    for pinned in ("python:3.11-slim-bookworm", "x@sha256:ab", "r:5000/x:1.2"):
        assert is_pinned(pinned), pinned
