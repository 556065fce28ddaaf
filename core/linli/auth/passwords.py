"""Password hashing with scrypt from the standard library.

Why scrypt: it is memory-hard like argon2 and ships with Python (``hashlib.scrypt``, OpenSSL),
so the core needs no compiled extra. Cost: N=2**15, r=8, p=1 — 32 MiB and about 0.1 s per
hash on one core, the "interactive login" setting of the scrypt paper and Go's
``x/crypto/scrypt``. The parameters are stored in each hash, so they can be raised later:
:func:`needs_rehash` tells the login to store a fresh hash. Hashing blocks: call it from an
executor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Final

SCHEME: Final = "scrypt"
COST_N: Final = 2**15
BLOCK_SIZE_R: Final = 8
PARALLEL_P: Final = 1
SALT_BYTES: Final = 16
KEY_BYTES: Final = 32
MIN_LENGTH: Final = 8
MAX_LENGTH: Final = 1024
"""Longer input is refused: hashing megabytes on request would be a cheap denial of service."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + 1024**2, dklen=KEY_BYTES
    )


def check_password_policy(password: str) -> None:
    """Raise ValueError when ``password`` is too short or too long."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"the password must have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    """Return ``scrypt$N$r$p$salt$key`` for ``password`` (blocking: about 0.1 s)."""
    salt = os.urandom(SALT_BYTES)
    key = _derive(password, salt, COST_N, BLOCK_SIZE_R, PARALLEL_P)
    return f"{SCHEME}${COST_N}${BLOCK_SIZE_R}${PARALLEL_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Return whether ``password`` matches ``stored`` (constant-time compare; blocking)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = _unb64(key)
        actual = _derive(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """Return whether ``stored`` was made with weaker parameters than today's."""
    try:
        scheme, n, r, p, _salt, _key = stored.split("$")
        return scheme != SCHEME or int(n) < COST_N or int(r) < BLOCK_SIZE_R or int(p) < PARALLEL_P
    except ValueError:
        return True


DUMMY_HASH: Final = (
    f"{SCHEME}${COST_N}${BLOCK_SIZE_R}${PARALLEL_P}${_b64(b'linli-dummy-salt')}${_b64(bytes(32))}"
)
"""Verified against when the user does not exist, so a login takes as long either way."""
