"""The auth tables' units of work: plain functions of a session, run in the DB worker.

Each returns plain data (:class:`UserRow`, :class:`TokenRow`), never ORM objects, so nothing
is lazily loaded after its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linli.auth.models import AuthToken, AuthUser


@dataclass(frozen=True, slots=True)
class UserRow:
    """A stored user, with its password hash."""

    id: str
    name: str
    role: str
    area_ids: tuple[str, ...]
    person_id: str | None
    password_hash: str | None
    is_active: bool
    system_generated: bool
    created_ts: float


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A stored token (hash only)."""

    id: str
    user_id: str
    kind: str
    label: str | None
    token_hash: str
    jwt_key: str | None
    created_ts: float
    last_used_ts: float | None
    expires_ts: float | None


class NameTaken(Exception):
    """Another user already has this name."""


def _rowcount(result: object) -> int:
    """The rows a DML statement touched (``CursorResult.rowcount``)."""
    return int(getattr(result, "rowcount", 0))


def _user_row(user: AuthUser) -> UserRow:
    return UserRow(
        id=user.id,
        name=user.name,
        role=user.role,
        area_ids=tuple(orjson.loads(user.area_ids)),
        person_id=user.person_id,
        password_hash=user.password_hash,
        is_active=user.is_active,
        system_generated=user.system_generated,
        created_ts=user.created_ts,
    )


def _token_row(token: AuthToken) -> TokenRow:
    return TokenRow(
        id=token.id,
        user_id=token.user_id,
        kind=token.kind,
        label=token.label,
        token_hash=token.token_hash,
        jwt_key=token.jwt_key,
        created_ts=token.created_ts,
        last_used_ts=token.last_used_ts,
        expires_ts=token.expires_ts,
    )


def insert_user(session: Session, row: UserRow) -> None:
    """Store a new user; raise :class:`NameTaken` when the name is in use."""
    if session.scalar(select(AuthUser.id).where(AuthUser.name == row.name)) is not None:
        raise NameTaken(row.name)
    session.add(
        AuthUser(
            id=row.id,
            name=row.name,
            role=row.role,
            area_ids=orjson.dumps(list(row.area_ids)).decode(),
            person_id=row.person_id,
            password_hash=row.password_hash,
            is_active=row.is_active,
            system_generated=row.system_generated,
            created_ts=row.created_ts,
        )
    )
    try:
        session.flush()
    except IntegrityError as err:  # another process took the name meanwhile
        raise NameTaken(row.name) from err


def get_user(session: Session, user_id: str) -> UserRow | None:
    """Return the user ``user_id``, or None."""
    user = session.get(AuthUser, user_id)
    return None if user is None else _user_row(user)


def get_user_by_name(session: Session, name: str) -> UserRow | None:
    """Return the user called ``name``, or None."""
    user = session.scalar(select(AuthUser).where(AuthUser.name == name))
    return None if user is None else _user_row(user)


def list_users(session: Session) -> list[UserRow]:
    """Return every user, oldest first."""
    users = session.scalars(select(AuthUser).order_by(AuthUser.created_ts, AuthUser.name))
    return [_user_row(user) for user in users]


def update_user(session: Session, user_id: str, **fields: object) -> UserRow | None:
    """Change stored fields of a user (``area_ids`` as a tuple); return it, or None."""
    user = session.get(AuthUser, user_id)
    if user is None:
        return None
    for key, value in fields.items():
        stored = orjson.dumps(list(value)).decode() if key == "area_ids" else value  # type: ignore[call-overload]
        setattr(user, key, stored)
    session.flush()
    return _user_row(user)


def delete_user(session: Session, user_id: str) -> bool:
    """Delete a user and its tokens; return whether it existed."""
    session.execute(delete(AuthToken).where(AuthToken.user_id == user_id))
    return _rowcount(session.execute(delete(AuthUser).where(AuthUser.id == user_id))) > 0


def insert_token(session: Session, row: TokenRow) -> None:
    """Store a new token."""
    session.add(
        AuthToken(
            id=row.id,
            user_id=row.user_id,
            kind=row.kind,
            label=row.label,
            token_hash=row.token_hash,
            jwt_key=row.jwt_key,
            created_ts=row.created_ts,
            last_used_ts=row.last_used_ts,
            expires_ts=row.expires_ts,
        )
    )


def get_token(session: Session, token_id: str) -> TokenRow | None:
    """Return the token ``token_id``, or None."""
    token = session.get(AuthToken, token_id)
    return None if token is None else _token_row(token)


def list_tokens(session: Session, user_id: str) -> list[TokenRow]:
    """Return the tokens of ``user_id``, oldest first."""
    tokens = session.scalars(
        select(AuthToken).where(AuthToken.user_id == user_id).order_by(AuthToken.created_ts)
    )
    return [_token_row(token) for token in tokens]


def touch_token(session: Session, token_id: str, used_ts: float, expires_ts: float | None) -> None:
    """Record a use of a token and move its expiry."""
    session.execute(
        update(AuthToken)
        .where(AuthToken.id == token_id)
        .values(last_used_ts=used_ts, expires_ts=expires_ts)
    )


def delete_token(session: Session, token_id: str) -> bool:
    """Delete a token; return whether it existed."""
    return _rowcount(session.execute(delete(AuthToken).where(AuthToken.id == token_id))) > 0


def delete_expired_tokens(session: Session, now: float) -> int:
    """Delete tokens past their expiry; return how many."""
    result = session.execute(
        delete(AuthToken).where(AuthToken.expires_ts.is_not(None), AuthToken.expires_ts <= now)
    )
    return _rowcount(result)
