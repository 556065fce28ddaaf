"""The auth tables: users (with their password hash) and their tokens (hashed).

Timestamps are UTC epoch seconds in ``*_ts`` float columns, as every Linli table. Keep
``linli/db/migrations/versions/0002_auth.py`` in step with these models.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Boolean, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linli.db.base import Base

ID_LENGTH: Final = 32
NAME_LENGTH: Final = 64
ROLE_LENGTH: Final = 16
PERSON_ID_LENGTH: Final = 64
PASSWORD_HASH_LENGTH: Final = 255
TOKEN_KIND_LENGTH: Final = 16
TOKEN_LABEL_LENGTH: Final = 100
TOKEN_HASH_LENGTH: Final = 64
JWT_KEY_LENGTH: Final = 64


class AuthUser(Base):
    """One login: its role, its areas, the person it belongs to, its password hash."""

    __tablename__ = "auth_users"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    role: Mapped[str] = mapped_column(String(ROLE_LENGTH))
    area_ids: Mapped[str] = mapped_column(Text)
    """A JSON list of area ids (the roots of the user's scope)."""
    person_id: Mapped[str | None] = mapped_column(String(PERSON_ID_LENGTH))
    password_hash: Mapped[str | None] = mapped_column(String(PASSWORD_HASH_LENGTH))
    """``scrypt$N$r$p$salt$key``; None for a login without a password (tokens only)."""
    is_active: Mapped[bool] = mapped_column(Boolean)
    system_generated: Mapped[bool] = mapped_column(Boolean)
    created_ts: Mapped[float] = mapped_column(Float)


class AuthToken(Base):
    """A refresh token (from a login) or a long-lived access token; only its hash is kept."""

    __tablename__ = "auth_tokens"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("auth_users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(TOKEN_KIND_LENGTH))
    """``refresh`` or ``long_lived``."""
    label: Mapped[str | None] = mapped_column(String(TOKEN_LABEL_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH))
    """Hex SHA-256 of the token's secret part."""
    jwt_key: Mapped[str | None] = mapped_column(String(JWT_KEY_LENGTH))
    """Signs the access tokens of a refresh token; None for long-lived tokens."""
    created_ts: Mapped[float] = mapped_column(Float)
    last_used_ts: Mapped[float | None] = mapped_column(Float)
    expires_ts: Mapped[float | None] = mapped_column(Float)
    """When it stops working; None for never (long-lived tokens, until revoked)."""
