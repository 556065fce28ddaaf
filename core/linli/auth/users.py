"""Users, roles, token pairs and the errors of logging in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from linli.exceptions import LinliError


class Role(StrEnum):
    """What a user is in the community; it decides what their areas let them do."""

    admin = "admin"
    """Everything, everywhere: configuration, registries, users."""
    staff = "staff"
    """Property staff (物业): entities, alerts and households in their areas."""
    grid_worker = "grid_worker"
    """Grid worker (网格员): the same reach as staff, in their grid's areas."""
    police = "police"
    """Police (民警): alerts in their areas and what the police link forwards; no states."""
    resident = "resident"
    """A resident: their household's rooms, its entities, alerts and members."""


PERSONAL_DATA_AUDITED_ROLES = frozenset({Role.staff, Role.grid_worker, Role.police})
"""Roles whose every read of personal data is written to the audit log."""


@dataclass(frozen=True, slots=True)
class User:
    """A login (read-only; change it through the auth manager)."""

    id: str
    name: str
    role: Role
    area_ids: tuple[str, ...]
    """The roots of the area subtrees the user may see (a resident's come from the household)."""
    person_id: str | None
    """The person in the people registry this login belongs to (a resident's household)."""
    is_active: bool
    system_generated: bool
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        """Whether the user has the admin role."""
        return self.role is Role.admin

    def as_dict(self) -> dict[str, Any]:
        """Return the user as plain data (APIs, the CLI); no secrets."""
        return {
            "id": self.id,
            "name": self.name,
            "role": str(self.role),
            "area_ids": list(self.area_ids),
            "person_id": self.person_id,
            "is_active": self.is_active,
            "system_generated": self.system_generated,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a login or a refresh gives: a short-lived access token and its refresh token."""

    access_token: str
    refresh_token: str
    expires_in: int
    """Seconds the access token stays valid."""
    token_type: str = "Bearer"

    def as_dict(self) -> dict[str, Any]:
        """Return the OAuth2 token response body."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "token_type": self.token_type,
        }


class AuthError(LinliError):
    """Base of the errors of logging in and managing users."""


class InvalidCredentials(AuthError):
    """Wrong user name or password, or an unknown, expired or revoked token."""


class LockedOut(AuthError):
    """Too many failed logins for this user or address: try again after ``retry_after``."""

    def __init__(self, retry_after: float) -> None:
        """Say how many seconds remain until the lock-out ends."""
        super().__init__(f"Too many failed logins: try again in {max(1, round(retry_after))} s")
        self.retry_after = retry_after


class UserError(AuthError, ValueError):
    """A user cannot be created or changed as asked (taken name, unknown area …)."""
