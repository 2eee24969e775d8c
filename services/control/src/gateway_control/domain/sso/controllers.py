"""HTTP routes of SSO: the provider list for the sign-in page, start, and the provider's callback.

Start and callback are browser navigations, so they answer with redirects, never JSON: start
sends the browser to the provider (setting the state cookie that binds the flow to this
browser); the callback sends it back to the web UI (SSO_RETURN_URL) with control's session
cookies, exactly as a password sign-in sets them, or with `?sso_error=<reason>` and no session.
The UI then exchanges the refresh cookie for an access token (POST /auth/refresh), as on any
reload.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_302_FOUND, HTTP_303_SEE_OTHER

from gateway_control.domain.audit.services import Actor
from gateway_control.domain.sso.schemas import SsoProvider, SsoProviderList
from gateway_control.domain.sso.services import Callback, SsoService
from gateway_control.oidc.errors import OidcError
from gateway_control.oidc.flows import FlowStore
from gateway_control.security.cookies import (
    SSO_STATE_COOKIE,
    cleared_sso_state_cookie,
    session_cookies,
    sso_state_cookie,
)
from gateway_control.settings import ControlSettings
from gateway_control.state import ControlState

SSO_PATH = "/auth/sso"


def provide_sso_service(control: ControlState) -> SsoService:
    """An SsoService over the app's database, identity providers and Redis."""
    settings = control.settings
    return SsoService(
        control.db,
        control.oidc,
        FlowStore(control.redis, settings.sso_flow_ttl_s),
        refresh_ttl_s=settings.refresh_token_ttl_s,
    )


def _back_to_ui(settings: ControlSettings, **query: str) -> str:
    base = settings.sso_return_url
    return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"


class SsoController(Controller):
    """OpenID Connect sign-in (authorization code with PKCE)."""

    path = SSO_PATH
    tags = ["auth"]
    dependencies = {"sso": Provide(provide_sso_service, sync_to_thread=False)}

    @get(
        "/providers",
        operation_id="listSsoProviders",
        summary="Identity providers to sign in with",
        security=[],
    )
    async def list_providers(self, control: ControlState) -> SsoProviderList:
        """The configured identity providers (no authentication: the sign-in page shows them)."""
        prefix = control.settings.public_url.rstrip("/")
        return SsoProviderList(
            items=[
                SsoProvider(
                    name=p.name,
                    display_name=p.display_name,
                    start_url=f"{prefix}/api/v1{SSO_PATH}/{p.name}/start",
                )
                for p in control.oidc.providers()
            ]
        )

    @get(
        "/{provider:str}/start",
        operation_id="startSso",
        summary="Send the browser to the identity provider",
        status_code=HTTP_302_FOUND,
        security=[],
    )
    async def start(self, sso: SsoService, control: ControlState, provider: str) -> Redirect:
        """Redirect to the provider's authorization endpoint (state, nonce, PKCE S256)."""
        settings = control.settings
        try:
            url, state = await sso.start(provider)
        except OidcError as exc:
            return Redirect(_back_to_ui(settings, sso_error=exc.reason), status_code=HTTP_302_FOUND)
        return Redirect(
            url, status_code=HTTP_302_FOUND, cookies=[sso_state_cookie(state, settings.sso_flow_ttl_s)]
        )

    @get(
        "/{provider:str}/callback",
        operation_id="finishSso",
        summary="The identity provider's redirect back: finish the sign-in",
        status_code=HTTP_303_SEE_OTHER,
        security=[],
    )
    async def callback(
        self,
        sso: SsoService,
        control: ControlState,
        actor: Actor,
        request: Request[Any, Any, Any],
        provider: str,
        # `state` is a reserved parameter name in Litestar (the app state).
        oauth_state: Annotated[str | None, Parameter(query="state")] = None,
        code: str | None = None,
        error: str | None = None,
    ) -> Redirect:
        """Check state, code and ID token; start control's session; back to the web UI."""
        settings = control.settings
        callback = Callback(
            state=oauth_state, code=code, error=error, state_cookie=request.cookies.get(SSO_STATE_COOKIE)
        )
        try:
            session = await sso.finish(actor, provider, callback)
        except OidcError as exc:
            return Redirect(
                _back_to_ui(settings, sso_error=exc.reason),
                status_code=HTTP_303_SEE_OTHER,
                cookies=[cleared_sso_state_cookie()],
            )
        return Redirect(
            settings.sso_return_url,
            status_code=HTTP_303_SEE_OTHER,
            cookies=[
                cleared_sso_state_cookie(),
                *session_cookies(session.refresh_token, settings.refresh_token_ttl_s),
            ],
        )
