"""The auth manager: users, logins, tokens and each user's permissions, over the database.

Users and tokens live in the database (``auth_users``, ``auth_tokens``), so the ``linli``
CLI can add them whether or not a hub runs; the hub caches what it has looked up and, on a
miss, asks the database again (an unknown token is remembered as unknown for a few seconds
only). Password hashing runs in the executor, at most two at once (each takes 32 MiB).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from linli.auth import passwords, store
from linli.auth.permissions import Permissions, PolicyIndex
from linli.auth.ratelimit import LoginLimiter
from linli.auth.tokens import (
    TokenKind,
    decode_access_token,
    encode_access_token,
    looks_like_jwt,
    new_jwt_key,
    new_token,
    parse_token,
    secret_matches,
    unverified_issuer,
)
from linli.auth.users import InvalidCredentials, LockedOut, Role, TokenPair, User, UserError
from linli.callback import callback
from linli.exceptions import LinliError
from linli.hub import HubKey
from linli.util.dt import utc_from_timestamp
from linli.util.ids import random_hex

if TYPE_CHECKING:
    from linli.context import Context
    from linli.db.database import Database
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

AUTH_MANAGER: Final[HubKey[AuthManager]] = HubKey("auth")

NEGATIVE_CACHE_SECONDS: Final = 5.0
"""How long a token id the database does not know is answered from memory (real seconds)."""
NEGATIVE_CACHE_SIZE: Final = 10_000
HASHING_AT_ONCE: Final = 2
MAX_NAME_LENGTH: Final = 64
MAX_LABEL_LENGTH: Final = 100
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f\s]")

REGISTRY_EVENTS: Final = (
    "area_registry_updated",
    "device_registry_updated",
    "entity_registry_updated",
    "household_registry_updated",
    "person_registry_updated",
)
"""Changes that can move an entity, a room or a household in or out of someone's scope."""


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """The ``auth:`` settings."""

    max_failed_logins: int = 5
    """Failed logins for one user name before it is locked out."""
    max_failed_logins_per_ip: int = 20
    """Failed logins from one client address before it is locked out (many users share NAT)."""
    lockout_seconds: float = 15 * 60.0
    """How long a lock-out lasts, and the window in which failures are counted."""
    access_token_seconds: float = 30 * 60.0
    refresh_token_seconds: float = 90 * 24 * 3600.0
    """A refresh token unused this long expires (each use renews it)."""


def normalize_name(name: str) -> str:
    """Return a user name in NFKC form without surrounding blanks."""
    return unicodedata.normalize("NFKC", name).strip()


class AuthManager:
    """Users, logins, tokens and permissions of one hub (or one CLI command)."""

    def __init__(self, hub: Hub, db: Database, config: AuthConfig | None = None) -> None:
        """Use ``db`` (started) for storage; call :meth:`async_setup` on a hub."""
        self._hub = hub
        self._db = db
        self.config = config or AuthConfig()
        self._users: dict[str, User] = {}
        self._tokens: dict[str, store.TokenRow] = {}
        self._unknown_tokens: dict[str, float] = {}
        self._permissions: dict[str, Permissions] = {}
        self._index = PolicyIndex()
        self._user_limiter = LoginLimiter(
            self.config.max_failed_logins, self.config.lockout_seconds
        )
        self._ip_limiter = LoginLimiter(
            self.config.max_failed_logins_per_ip, self.config.lockout_seconds
        )
        self._hashing: asyncio.Semaphore | None = None
        self.extra_area_ids: frozenset[str] = frozenset()
        """Area ids accepted besides the registry's (the CLI adds the configured tree)."""

    @property
    def database(self) -> Database:
        """The database holding users and tokens."""
        return self._db

    @callback
    def async_setup(self) -> None:
        """Watch the registries (scopes follow them) and check service calls on the hub."""
        for event_type in REGISTRY_EVENTS:
            self._hub.bus.async_listen(event_type, self._index.async_invalidate, owner="auth")
        self._hub.services.permission_check = self.check_service_call

    @callback
    def async_unload(self) -> None:
        """Stop checking service calls."""
        if self._hub.services.permission_check == self.check_service_call:
            self._hub.services.permission_check = None

    # ------------------------------------------------------------------ users
    def _to_user(self, row: store.UserRow) -> User:
        user = User(
            id=row.id,
            name=row.name,
            role=Role(row.role),
            area_ids=row.area_ids,
            person_id=row.person_id,
            is_active=row.is_active,
            system_generated=row.system_generated,
            created_at=utc_from_timestamp(row.created_ts),
        )
        cached = self._users.get(user.id)
        if cached is not None and cached == user:
            return cached  # the same object: its Permissions stay cached
        self._users[user.id] = user
        return user

    def _check_scope(self, role: Role, area_ids: tuple[str, ...], person_id: str | None) -> None:
        registries = self._hub.registries
        for area_id in area_ids:
            if area_id not in registries.areas and area_id not in self.extra_area_ids:
                raise UserError(f"unknown area {area_id!r}")
        if role is Role.resident and area_ids:
            raise UserError(
                "a resident's scope is their household's rooms: give the person, not areas"
            )
        if person_id is not None and registries.people.async_get_person(person_id) is None:
            raise UserError(f"unknown person {person_id!r}")

    async def async_create_user(
        self,
        name: str,
        role: Role | str,
        *,
        area_ids: Collection[str] = (),
        person_id: str | None = None,
        password: str | None = None,
        system_generated: bool = False,
        operator_user_id: str | None = None,
    ) -> User:
        """Create a user; raise :class:`UserError` for a bad name, role, area or person."""
        name = normalize_name(name)
        if not name or len(name) > MAX_NAME_LENGTH or _BAD_NAME.search(name):
            raise UserError(
                f"invalid user name {name!r}: 1 to {MAX_NAME_LENGTH} characters, no spaces"
            )
        try:
            role = Role(role)
        except ValueError:
            valid = ", ".join(str(item) for item in Role)
            raise UserError(f"unknown role {role!r}: use one of {valid}") from None
        if isinstance(area_ids, str):
            raise UserError("area_ids must be a list of area ids, not a string")
        areas = tuple(dict.fromkeys(area_ids))
        self._check_scope(role, areas, person_id)
        password_hash = None
        if password is not None:
            try:
                passwords.check_password_policy(password)
            except ValueError as err:
                raise UserError(str(err)) from None
            password_hash = await self._async_hash(password)
        row = store.UserRow(
            id=random_hex(16),
            name=name,
            role=str(role),
            area_ids=areas,
            person_id=person_id,
            password_hash=password_hash,
            is_active=True,
            system_generated=system_generated,
            created_ts=self._hub.clock.time(),
        )
        try:
            await self._db.async_run(lambda session: store.insert_user(session, row))
        except store.NameTaken:
            raise UserError(f"a user called {name!r} already exists") from None
        user = self._to_user(row)
        _LOGGER.info("User %s created with role %s", user.id, role)
        await self._async_audit(
            operator_user_id,
            "user_created",
            f"user:{user.id}",
            {"role": str(role), "area_ids": list(areas), "password": password is not None},
        )
        return user

    async def async_get_user(self, user_id: str) -> User | None:
        """Return the user ``user_id`` (from memory, else the database), or None."""
        user = self._users.get(user_id)
        if user is not None:
            return user
        row = await self._db.async_run(lambda session: store.get_user(session, user_id))
        return None if row is None else self._to_user(row)

    async def async_get_user_by_name(self, name: str) -> User | None:
        """Return the user called ``name``, or None."""
        name = normalize_name(name)
        row = await self._db.async_run(lambda session: store.get_user_by_name(session, name))
        return None if row is None else self._to_user(row)

    async def async_list_users(self) -> list[User]:
        """Return every user, oldest first."""
        rows = await self._db.async_run(store.list_users)
        return [self._to_user(row) for row in rows]

    @callback
    def async_get_cached_user(self, user_id: str) -> User | None:
        """Return the user if this process has looked it up before (no I/O)."""
        return self._users.get(user_id)

    async def async_update_user(
        self,
        user_id: str,
        *,
        role: Role | str | None = None,
        area_ids: Collection[str] | None = None,
        is_active: bool | None = None,
        operator_user_id: str | None = None,
    ) -> User:
        """Change a user's role, areas or active flag; raise :class:`UserError` if unknown."""
        current = await self.async_get_user(user_id)
        if current is None:
            raise UserError(f"unknown user {user_id!r}")
        fields: dict[str, Any] = {}
        new_role = current.role if role is None else Role(role)
        new_areas = current.area_ids if area_ids is None else tuple(dict.fromkeys(area_ids))
        if role is not None:
            fields["role"] = str(new_role)
        if area_ids is not None:
            fields["area_ids"] = new_areas
        if is_active is not None:
            fields["is_active"] = is_active
        self._check_scope(new_role, new_areas, current.person_id)
        row = await self._db.async_run(
            lambda session: store.update_user(session, user_id, **fields)
        )
        if row is None:
            raise UserError(f"unknown user {user_id!r}")
        user = self._to_user(row)
        await self._async_audit(
            operator_user_id,
            "user_updated",
            f"user:{user_id}",
            {
                key: list(value) if isinstance(value, tuple) else value
                for key, value in fields.items()
            },
        )
        return user

    async def async_delete_user(self, user_id: str, *, operator_user_id: str | None = None) -> None:
        """Delete a user and every token of theirs."""
        existed = await self._db.async_run(lambda session: store.delete_user(session, user_id))
        if not existed:
            raise UserError(f"unknown user {user_id!r}")
        self._users.pop(user_id, None)
        self._permissions.pop(user_id, None)
        for token_id in [t.id for t in self._tokens.values() if t.user_id == user_id]:
            del self._tokens[token_id]
        await self._async_audit(operator_user_id, "user_deleted", f"user:{user_id}", None)

    async def async_set_password(self, user_id: str, password: str) -> None:
        """Set a user's password (checked against the length policy)."""
        try:
            passwords.check_password_policy(password)
        except ValueError as err:
            raise UserError(str(err)) from None
        password_hash = await self._async_hash(password)
        row = await self._db.async_run(
            lambda session: store.update_user(session, user_id, password_hash=password_hash)
        )
        if row is None:
            raise UserError(f"unknown user {user_id!r}")
        await self._async_audit(user_id, "password_changed", f"user:{user_id}", None)

    # ------------------------------------------------------------------ permissions
    @callback
    def permissions(self, user: User) -> Permissions:
        """Return the user's permissions (one object per user, kept up to date)."""
        cached = self._permissions.get(user.id)
        if cached is None or cached.user is not user:
            cached = Permissions(self._hub, self._index, user)
            self._permissions[user.id] = cached
        return cached

    @callback
    def check_service_call(
        self, domain: str, service: str, data: Mapping[str, Any], context: Context
    ) -> None:
        """Raise :class:`~linli.exceptions.Unauthorized` unless the context's user may call.

        Installed as the service registry's ``permission_check``: it runs for calls with a
        user only. The user must be known to this process (every token validation loads it).
        """
        from linli.auth.service_check import check_service_call

        user_id = context.user_id
        user = None if user_id is None else self._users.get(user_id)
        check_service_call(
            self._hub,
            user,
            None if user is None else self.permissions(user),
            domain,
            service,
            data,
            user_id,
        )

    # ------------------------------------------------------------------ logins and tokens
    async def _async_hash(self, password: str) -> str:
        if self._hashing is None:
            self._hashing = asyncio.Semaphore(HASHING_AT_ONCE)
        async with self._hashing:
            return await self._hub.async_add_executor_job(passwords.hash_password, password)

    async def _async_verify(self, password: str, stored: str) -> bool:
        if self._hashing is None:
            self._hashing = asyncio.Semaphore(HASHING_AT_ONCE)
        async with self._hashing:
            return await self._hub.async_add_executor_job(
                passwords.verify_password, password, stored
            )

    def _retry_after(self, user_key: str, client_ip: str | None, now: float) -> float:
        wait = self._user_limiter.retry_after(user_key, now)
        if client_ip:
            wait = max(wait, self._ip_limiter.retry_after(client_ip, now))
        return wait

    async def async_login(
        self, username: str, password: str, *, client_ip: str | None
    ) -> TokenPair:
        """Check a password; return new tokens, or raise InvalidCredentials / LockedOut."""
        name = normalize_name(username)
        user_key = name.casefold()
        now = self._hub.clock.time()
        wait = self._retry_after(user_key, client_ip, now)
        if wait > 0:
            raise LockedOut(wait)
        row = await self._db.async_run(lambda session: store.get_user_by_name(session, name))
        stored = None if row is None else row.password_hash
        # Verify even without a user, so a login takes as long whether or not the name exists.
        matches = await self._async_verify(password, stored or passwords.DUMMY_HASH)
        if row is None or stored is None or not row.is_active or not matches:
            await self._async_login_failed(row, name, user_key, client_ip)
            raise InvalidCredentials("invalid user name or password")
        self._user_limiter.reset(user_key)
        user = self._to_user(row)
        if passwords.needs_rehash(stored):
            await self.async_set_password(user.id, password)
        pair = await self._async_issue_refresh_token(user, client_ip)
        _LOGGER.info("User %s logged in", user.id)
        await self._async_audit(user.id, "login", f"user:{user.id}", {"client_ip": client_ip})
        return pair

    async def _async_login_failed(
        self, row: store.UserRow | None, name: str, user_key: str, client_ip: str | None
    ) -> None:
        now = self._hub.clock.time()
        subject = f"user:{row.id}" if row is not None else f"username:{name[:MAX_NAME_LENGTH]}"
        locked = self._user_limiter.record_failure(user_key, now)
        if client_ip:
            locked = self._ip_limiter.record_failure(client_ip, now) or locked
        _LOGGER.warning("Failed login for %s from %s", subject, client_ip or "unknown address")
        await self._async_audit(None, "login_failed", subject, {"client_ip": client_ip})
        if locked:
            _LOGGER.warning(
                "Locking out %s (from %s) for %.0f s after repeated failed logins",
                subject,
                client_ip or "unknown address",
                self.config.lockout_seconds,
            )
            await self._async_audit(
                None,
                "login_locked_out",
                subject,
                {"client_ip": client_ip, "seconds": self.config.lockout_seconds},
            )

    async def _async_issue_refresh_token(self, user: User, client_ip: str | None) -> TokenPair:
        now = self._hub.clock.time()
        made = new_token(TokenKind.refresh)
        row = store.TokenRow(
            id=made.id,
            user_id=user.id,
            kind=str(TokenKind.refresh),
            label=None if client_ip is None else f"login from {client_ip}"[:MAX_LABEL_LENGTH],
            token_hash=made.token_hash,
            jwt_key=new_jwt_key(),
            created_ts=now,
            last_used_ts=now,
            expires_ts=now + self.config.refresh_token_seconds,
        )
        await self._db.async_run(lambda session: store.insert_token(session, row))
        self._tokens[row.id] = row
        return TokenPair(
            access_token=self._access_token(row, now),
            refresh_token=made.token,
            expires_in=int(self.config.access_token_seconds),
        )

    def _access_token(self, row: store.TokenRow, now: float) -> str:
        assert row.jwt_key is not None
        return encode_access_token(row.id, row.jwt_key, now, self.config.access_token_seconds)

    async def _async_token(self, token_id: str) -> store.TokenRow | None:
        row = self._tokens.get(token_id)
        if row is not None:
            return row
        until = self._unknown_tokens.get(token_id)
        if until is not None:
            if until > time.monotonic():
                return None
            del self._unknown_tokens[token_id]
        row = await self._db.async_run(lambda session: store.get_token(session, token_id))
        if row is None:
            if len(self._unknown_tokens) >= NEGATIVE_CACHE_SIZE:
                self._unknown_tokens.clear()
            self._unknown_tokens[token_id] = time.monotonic() + NEGATIVE_CACHE_SECONDS
            return None
        self._tokens[token_id] = row
        return row

    async def _async_refresh_row(self, refresh_token: str) -> store.TokenRow | None:
        parsed = parse_token(refresh_token, TokenKind.refresh)
        if parsed is None:
            return None
        row = await self._async_token(parsed[0])
        if (
            row is None
            or row.kind != TokenKind.refresh
            or not secret_matches(parsed[1], row.token_hash)
        ):
            return None
        return row

    async def async_refresh(self, refresh_token: str) -> TokenPair:
        """Return a new access token for a valid refresh token (which is renewed)."""
        row = await self._async_refresh_row(refresh_token)
        now = self._hub.clock.time()
        if row is None or (row.expires_ts is not None and row.expires_ts <= now):
            raise InvalidCredentials("invalid or expired refresh token")
        user = await self.async_get_user(row.user_id)
        if user is None or not user.is_active:
            raise InvalidCredentials("the user of this refresh token is not active")
        expires = now + self.config.refresh_token_seconds
        await self._db.async_run(lambda session: store.touch_token(session, row.id, now, expires))
        self._tokens[row.id] = replace(row, last_used_ts=now, expires_ts=expires)
        return TokenPair(
            access_token=self._access_token(row, now),
            refresh_token=refresh_token,
            expires_in=int(self.config.access_token_seconds),
        )

    async def async_revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token (and with it its access tokens); unknown ones are ignored."""
        row = await self._async_refresh_row(refresh_token)
        if row is None:
            return
        await self._async_delete_token(row, row.user_id)

    async def _async_delete_token(self, row: store.TokenRow, actor: str | None) -> None:
        await self._db.async_run(lambda session: store.delete_token(session, row.id))
        self._tokens.pop(row.id, None)
        await self._async_audit(actor, "token_revoked", f"user:{row.user_id}", {"token_id": row.id})

    async def async_create_long_lived_token(
        self, user_id: str, label: str, *, operator_user_id: str | None = None
    ) -> str:
        """Create a long-lived access token for ``user_id``; return it (shown only once)."""
        user = await self.async_get_user(user_id)
        if user is None:
            raise UserError(f"unknown user {user_id!r}")
        label = label.strip()
        if not label or len(label) > MAX_LABEL_LENGTH:
            raise UserError(f"a token label needs 1 to {MAX_LABEL_LENGTH} characters")
        made = new_token(TokenKind.long_lived)
        row = store.TokenRow(
            id=made.id,
            user_id=user.id,
            kind=str(TokenKind.long_lived),
            label=label,
            token_hash=made.token_hash,
            jwt_key=None,
            created_ts=self._hub.clock.time(),
            last_used_ts=None,
            expires_ts=None,
        )
        await self._db.async_run(lambda session: store.insert_token(session, row))
        self._tokens[row.id] = row
        _LOGGER.info("Long-lived token %s created for user %s", row.id, user.id)
        await self._async_audit(
            operator_user_id,
            "token_created",
            f"user:{user.id}",
            {"token_id": row.id, "label": label},
        )
        return made.token

    async def async_list_tokens(self, user_id: str) -> list[dict[str, Any]]:
        """Return the tokens of ``user_id`` as plain data, without hashes or keys."""
        rows = await self._db.async_run(lambda session: store.list_tokens(session, user_id))
        return [
            {
                "id": row.id,
                "kind": row.kind,
                "label": row.label,
                "created_at": utc_from_timestamp(row.created_ts).isoformat(),
                "last_used_at": None
                if row.last_used_ts is None
                else utc_from_timestamp(row.last_used_ts).isoformat(),
                "expires_at": None
                if row.expires_ts is None
                else utc_from_timestamp(row.expires_ts).isoformat(),
            }
            for row in rows
        ]

    async def async_delete_token(
        self, token_id: str, *, operator_user_id: str | None = None
    ) -> None:
        """Delete a token by id (long-lived or refresh); raise UserError when unknown."""
        row = await self._async_token(token_id)
        if row is None:
            raise UserError(f"unknown token {token_id!r}")
        await self._async_delete_token(row, operator_user_id)

    async def async_validate_access_token(self, token: str) -> User | None:
        """Return the active user a Bearer token (JWT or long-lived) stands for, or None."""
        now = self._hub.clock.time()
        if looks_like_jwt(token):
            issuer = unverified_issuer(token)
            if issuer is None:
                return None
            row = await self._async_token(issuer)
            if row is None or row.jwt_key is None or row.kind != TokenKind.refresh:
                return None
            if decode_access_token(token, row.jwt_key, now) is None:
                return None
        else:
            parsed = parse_token(token, TokenKind.long_lived)
            if parsed is None:
                return None
            row = await self._async_token(parsed[0])
            if (
                row is None
                or row.kind != TokenKind.long_lived
                or not secret_matches(parsed[1], row.token_hash)
            ):
                return None
        if row.expires_ts is not None and row.expires_ts <= now:
            return None
        user = await self.async_get_user(row.user_id)
        if user is None or not user.is_active:
            return None
        return user

    async def async_purge_expired_tokens(self) -> int:
        """Delete expired refresh tokens; return how many."""
        now = self._hub.clock.time()
        count = await self._db.async_run(lambda session: store.delete_expired_tokens(session, now))
        for token_id in [
            t.id for t in self._tokens.values() if t.expires_ts is not None and t.expires_ts <= now
        ]:
            del self._tokens[token_id]
        return count

    # ------------------------------------------------------------------ audit
    async def _async_audit(
        self,
        user_id: str | None,
        action: str,
        subject: str,
        details: Mapping[str, Any] | None,
    ) -> None:
        from linli.audit import async_audit

        await async_audit(
            self._hub, user_id=user_id, action=action, subject=subject, details=details
        )


def get_auth(hub: Hub) -> AuthManager:
    """Return the hub's auth manager; raise LinliError when auth is not set up."""
    manager = hub.data.get(AUTH_MANAGER)
    if manager is None:
        raise LinliError("Auth is not set up on this hub (the auth integration did not load)")
    return manager
