"""HTTP routes of the auth context."""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK

from gateway_control.domain.audit.services import Actor
from gateway_control.domain.auth.schemas import AccessTokenResponse, LoginRequest
from gateway_control.domain.auth.services import AuthService
from gateway_control.state import ControlState


def provide_auth_service(control: ControlState) -> AuthService:
    """An AuthService over the app's database, password hashing and token issuer."""
    return AuthService(control.db, control.passwords, control.tokens, control.login_limits)


class AuthController(Controller):
    """Local sign-in."""

    path = "/auth"
    tags = ["auth"]
    dependencies = {"auth": Provide(provide_auth_service, sync_to_thread=False)}

    @post(
        "/login",
        operation_id="login",
        summary="Sign in with email and password",
        status_code=HTTP_200_OK,
        security=[],
    )
    async def login(self, auth: AuthService, actor: Actor, data: LoginRequest) -> AccessTokenResponse:
        """Exchange local credentials for a short-lived bearer token."""
        return await auth.login(actor, data)
