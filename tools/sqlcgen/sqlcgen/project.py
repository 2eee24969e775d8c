"""Regenerating the committed code and checking it for drift, via a scratch copy of the project.

Generation always happens in a scratch copy (sqlc.yaml, every schema and queries path it
names, and the plugin), whose ``out`` directories are then compared with, or copied over,
the committed ones. Working on whole directories is what catches, and removes, a module
left behind by a deleted queries file: ``sqlc generate`` and ``sqlc diff`` only look at the
files they would write. Unlike the plugin this needs PyYAML: run it with the workspace venv.
"""

from __future__ import annotations

import difflib
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

PLUGIN_DIR = Path("tools/sqlcgen")


class GenerateError(RuntimeError):
    """sqlc (or the plugin it runs) failed; the message holds its output."""


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


def _config_paths(config: Path) -> tuple[list[Path], list[Path]]:
    """(inputs, outputs) named by sqlc.yaml: schema/queries paths and codegen ``out`` directories."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    inputs: list[Path] = []
    outputs: list[Path] = []
    for entry in data.get("sql", []) if isinstance(data, dict) else []:
        inputs.extend(Path(p) for key in ("schema", "queries") for p in _as_list(entry.get(key)))
        outputs.extend(Path(c["out"]) for c in entry.get("codegen", []) if "out" in c)
    return inputs, outputs


def _files(directory: Path) -> set[Path]:
    if not directory.is_dir():
        return set()
    return {
        p.relative_to(directory) for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


def _differences(committed: Path, fresh: Path) -> Iterator[str]:
    committed_files, fresh_files = _files(committed), _files(fresh)
    for name in sorted(committed_files - fresh_files):
        yield f"{committed / name}: not generated any more (delete it)\n"
    for name in sorted(fresh_files - committed_files):
        yield f"{committed / name}: missing (run make sqlc)\n"
    for name in sorted(committed_files & fresh_files):
        old, new = committed / name, fresh / name
        if not filecmp.cmp(old, new, shallow=False):
            yield from difflib.unified_diff(
                old.read_text(encoding="utf-8").splitlines(keepends=True),
                new.read_text(encoding="utf-8").splitlines(keepends=True),
                fromfile=f"{old} (committed)",
                tofile=f"{old} (generated)",
            )


def _regenerate(root: Path, sqlc: Path, scratch: Path) -> list[Path]:
    """Run ``sqlc generate`` on a copy of ``root`` inside ``scratch``; return the ``out`` dirs."""
    config = root / "sqlc.yaml"
    inputs, outputs = _config_paths(config)
    shutil.copy2(config, scratch / "sqlc.yaml")
    for relative in [*inputs, PLUGIN_DIR]:
        source, target = root / relative, scratch / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "tests"))
        else:
            shutil.copy2(source, target)
    # The plugin's #!/usr/bin/env python3 must find the interpreter running this.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(sqlc), "generate"], cwd=scratch, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise GenerateError(f"sqlc generate failed:\n{result.stdout}{result.stderr}")
    return outputs


def stale_report(root: Path, sqlc: Path) -> str:
    """Regenerate ``root``'s code in a scratch directory; return the differences ('' when current)."""
    with tempfile.TemporaryDirectory(prefix="sqlc-check-") as scratch_name:
        scratch = Path(scratch_name)
        outputs = _regenerate(root, sqlc, scratch)
        return "".join(line for out in outputs for line in _differences(root / out, scratch / out))


def write_generated(root: Path, sqlc: Path) -> list[tuple[str, Path]]:
    """Regenerate ``root``'s code and make every ``out`` directory hold exactly that.

    Files a fresh run no longer produces are deleted, which plain ``sqlc generate`` never
    does. Returns what changed as ("wrote" or "removed", path) pairs.
    """
    changed: list[tuple[str, Path]] = []
    with tempfile.TemporaryDirectory(prefix="sqlc-generate-") as scratch_name:
        scratch = Path(scratch_name)
        for out in _regenerate(root, sqlc, scratch):
            committed, fresh = root / out, scratch / out
            for name in sorted(_files(committed) - _files(fresh)):
                (committed / name).unlink()
                changed.append(("removed", committed / name))
            for name in sorted(_files(fresh)):
                target = committed / name
                if not target.exists() or not filecmp.cmp(fresh / name, target, shallow=False):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(fresh / name, target)
                    changed.append(("wrote", target))
    return changed


def main(argv: list[str]) -> int:
    """``generate``: write the generated code; ``check``: exit 1 with a diff when it is stale.

    Run from the repository root with the workspace venv's python (sqlc is found beside it).
    """
    if argv not in (["generate"], ["check"]):
        sys.stderr.write("usage: project.py generate|check\n")
        return 2
    root = Path.cwd()
    sqlc = Path(sys.executable).parent / "sqlc"
    if not sqlc.exists():
        sqlc = Path(shutil.which("sqlc") or "sqlc")
    try:
        if argv == ["generate"]:
            for action, path in write_generated(root, sqlc):
                sys.stdout.write(f"{action} {path.relative_to(root)}\n")
            return 0
        report = stale_report(root, sqlc)
    except GenerateError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if report:
        sys.stdout.write(report)
        sys.stdout.write("\ngenerated database code is stale: run `make sqlc` and commit the result\n")
        return 1
    sys.stdout.write("sqlc: generated code is up to date\n")
    return 0
