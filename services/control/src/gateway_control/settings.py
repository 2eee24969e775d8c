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
from typing import Annotated, Any, Literal

from gateway_common.settings import GatewaySettings, load_settings
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

_AES_KEY_BYTES = 32
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_BASE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s?#]*)?$")
# Only asymmetric algorithms: an ID token signed with a shared secret (or none) is never accepted.
_ASYMMETRIC_ALGS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


def _decode_aes_key(value: SecretStr, name: str) -> SecretStr:
    try:
        raw = base64.b64decode(value.get_secret_value(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{name} must be base64 text") from exc
    if len(raw) != _AES_KEY_BYTES:
        raise ValueError(f"{name} must decode to {_AES_KEY_BYTES} bytes, got {len(raw)}")
    return value


def _read_key_file(values: dict[str, Any], name: str, *, required: bool) -> None:
    """Replace NAME_FILE by the file's content as NAME (exactly one of them; NAME only if required)."""
    env, file_env = name.upper(), f"{name.upper()}_FILE"
    path = values.get(f"{name}_file") or ""
    given = values.get(name) or ""
    if isinstance(given, SecretStr):
        given = given.get_secret_value()
    if path and given:
        raise ValueError(f"{env} and {file_env} are both set; give exactly one of them")
    if not path:
        if required and not given:
            raise ValueError(f"{env} (or {file_env}) is required")
        return
    try:
        content = Path(str(path)).read_text().strip()
    except OSError as exc:
        raise ValueError(f"{file_env}: cannot read {path}: {exc.strerror}") from None
    try:
        _decode_aes_key(SecretStr(content), file_env)
    except ValueError as exc:
        raise ValueError(f"{exc} (in {path})") from None
    values[name] = content


class OidcProviderSettings(BaseModel):
    """One OpenID Connect identity provider users may sign in with (an item of OIDC_PROVIDERS)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Short name used in URLs: /api/v1/auth/sso/{name}/start.
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
    display_name: Annotated[str, Field(min_length=1, max_length=80)]
    # Must equal the discovery document's `issuer` and every ID token's `iss` exactly.
    issuer: Annotated[str, Field(pattern=r"^https?://[^\s?#]+$")]
    client_id: Annotated[str, Field(min_length=1, max_length=255)]
    client_secret: SecretStr
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    # ID token signature algorithms accepted (asymmetric only).
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256", "PS256", "EdDSA"])
    # An unknown subject whose verified email matches a local account is linked to it.
    link_by_email: bool = True
    # An unknown subject with no matching account gets a new user (just-in-time provisioning).
    provision_users: bool = True
    # Empty: any domain; else the email's domain must be one of these.
    allowed_email_domains: list[str] = Field(default_factory=list)
    # A provisioned user joins this shared tenant (by name; empty: only their personal tenant).
    default_tenant: str = ""
    default_role: Literal["admin", "member", "viewer"] = "member"

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("scopes must include openid")
        return value

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        refused = sorted(set(value) - _ASYMMETRIC_ALGS)
        if refused or not value:
            raise ValueError(
                f"algorithms must be asymmetric JWS algorithms; refused: {refused or 'empty list'}"
            )
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

    # base64 of 32 bytes: wraps the per-record data keys of secrets at rest; MASTER_KEY_ID names it.
    # Required, unless MASTER_KEY_FILE is set instead (exactly one of the two).
    master_key: SecretStr = SecretStr("")
    # A file holding MASTER_KEY's value (base64 of 32 bytes; surrounding whitespace ignored), e.g. a
    # mounted Kubernetes Secret; read once at startup.
    master_key_file: str = ""
    # The id stored with every record MASTER_KEY wraps; a rotation gives the new key a new id (mk2).
    master_key_id: Annotated[str, Field(min_length=1, max_length=64)] = "mk1"
    # The master key being retired during a rotation (base64 of 32 bytes; empty when none):
    # records still wrapped under it open until `python -m gateway_control rewrap` moves them.
    master_key_previous: SecretStr = SecretStr("")
    # A file holding MASTER_KEY_PREVIOUS's value (at most one of the two).
    master_key_previous_file: str = ""
    # The id of MASTER_KEY_PREVIOUS (set both or neither; it must differ from MASTER_KEY_ID).
    master_key_previous_id: str = ""

    # A YAML file of tenants, admins, API keys, providers, models and routes applied (idempotently)
    # at every startup; the format is in services/control/README.md, "Bootstrap (GitOps)".
    bootstrap_file: str = ""
    # The same declarations inline: the `bootstrap:` mapping in the `control:` section of the YAML
    # config (at most one of BOOTSTRAP and BOOTSTRAP_FILE).
    bootstrap: dict[str, Any] = Field(default_factory=dict)

    # OpenID Connect identity providers for SSO (a YAML list, or JSON in the environment); each has
    # name, display_name, issuer, client_id, client_secret and the options in services/control/README.md.
    oidc_providers: list[OidcProviderSettings] = Field(default_factory=list)
    # The URL browsers reach control at; the SSO redirect URI is {PUBLIC_URL}/api/v1/auth/sso/{name}/callback.
    public_url: str = ""
    # Where the browser lands after SSO (the web UI); ?sso_error=CODE is appended when it failed.
    sso_return_url: str = "/"
    # How long a started SSO sign-in may take, and the clock skew allowed on ID token times.
    sso_flow_ttl_s: Annotated[int, Field(ge=30, le=3600)] = 600
    oidc_clock_skew_s: Annotated[int, Field(ge=0, le=300)] = 30
    # Timeout of each call to an identity provider (discovery, JWKS, token, UserInfo).
    oidc_http_timeout_s: Annotated[float, Field(gt=0, le=60)] = 10.0

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

    # Budgets every new tenant and every new key gets (0: none), in micro-USD per period; they are
    # ordinary budgets afterwards (listed, changed, deleted through the API).
    default_tenant_budget_micro_usd: Annotated[int, Field(ge=0, le=2**53)] = 0
    default_key_budget_micro_usd: Annotated[int, Field(ge=0, le=2**53)] = 0
    default_budget_period: Literal["daily", "weekly", "monthly"] = "monthly"
    default_budget_timezone: str = "UTC"
    default_budget_hard: bool = True

    @model_validator(mode="before")
    @classmethod
    def _read_master_key_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        values = dict(data)
        for name, required in (("master_key", True), ("master_key_previous", False)):
            _read_key_file(values, name, required=required)
        return values

    @field_validator("master_key")
    @classmethod
    def _master_key_is_aes256(cls, value: SecretStr) -> SecretStr:
        return _decode_aes_key(value, "MASTER_KEY")

    @field_validator("master_key_previous")
    @classmethod
    def _previous_master_key_is_aes256(cls, value: SecretStr) -> SecretStr:
        return _decode_aes_key(value, "MASTER_KEY_PREVIOUS") if value.get_secret_value() else value

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
        self._check_master_keys()
        self._check_sso()
        if self.bootstrap and self.bootstrap_file:
            raise ValueError("BOOTSTRAP and BOOTSTRAP_FILE cannot both be set")
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError("DB_POOL_MIN_SIZE must not exceed DB_POOL_MAX_SIZE")
        return self

    def _check_master_keys(self) -> None:
        has_previous = bool(self.master_key_previous.get_secret_value())
        if has_previous != bool(self.master_key_previous_id):
            raise ValueError(
                "MASTER_KEY_PREVIOUS and MASTER_KEY_PREVIOUS_ID must be set together (or neither)"
            )
        if has_previous and self.master_key_previous_id == self.master_key_id:
            raise ValueError("MASTER_KEY_PREVIOUS_ID must differ from MASTER_KEY_ID")

    def _check_sso(self) -> None:
        names = [provider.name for provider in self.oidc_providers]
        if len(set(names)) != len(names):
            raise ValueError("OIDC_PROVIDERS: provider names must be unique")
        if self.oidc_providers and not _BASE_URL.match(self.public_url):
            raise ValueError(
                "PUBLIC_URL must be set (https://host[:port][/path]) when OIDC_PROVIDERS are configured"
            )

    @property
    def master_keys(self) -> dict[str, bytes]:
        """Every master key that may open a record, by id (the current one and a retiring one)."""
        keys = {self.master_key_id: self.master_key_bytes}
        if self.master_key_previous_id:
            keys[self.master_key_previous_id] = base64.b64decode(self.master_key_previous.get_secret_value())
        return keys

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
