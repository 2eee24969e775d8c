"""Bearer-token authentication for the admin API.

The token is verified (see tokens.py) and its user loaded fresh from Postgres, so disabling a
user or withdrawing a role takes effect at once rather than when the token expires. This runs
inside the route's guard (not in a middleware) so its errors are rendered like every other
error, with the request id.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from gateway_control.domain.auth.services import AuthService
from gateway_control.errors import AuthenticationError
from gateway_control.security.principal import Principal
from gateway_control.security.tokens import InvalidTokenError
from gateway_control.state import control_state


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal behind the request's bearer token, stored as `request.user`; 401 otherwise."""
    cached = connection.scope.get("user")
    if isinstance(cached, Principal):
        return cached
    token = bearer_token(connection)
    if token is None:
        raise AuthenticationError("a bearer token is required")
    control = control_state(connection.app.state)
    try:
        claims = control.tokens.verify(token)
    except InvalidTokenError as exc:
        raise AuthenticationError("the bearer token is invalid or expired") from exc
    principal = await AuthService(control.db, control.passwords, control.tokens).principal(claims)
    connection.scope["user"] = principal
    connection.scope["auth"] = claims
    return principal
