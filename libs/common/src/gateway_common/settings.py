"""Settings: a YAML file, then .env, then the environment (the environment wins).

Every service declares one frozen settings class derived from `GatewaySettings` and loads it
once at startup with `load_settings`. A setting is named the same everywhere: lower case in
YAML (`redis_url: ...`) and upper case in the environment (`REDIS_URL=...`). A bad or missing
setting stops the service with a message that names it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

CONFIG_FILE_ENV = "GATEWAY_CONFIG_FILE"


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names it and says why."""


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the YAML file named by GATEWAY_CONFIG_FILE: top-level keys, then the service's section."""

    def __init__(self, settings_cls: type[BaseSettings], section: str) -> None:
        super().__init__(settings_cls)
        self._data = _read_yaml(os.environ.get(CONFIG_FILE_ENV), section)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


def _read_yaml(path: str | None, section: str) -> dict[str, Any]:
    if not path:
        return {}
    file = Path(path)
    if not file.is_file():
        raise SettingsError(f"{CONFIG_FILE_ENV}: file {path} does not exist")
    loaded = yaml.safe_load(file.read_text()) or {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"{CONFIG_FILE_ENV}: {path} must hold a mapping at the top level")
    flat = {k: v for k, v in loaded.items() if not isinstance(v, dict)}
    service_section = loaded.get(section)
    if isinstance(service_section, dict):
        flat.update(service_section)
    return flat


class GatewaySettings(BaseSettings):
    """Settings every service shares. Subclasses add their own fields and set `service_name`."""

    model_config = SettingsConfigDict(frozen=True, env_file=".env", extra="ignore", case_sensitive=False)

    service_name: str = "gateway"
    # Python logging level of the JSON logs: DEBUG, INFO, WARNING, ERROR.
    log_level: str = "INFO"
    # OTLP/HTTP traces endpoint, e.g. http://collector:4318; tracing is off when empty.
    otel_exporter_otlp_endpoint: str = ""
    # Copies JetStream keeps of the streams and KV buckets a service creates (USAGE, USAGE_DLQ,
    # gateway_config, gateway_health, leases): 1 for a single NATS server, 3 on a 3-node cluster.
    # Existing streams with fewer replicas are raised to this; never lowered.
    nats_stream_replicas: int = Field(default=1, ge=1, le=5)
    # This replica's name in logs, metrics and usage events (defaults to the host name where used).
    instance_id: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        section = str(cls.model_fields["service_name"].default)
        return (init_settings, env_settings, dotenv_settings, _YamlSource(settings_cls, section))


SettingsT = TypeVar("SettingsT", bound=GatewaySettings)


def load_settings(cls: type[SettingsT], **overrides: Any) -> SettingsT:
    """Build the settings object once, turning validation errors into one readable SettingsError."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or '?'}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid {cls.__name__}: {problems}") from None
