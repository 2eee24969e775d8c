"""Login request and the access token it returns."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Local account credentials."""

    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class AccessTokenResponse(msgspec.Struct):
    """A bearer token for the control API (OAuth 2.0 token response shape)."""

    access_token: str
    expires_in: int
    token_type: Literal["bearer"] = "bearer"
