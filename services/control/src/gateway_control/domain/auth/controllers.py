"""HTTP routes of the auth context: sign-in, refresh-token rotation, logout.

Login returns the access token in the body (for API clients) and sets the refresh and csrf
cookies (for the browser client). Refresh and logout are authenticated by the refresh cookie,
so they also require the CSRF header (security/cookies.py).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from gateway_control.domain.audit.services import Actor
from gateway_control.domain.auth.refresh import RefreshTokenService
from gateway_control.domain.auth.schemas import AccessTokenResponse, LoginRequest
from gateway_control.domain.auth.services import AuthService
from gateway_control.security.cookies import cleared_cookies, refresh_cookie, require_csrf, session_cookies
from gateway_control.state import ControlState


def provide_auth_service(control: ControlState) -> AuthService:
    """An AuthService over the app's database, password hashing and token issuer."""
    return AuthService(
        control.db,
        control.passwords,
        control.tokens,
        control.login_limits,
        refresh_ttl_s=control.settings.refresh_token_ttl_s,
    )


def provide_refresh_service(control: ControlState) -> RefreshTokenService:
    """A RefreshTokenService over the app's database."""
    return RefreshTokenService(control.db, control.settings.refresh_token_ttl_s)


class AuthController(Controller):
    """Local sign-in and the browser session's refresh cookie."""

    path = "/auth"
    tags = ["auth"]
    dependencies = {
        "auth": Provide(provide_auth_service, sync_to_thread=False),
        "refresh": Provide(provide_refresh_service, sync_to_thread=False),
    }

    @post(
        "/login",
        operation_id="login",
        summary="Sign in with email and password",
        status_code=HTTP_200_OK,
        security=[],
    )
    async def login(
        self, auth: AuthService, control: ControlState, actor: Actor, data: LoginRequest
    ) -> Response[AccessTokenResponse]:
        """Exchange local credentials for a short-lived bearer token (and the refresh cookie)."""
        access, refresh_token = await auth.login(actor, data)
        return Response(access, cookies=session_cookies(refresh_token, control.settings.refresh_token_ttl_s))

    @post(
        "/refresh",
        operation_id="refreshSession",
        summary="Rotate the refresh cookie and get a new access token",
        status_code=HTTP_200_OK,
        security=[],
    )
    async def refresh_session(
        self,
        auth: AuthService,
        refresh: RefreshTokenService,
        control: ControlState,
        actor: Actor,
        request: Request[Any, Any, Any],
    ) -> Response[AccessTokenResponse]:
        """Consume the refresh cookie, set its successor, return a new access token.

        Needs the X-CSRF-Token header. A refresh token used twice revokes its whole family.
        """
        require_csrf(request)
        rotated = await refresh.rotate(actor, refresh_cookie(request))
        return Response(
            auth.access_token(rotated.user_id),
            cookies=session_cookies(rotated.refresh_token, control.settings.refresh_token_ttl_s),
        )

    @post(
        "/logout",
        operation_id="logout",
        summary="Revoke the refresh cookie's session",
        status_code=HTTP_204_NO_CONTENT,
        security=[],
    )
    async def logout(
        self, refresh: RefreshTokenService, actor: Actor, request: Request[Any, Any, Any]
    ) -> Response[None]:
        """Revoke the session's refresh-token family and clear the cookies (needs X-CSRF-Token)."""
        require_csrf(request)
        await refresh.revoke(actor, refresh_cookie(request))
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=cleared_cookies())
