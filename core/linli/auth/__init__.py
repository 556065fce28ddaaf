"""Auth: users with roles and area scopes, passwords, tokens and permissions.

Users (``admin``, ``staff``, ``grid_worker``, ``police``, ``resident``) and their tokens are
stored in the database; the bundled ``auth`` integration sets up the :class:`AuthManager`
(``get_auth(hub)``), the HTTP and WebSocket APIs validate Bearer tokens with
:meth:`AuthManager.async_validate_access_token` and check each read and call with the user's
:class:`Permissions`. Service calls made for a user are checked in the core.

Configuration (optional; the defaults shown)::

    auth:
      max_failed_logins: 5           # per user name, before a lock-out
      max_failed_logins_per_ip: 20   # per client address
      lockout_minutes: 15
      access_token_minutes: 30
      refresh_token_days: 90         # an unused refresh token expires after this
"""

from __future__ import annotations

from linli.auth.manager import AUTH_MANAGER, AuthConfig, AuthManager, get_auth
from linli.auth.permissions import Permissions
from linli.auth.users import (
    AuthError,
    InvalidCredentials,
    LockedOut,
    Role,
    TokenPair,
    User,
    UserError,
)

__all__ = [
    "AUTH_MANAGER",
    "AuthConfig",
    "AuthError",
    "AuthManager",
    "InvalidCredentials",
    "LockedOut",
    "Permissions",
    "Role",
    "TokenPair",
    "User",
    "UserError",
    "get_auth",
]
