"""The gateway's services as the deployment sees them: names, ports and settings.

A service's settings are read from its own settings module (services/<name>/src/gateway_<name>/
settings.py): the `GatewaySettings` subclass defined there, fields inherited from the shared base
included. Environment names are the upper-cased field names (gateway_common.settings).
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path

from gateway_common.settings import CONFIG_FILE_ENV, GatewaySettings

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Service:
    """One deployable service of the gateway."""

    name: str
    http_port: int
    grpc_port: int | None = None

    @property
    def package(self) -> str:
        """The Python package: gateway_<name>."""
        return f"gateway_{self.name}"

    @property
    def directory(self) -> Path:
        """services/<name> in the repository."""
        return REPO / "services" / self.name

    @property
    def settings_file(self) -> Path:
        """The module holding the service's settings class."""
        return self.directory / "src" / self.package / "settings.py"


SERVICES = (
    Service("proxy", 8080),
    Service("control", 8081),
    Service("accounting", 8082, 50051),
    Service("health", 8083, 50052),
)
SERVICE_NAMES = tuple(service.name for service in SERVICES)


def service(name: str) -> Service:
    """The service called `name`."""
    return next(s for s in SERVICES if s.name == name)


def settings_class(svc: Service) -> type[GatewaySettings]:
    """The GatewaySettings subclass defined in the service's settings module."""
    assert svc.settings_file.is_file(), f"{svc.settings_file} is missing"
    module = importlib.import_module(f"{svc.package}.settings")
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, GatewaySettings)
        and obj is not GatewaySettings
        and obj.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"{svc.settings_file}: expected one settings class, found {classes}"
    return classes[0]


def setting_names(svc: Service) -> set[str]:
    """Every environment variable the service reads: its settings fields, upper-cased."""
    return {name.upper() for name in settings_class(svc).model_fields} | {CONFIG_FILE_ENV}


def required_setting_names(svc: Service) -> set[str]:
    """The settings without a default: a deployment must set each of them."""
    return {name.upper() for name, field in settings_class(svc).model_fields.items() if field.is_required()}
