"""Session cookies of the browser client and the CSRF check that guards them.

    omg_refresh   the refresh token: httpOnly, Secure, SameSite=Strict, Path=/api/v1/auth
                  (sent only to refresh and logout, never readable by scripts)
    omg_csrf      a random value: Secure, SameSite=Strict, readable by the page's script
    omg_sso_state the state of an SSO sign-in in progress: httpOnly, Secure, SameSite=Lax (it must
                  come back on the provider's top-level redirect), Path=/api/v1/auth/sso; binds
                  the flow to the browser that started it (no login CSRF)

Only refresh and logout are authenticated by a cookie (every other route takes a bearer token
in the Authorization header, which a browser never adds by itself), so only they need CSRF
protection. They require the double-submit proof: the `X-CSRF-Token` header must equal the
csrf cookie. Another origin can make the browser send the cookies but cannot read them, so it
cannot echo the value; SameSite=Strict is a second, independent barrier.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from gateway_control.errors import PermissionDeniedError

REFRESH_COOKIE = "omg_refresh"
CSRF_COOKIE = "omg_csrf"
CSRF_HEADER = "x-csrf-token"
REFRESH_COOKIE_PATH = "/api/v1/auth"
SSO_STATE_COOKIE = "omg_sso_state"
SSO_COOKIE_PATH = "/api/v1/auth/sso"


class CsrfError(PermissionDeniedError):
    """A cookie-authenticated request without a matching X-CSRF-Token header."""

    code = "csrf_failed"


def session_cookies(refresh_token: str, max_age_s: int) -> list[Cookie]:
    """The refresh cookie and a fresh csrf cookie, both living as long as the refresh token."""
    return [
        Cookie(
            key=REFRESH_COOKIE,
            value=refresh_token,
            path=REFRESH_COOKIE_PATH,
            max_age=max_age_s,
            httponly=True,
            secure=True,
            samesite="strict",
        ),
        Cookie(
            key=CSRF_COOKIE,
            value=secrets.token_urlsafe(32),
            path="/",
            max_age=max_age_s,
            httponly=False,
            secure=True,
            samesite="strict",
        ),
    ]


def cleared_cookies() -> list[Cookie]:
    """Cookies that make the browser forget the session (logout)."""
    return [
        Cookie(
            key=REFRESH_COOKIE,
            value="",
            path=REFRESH_COOKIE_PATH,
            max_age=0,
            httponly=True,
            secure=True,
            samesite="strict",
        ),
        Cookie(key=CSRF_COOKIE, value="", path="/", max_age=0, secure=True, samesite="strict"),
    ]


def sso_state_cookie(state: str, max_age_s: int) -> Cookie:
    """The cookie binding an SSO sign-in's state to the browser that started it ("" and 0: forget it)."""
    return Cookie(
        key=SSO_STATE_COOKIE,
        value=state,
        path=SSO_COOKIE_PATH,
        max_age=max_age_s,
        httponly=True,
        secure=True,
        samesite="lax",
    )


def cleared_sso_state_cookie() -> Cookie:
    """Forget the SSO state (the callback used it, successfully or not)."""
    return sso_state_cookie("", 0)


def refresh_cookie(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The refresh token the browser sent, if any."""
    value = connection.cookies.get(REFRESH_COOKIE, "")
    return value or None


def require_csrf(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """403 csrf_failed unless the X-CSRF-Token header equals the csrf cookie (compared in constant time)."""
    cookie = connection.cookies.get(CSRF_COOKIE, "")
    header = connection.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise CsrfError("the X-CSRF-Token header must echo the omg_csrf cookie")
