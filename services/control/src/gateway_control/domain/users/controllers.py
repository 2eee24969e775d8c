"""HTTP routes of the users context (platform admins only)."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.di import Provide

from gateway_control.domain._types import PageLimit, PageOffset
from gateway_control.domain.audit.services import Actor
from gateway_control.domain.users.schemas import User, UserCreate, UserPage, UserUpdate
from gateway_control.domain.users.services import UserService
from gateway_control.security.guards import require_platform_admin
from gateway_control.state import ControlState


def provide_user_service(control: ControlState) -> UserService:
    """A UserService over the app's database and password hashing."""
    return UserService(control.db, control.passwords)


class UserController(Controller):
    """Account administration."""

    path = "/users"
    tags = ["users"]
    guards = [require_platform_admin]
    dependencies = {"users": Provide(provide_user_service, sync_to_thread=False)}

    @post("/", operation_id="createUser", summary="Create a user")
    async def create_user(self, users: UserService, actor: Actor, data: UserCreate) -> User:
        """Create an account (and its personal tenant); 409 when the email is taken."""
        return await users.create(actor, data)

    @get("/", operation_id="listUsers", summary="List users")
    async def list_users(self, users: UserService, limit: PageLimit = 50, offset: PageOffset = 0) -> UserPage:
        """One page of users ordered by email."""
        return await users.page(limit, offset)

    @get("/{user_id:uuid}", operation_id="getUser", summary="Get a user")
    async def get_user(self, users: UserService, user_id: uuid.UUID) -> User:
        """One user by id."""
        return await users.get(user_id)

    @patch("/{user_id:uuid}", operation_id="updateUser", summary="Change a user")
    async def update_user(
        self, users: UserService, actor: Actor, user_id: uuid.UUID, data: UserUpdate
    ) -> User:
        """Display name, disabled flag, platform admin role, password (revokes refresh tokens)."""
        return await users.update(actor, user_id, data)
