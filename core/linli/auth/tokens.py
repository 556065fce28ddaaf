"""Token formats: opaque refresh and long-lived tokens stored hashed, and short-lived JWTs.

An opaque token is ``<prefix>_<id>_<secret>``: the id (32 hex) finds the stored row, the
secret (256 random bits) is checked against its stored SHA-256 with a constant-time compare.
The database never holds a usable token. Access tokens for the web UI are JWTs (HS256) that
name their refresh token as issuer and are signed with that token's own key, as in Home
Assistant: revoking the refresh token invalidates its access tokens at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import jwt

ID_HEX: Final = 32
JWT_ALGORITHM: Final = "HS256"


class TokenKind(StrEnum):
    """What a stored token is for."""

    refresh = "refresh"
    """Made by a login: exchanged for access tokens (web UI)."""
    long_lived = "long_lived"
    """Made by an admin or the CLI: used directly as a Bearer token (scripts, HA clients)."""


PREFIXES: Final = {TokenKind.refresh: "lnr", TokenKind.long_lived: "lnt"}


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just made: the string to hand out once, and what to store."""

    id: str
    token: str
    token_hash: str


def hash_secret(secret: str) -> str:
    """Return the hex SHA-256 of a token's secret (the secret has 256 bits: no KDF needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(kind: TokenKind) -> NewToken:
    """Return a new random token of ``kind``."""
    token_id = secrets.token_hex(ID_HEX // 2)
    secret = secrets.token_urlsafe(32)
    return NewToken(token_id, f"{PREFIXES[kind]}_{token_id}_{secret}", hash_secret(secret))


def parse_token(token: str, kind: TokenKind) -> tuple[str, str] | None:
    """Return ``(id, secret)`` of an opaque token of ``kind``, or None when it is not one."""
    prefix = PREFIXES[kind]
    if len(token) > 200 or not token.startswith(prefix + "_"):
        return None
    rest = token[len(prefix) + 1 :]
    token_id, sep, secret = rest[:ID_HEX], rest[ID_HEX : ID_HEX + 1], rest[ID_HEX + 1 :]
    if sep != "_" or not secret or len(token_id) != ID_HEX:
        return None
    try:
        int(token_id, 16)
    except ValueError:
        return None
    return token_id.lower(), secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Return whether ``secret`` hashes to ``stored_hash`` (constant-time compare)."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def new_jwt_key() -> str:
    """Return a fresh signing key for a refresh token's access tokens."""
    return secrets.token_hex(32)


def looks_like_jwt(token: str) -> bool:
    """Return whether ``token`` has the three dot-separated parts of a JWT."""
    return token.count(".") == 2


def encode_access_token(refresh_id: str, key: str, now: float, lifetime: float) -> str:
    """Return a JWT issued by ``refresh_id``, valid from ``now`` for ``lifetime`` seconds."""
    payload = {"iss": refresh_id, "iat": int(now), "exp": int(now + lifetime)}
    return jwt.encode(payload, key, algorithm=JWT_ALGORITHM)


def unverified_issuer(token: str) -> str | None:
    """Return the ``iss`` claim of a JWT without checking it (to find its signing key)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


def decode_access_token(token: str, key: str, now: float) -> dict[str, Any] | None:
    """Return the claims of a JWT signed with ``key`` and unexpired at ``now``, else None.

    Expiry is checked against ``now`` (the hub's clock) rather than the system time, so it
    follows the fake clock in tests.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[JWT_ALGORITHM],
            options={
                "require": ["iss", "exp"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= now:
        return None
    return claims
