"""Reading the Terraform module with python-hcl2: blocks by kind, quotes and parser markers removed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

_VAR = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")
_LOCAL = re.compile(r"\blocal\.([A-Za-z_][A-Za-z0-9_-]*)")
_RESOURCE_REF = re.compile(r"\b((?:kubernetes|helm)_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)\b")


def clean(value: Any) -> Any:
    """python-hcl2 output without its `__...__` markers and with string quotes removed."""
    if isinstance(value, dict):
        return {
            clean(k): clean(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("__"))
        }
    if isinstance(value, list):
        return [clean(item) for item in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@dataclass
class Module:
    """The blocks of every .tf file of a directory."""

    text: str
    variables: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]
    locals: dict[str, Any]
    resources: dict[tuple[str, str], dict[str, Any]]
    providers: dict[str, dict[str, Any]]

    def variable_references(self) -> set[str]:
        """Every `var.NAME` used anywhere."""
        return set(_VAR.findall(self.text))

    def local_references(self) -> set[str]:
        """Every `local.NAME` used anywhere."""
        return set(_LOCAL.findall(self.text))

    def resource_references(self) -> set[tuple[str, str]]:
        """Every `TYPE.NAME` reference to a managed resource."""
        return set(_RESOURCE_REF.findall(self.text))


def load_hcl(path: Path) -> dict[str, Any]:
    """One HCL file (a .tf or .tfvars), cleaned."""
    with path.open() as handle:
        parsed: dict[str, Any] = clean(hcl2.load(handle))
    return parsed


def load_module(directory: Path) -> Module:
    """Every .tf file directly inside `directory`, merged by block kind."""
    files = sorted(directory.glob("*.tf"))
    module = Module("\n".join(f.read_text() for f in files), {}, {}, {}, {}, {})
    for path in files:
        parsed = load_hcl(path)
        for block in parsed.get("variable", []):
            module.variables.update(block)
        for block in parsed.get("output", []):
            module.outputs.update(block)
        for block in parsed.get("locals", []):
            module.locals.update(block)
        for block in parsed.get("provider", []):
            module.providers.update(block)
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                for name, body in named.items():
                    module.resources[(kind, name)] = body
    return module
