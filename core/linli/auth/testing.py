"""Test helpers for the auth: a user of a given role with a valid token."""

from __future__ import annotations

from collections.abc import Collection
from itertools import count
from typing import TYPE_CHECKING

from linli.auth.manager import get_auth
from linli.auth.users import Role, User

if TYPE_CHECKING:
    from linli.hub import Hub

_numbers = count(1)


async def async_user_with_token(
    hub: Hub,
    role: Role | str,
    *,
    name: str | None = None,
    area_ids: Collection[str] = (),
    person_id: str | None = None,
) -> tuple[User, str]:
    """Create a user (auth must be set up on ``hub``) and return it with a long-lived token."""
    auth = get_auth(hub)
    role = Role(role)
    user = await auth.async_create_user(
        name or f"{role}-{next(_numbers)}", role, area_ids=area_ids, person_id=person_id
    )
    token = await auth.async_create_long_lived_token(user.id, "test")
    return user, token
