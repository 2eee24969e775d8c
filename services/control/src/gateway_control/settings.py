"""ControlSettings: the only place the control service reads its configuration.

Loaded once at startup (YAML file, then .env, then the environment; see
gateway_common.settings). Secrets are `SecretStr`, so a settings object can be logged or
printed without leaking them. Key material is validated here, so a bad MASTER_KEY stops the
service at startup with a message naming it instead of failing on the first provider write.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Annotated

from gateway_common.settings import GatewaySettings, load_settings
from pydantic import Field, SecretStr, field_validator, model_validator

_AES_KEY_BYTES = 32
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def _decode_aes_key(value: SecretStr, name: str) -> SecretStr:
    try:
        raw = base64.b64decode(value.get_secret_value(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{name} must be base64 text") from exc
    if len(raw) != _AES_KEY_BYTES:
        raise ValueError(f"{name} must decode to {_AES_KEY_BYTES} bytes, got {len(raw)}")
    return value


class ControlSettings(GatewaySettings):
    """Every setting of the control service; field name == lower-case env name."""

    service_name: str = "control"

    control_host: str = "127.0.0.1"
    control_port: Annotated[int, Field(ge=1, le=65535)] = 8081

    database_url: str
    redis_url: str
    nats_url: str
    db_pool_min_size: Annotated[int, Field(ge=0, le=100)] = 1
    db_pool_max_size: Annotated[int, Field(ge=1, le=200)] = 10
    # Empty: the migrations shipped with the package (or the source tree in development).
    migrations_dir: str = ""

    # HMAC pepper for key digests; shared with the proxy, which digests presented keys with it.
    key_pepper: Annotated[SecretStr, Field(min_length=16)]
    dataplane_key: SecretStr
    dataplane_key_id: Annotated[str, Field(min_length=1, max_length=64)] = "dp1"
    internal_token: Annotated[SecretStr, Field(min_length=16)]

    admin_email: str = ""
    admin_password: SecretStr = SecretStr("")

    # HS256 needs a key at least as long as its output (RFC 7518 section 3.2).
    jwt_secret: Annotated[SecretStr, Field(min_length=32)]
    jwt_issuer: str = "open-model-gateway/control"
    jwt_audience: str = "open-model-gateway/control-api"
    jwt_access_ttl_s: Annotated[int, Field(ge=30, le=3600)] = 900
    # Lifetime of each refresh token (rotated on every use; a reused one revokes its family).
    refresh_token_ttl_s: Annotated[int, Field(ge=300, le=90 * 86400)] = 14 * 86400
    # Comma-separated browser origins allowed to call the API cross-origin; empty = none.
    cors_allowed_origins: str = ""

    master_key: SecretStr
    master_key_id: Annotated[str, Field(min_length=1, max_length=64)] = "mk1"

    # Failed sign-ins allowed per email and per client address within the window.
    login_max_failures_per_email: Annotated[int, Field(ge=1, le=10_000)] = 10
    login_max_failures_per_ip: Annotated[int, Field(ge=1, le=100_000)] = 100
    login_failure_window_s: Annotated[int, Field(ge=1, le=86_400)] = 900

    accounting_grpc_target: str = "127.0.0.1:50051"
    health_grpc_target: str = "127.0.0.1:50052"
    grpc_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0

    publish_debounce_ms: Annotated[int, Field(ge=0, le=5000)] = 75
    key_reconcile_interval_s: Annotated[float, Field(gt=0, le=300)] = 3.0
    revoked_key_ttl_s: Annotated[int, Field(ge=60)] = 7 * 86400
    allow_unpriced_models: bool = False

    @field_validator("master_key")
    @classmethod
    def _master_key_is_aes256(cls, value: SecretStr) -> SecretStr:
        return _decode_aes_key(value, "MASTER_KEY")

    @field_validator("dataplane_key")
    @classmethod
    def _dataplane_key_is_aes256(cls, value: SecretStr) -> SecretStr:
        return _decode_aes_key(value, "DATAPLANE_KEY")

    @model_validator(mode="after")
    def _admin_is_all_or_nothing(self) -> ControlSettings:
        has_email = bool(self.admin_email)
        has_password = bool(self.admin_password.get_secret_value())
        if has_email != has_password:
            raise ValueError("ADMIN_EMAIL and ADMIN_PASSWORD must be set together (or neither)")
        if has_email and not _EMAIL.match(self.admin_email):
            raise ValueError("ADMIN_EMAIL must be an email address")
        if has_password and len(self.admin_password.get_secret_value()) < 12:
            raise ValueError("ADMIN_PASSWORD must be at least 12 characters")
        for origin in self.cors_origins:
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"CORS_ALLOWED_ORIGINS: {origin!r} is not an origin like https://host[:port]"
                )
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError("DB_POOL_MIN_SIZE must not exceed DB_POOL_MAX_SIZE")
        return self

    @property
    def cors_origins(self) -> list[str]:
        """The configured CORS origins (empty: no cross-origin access)."""
        return [o.strip() for o in self.cors_allowed_origins.split(",") if o.strip()]

    @property
    def master_key_bytes(self) -> bytes:
        """The 32-byte key-encryption key."""
        return base64.b64decode(self.master_key.get_secret_value())

    @property
    def key_pepper_bytes(self) -> bytes:
        """The pepper as bytes, ready for HMAC."""
        return self.key_pepper.get_secret_value().encode()

    def resolved_migrations_dir(self) -> Path:
        """Where this service's SQL migrations are: the setting, the packaged copy, or the source tree."""
        if self.migrations_dir:
            return Path(self.migrations_dir)
        packaged = Path(__file__).resolve().parent / "migrations"
        if packaged.is_dir():
            return packaged
        return Path(__file__).resolve().parents[2] / "migrations"


def load_control_settings() -> ControlSettings:
    """Read the settings once; raises gateway_common.settings.SettingsError naming a bad one."""
    return load_settings(ControlSettings)
