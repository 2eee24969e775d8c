"""The bootstrap file: what a GitOps repository declares, parsed and checked before anything is applied.

The file (or the `bootstrap:` section of control's YAML config) holds six optional lists, applied
in this order so later ones may refer to earlier ones: `providers`, `models`, `routes`,
`tenants`, `admins`, `keys`. Field types are the API's own (same bounds, same patterns), so a
value the API would refuse is refused here too. Secrets never appear in the file: passwords,
provider credentials and key secrets name an environment variable (`password_env`,
`credentials_env`, `secret_env`) resolved when the file is applied.

Every error names its place in the file, like `routes[2].deployments[0].provider`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec
import yaml

from gateway_control.domain._types import ModelName, Name
from gateway_control.domain.models.schemas import ModelCreate
from gateway_control.domain.providers.schemas import BaseUrl, ProviderType, SettingName, Settings
from gateway_control.domain.routes.schemas import (
    DeploymentCost,
    FallbackModels,
    Priority,
    RpmLimit,
    Strategy,
    TpmLimit,
    UpstreamModel,
    Weight,
)
from gateway_control.domain.tenants.schemas import TenantStatus

EnvName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]
MaxParallel = Annotated[int, msgspec.Meta(gt=0, le=100_000)]
_MAX_ITEMS = 10_000


class BootstrapError(ValueError):
    """The bootstrap file is invalid; `problems` are `path: message` lines, nothing was applied."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class ProviderSpec(msgspec.Struct, forbid_unknown_fields=True):
    """An upstream account; credentials come from the environment (`{field: ENV_NAME}`)."""

    name: Name
    type: ProviderType
    base_url: BaseUrl | None = None
    settings: Settings = {}
    credentials_env: Annotated[dict[SettingName, EnvName], msgspec.Meta(max_length=20)] = {}
    enabled: bool = True


class ModelSpec(ModelCreate, forbid_unknown_fields=True):
    """A model alias of the catalogue: the API's ModelCreate, plus whether it is enabled."""

    enabled: bool = True


class DeploymentSpec(msgspec.Struct, forbid_unknown_fields=True):
    """One upstream of a route: a provider (by name) and the provider's model name."""

    provider: Name
    upstream_model: UpstreamModel
    weight: Weight = 1
    priority: Priority = 0
    rpm_limit: RpmLimit | None = None
    tpm_limit: TpmLimit | None = None
    cost: DeploymentCost | None = None
    enabled: bool = True


class RouteSpec(msgspec.Struct, forbid_unknown_fields=True):
    """A model alias and the deployments serving it."""

    model: ModelName
    deployments: Annotated[list[DeploymentSpec], msgspec.Meta(min_length=1, max_length=100)]
    strategy: Strategy = "weighted"
    fallback_models: FallbackModels = []


class TenantSpec(msgspec.Struct, forbid_unknown_fields=True):
    """A shared tenant: status, rate-limit overrides (unset inherits) and model entitlements."""

    name: Name
    status: TenantStatus = "active"
    rpm_limit: RpmLimit | None = None
    tpm_limit: TpmLimit | None = None
    max_parallel: MaxParallel | None = None
    # Empty: every model.
    allowed_models: Annotated[list[ModelName], msgspec.Meta(max_length=500)] = []


class AdminSpec(msgspec.Struct, forbid_unknown_fields=True):
    """A platform admin; the password (from the environment) is used only when the user is created."""

    email: Email
    password_env: EnvName


class KeySpec(msgspec.Struct, forbid_unknown_fields=True):
    """An API key whose secret is pinned from the environment (no `secret_env`: not created)."""

    name: Name
    tenant: Name
    secret_env: EnvName | None = None
    allowed_models: Annotated[list[ModelName], msgspec.Meta(max_length=500)] = []
    rpm_limit: RpmLimit | None = None
    tpm_limit: TpmLimit | None = None
    max_parallel: MaxParallel | None = None
    disabled: bool = False


class BootstrapSpec(msgspec.Struct, forbid_unknown_fields=True):
    """The whole file; every list is optional and things not listed are left alone."""

    providers: Annotated[list[ProviderSpec], msgspec.Meta(max_length=_MAX_ITEMS)] = []
    models: Annotated[list[ModelSpec], msgspec.Meta(max_length=_MAX_ITEMS)] = []
    routes: Annotated[list[RouteSpec], msgspec.Meta(max_length=_MAX_ITEMS)] = []
    tenants: Annotated[list[TenantSpec], msgspec.Meta(max_length=_MAX_ITEMS)] = []
    admins: Annotated[list[AdminSpec], msgspec.Meta(max_length=_MAX_ITEMS)] = []
    keys: Annotated[list[KeySpec], msgspec.Meta(max_length=_MAX_ITEMS)] = []


def _msgspec_problem(exc: msgspec.ValidationError) -> str:
    # msgspec ends its messages with " - at `$.routes[2].deployments[0].weight`".
    message, _, where = str(exc).rpartition(" - at `$")
    if not message:
        return f"(top level): {exc}"
    path = where.rstrip("`").lstrip(".")
    return f"{path or '(top level)'}: {message}"


def _unique(items: list[Any], attribute: str, section: str) -> list[str]:
    seen: dict[object, int] = {}
    problems = []
    for index, item in enumerate(items):
        value = getattr(item, attribute)
        if isinstance(value, str) and attribute == "email":
            value = value.lower()
        if value in seen:
            problems.append(f"{section}[{index}].{attribute}: duplicate of {section}[{seen[value]}]")
        seen.setdefault(value, index)
    return problems


def parse_spec(data: object) -> BootstrapSpec:
    """Check a loaded mapping against the bootstrap schema; BootstrapError names the first bad path."""
    if data is None:
        return BootstrapSpec()
    try:
        spec = msgspec.convert(data, BootstrapSpec)
    except msgspec.ValidationError as exc:
        raise BootstrapError([_msgspec_problem(exc)]) from None
    problems = [
        *_unique(spec.providers, "name", "providers"),
        *_unique(spec.models, "name", "models"),
        *_unique(spec.routes, "model", "routes"),
        *_unique(spec.tenants, "name", "tenants"),
        *_unique(spec.admins, "email", "admins"),
    ]
    if problems:
        raise BootstrapError(problems)
    return spec


def load_spec_file(path: Path) -> BootstrapSpec:
    """Read a YAML bootstrap file (a `bootstrap:` top-level key is accepted too) and parse it."""
    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise BootstrapError([f"{path}: cannot be read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise BootstrapError([f"{path}: not valid YAML: {exc}"]) from None
    if isinstance(loaded, Mapping) and set(loaded) == {"bootstrap"}:
        loaded = loaded["bootstrap"]
    return parse_spec(loaded)


def resolve_env(environ: Mapping[str, str], name: str, path: str) -> str:
    """The value of environment variable `name`; a BootstrapError at `path` when it is unset or empty."""
    value = environ.get(name, "")
    if not value:
        raise BootstrapError([f"{path}: environment variable {name} is not set"])
    return value


def quoted(value: str) -> str:
    """`value` in double quotes, as error messages show names from the file."""
    return f'"{value}"'
