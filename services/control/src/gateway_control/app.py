"""create_app(): the control service's Litestar application.

    /healthz /readyz /metrics          probes, no auth
    /api/v1/auth/login                 local sign-in, no auth (sets the refresh and csrf cookies)
    /api/v1/auth/refresh, /logout      refresh cookie + X-CSRF-Token
    /api/v1/auth/sso/...               OIDC sign-in: provider list, start, callback (no auth)
    /api/v1/...                        API: bearer token, then platform or tenant role guards
    /internal/keys/{digest}            data plane's key lookup: Bearer INTERNAL_TOKEN
    /schema                            OpenAPI (every route has an operation id)

Granian calls `create_app` as a factory (`--factory gateway_control.app:create_app`), so the
settings are read here, once, and handed to the lifespan through the app state.
"""

from __future__ import annotations

from typing import Any

from gateway_common.logging import configure_logging, request_id_var
from gateway_common.server_spans import ServerSpanMiddleware
from gateway_common.telemetry import active_tracer, configure_tracing
from litestar import Litestar, Request, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins.prometheus import PrometheusConfig

from gateway_control.domain.alert_channels.controllers import AlertChannelController
from gateway_control.domain.alerts.controllers import AlertController
from gateway_control.domain.audit.controllers import AuditController
from gateway_control.domain.audit.services import Actor
from gateway_control.domain.auth.controllers import AuthController
from gateway_control.domain.budgets.controllers import BudgetController
from gateway_control.domain.health.controllers import HealthController
from gateway_control.domain.internal.controllers import InternalKeyController
from gateway_control.domain.keys.controllers import ApiKeyController
from gateway_control.domain.me.controllers import SelfServiceController
from gateway_control.domain.memberships.controllers import MembershipController
from gateway_control.domain.models.controllers import ModelController
from gateway_control.domain.providers.controllers import ProviderController
from gateway_control.domain.routes.controllers import RouteController
from gateway_control.domain.settings.controllers import SettingsController
from gateway_control.domain.sso.controllers import SsoController
from gateway_control.domain.system.controllers import SystemController
from gateway_control.domain.tenants.controllers import TenantController
from gateway_control.domain.usage.controllers import UsageController
from gateway_control.domain.users.controllers import UserController
from gateway_control.errors import AuthenticationError, exception_handlers
from gateway_control.lifespan import SETTINGS_KEY, lifespan
from gateway_control.middleware import REQUEST_ID_HEADER, request_id_middleware
from gateway_control.openapi import (
    SECURITY_SCHEME,
    document_errors,
    forbid_extra_request_fields,
    openapi_config,
)
from gateway_control.security.cookies import CSRF_HEADER
from gateway_control.security.guards import require_authenticated
from gateway_control.security.principal import Principal
from gateway_control.settings import ControlSettings, load_control_settings
from gateway_control.state import ControlState, control_state
from gateway_control.webui import web_ui_routers

API_PREFIX = "/api/v1"
_MAX_BODY_BYTES = 1024 * 1024


def provide_control(state: State) -> ControlState:
    """The lifespan's ControlState, injected into handlers and service providers."""
    return control_state(state)


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """Who is calling, for the audit trail: principal (if authenticated), request id and address."""
    principal = request.scope.get("user")
    user = principal if isinstance(principal, Principal) else None
    return Actor(
        user_id=None if user is None else user.user_id,
        email=None if user is None else user.email,
        request_id=request_id_var.get(),
        ip=None if request.client is None else request.client.host,
    )


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The authenticated caller (set by the route's guard, which always runs first)."""
    principal = request.scope.get("user")
    if not isinstance(principal, Principal):
        raise AuthenticationError("a bearer token is required")
    return principal


def _cors(settings: ControlSettings) -> CORSConfig | None:
    """CORS for the configured origins only; none configured means no CORS headers at all."""
    origins = settings.cors_origins
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", CSRF_HEADER, REQUEST_ID_HEADER],
        expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        # The refresh cookie must travel on cross-origin refresh/logout calls from the UI.
        allow_credentials=True,
        max_age=600,
    )


def _tracing_middleware() -> list[DefineMiddleware]:
    """A SERVER span per request, only when tracing is on (its gRPC calls become children)."""
    tracer = active_tracer("gateway_control")
    if tracer is None:
        return []
    # ServerSpanMiddleware is typed with plain ASGI mappings, not Litestar's scope TypedDicts.
    return [DefineMiddleware(ServerSpanMiddleware, tracer=tracer)]  # type: ignore[arg-type]


def create_app(settings: ControlSettings | None = None) -> Litestar:
    """Build the app; settings are loaded from the environment when not given."""
    settings = settings or load_control_settings()
    configure_logging("control", settings.log_level)
    configure_tracing("control", settings.otel_exporter_otlp_endpoint, grpc_client=True)
    admin_api = Router(
        path=API_PREFIX,
        route_handlers=[
            TenantController,
            MembershipController,
            UserController,
            SettingsController,
            ApiKeyController,
            ProviderController,
            ModelController,
            RouteController,
            UsageController,
            HealthController,
            AuditController,
            SelfServiceController,
            BudgetController,
            AlertChannelController,
            AlertController,
        ],
        # Every route authenticates; controllers and routes add platform or tenant role guards
        # (security/guards.py), and key-level checks happen where the key's tenant is known.
        guards=[require_authenticated],
        security=[{SECURITY_SCHEME: []}],
    )
    public_api = Router(path=API_PREFIX, route_handlers=[AuthController, SsoController])
    metrics = PrometheusConfig(
        app_name="control",
        prefix="gateway_control",
        group_path=True,
        exclude=["^/metrics", "^/healthz", "^/readyz"],
    )
    app = Litestar(
        route_handlers=[admin_api, public_api, SystemController, InternalKeyController, *web_ui_routers()],
        lifespan=[lifespan],
        state=State({SETTINGS_KEY: settings}),
        dependencies={
            "control": Provide(provide_control, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        exception_handlers=exception_handlers(),
        middleware=[*_tracing_middleware(), request_id_middleware, metrics.middleware],
        openapi_config=openapi_config(),
        cors_config=_cors(settings),
        request_max_body_size=_MAX_BODY_BYTES,
        logging_config=None,
    )
    # Built once here (the routes are all registered) and rewritten in place before it is served.
    document_errors(app.openapi_schema)
    forbid_extra_request_fields(app.openapi_schema)
    return app
