"""Credential secrets: QR tokens (random, stored as SHA-256) and PINs (scrypt), no I/O."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

SCRYPT_N: Final = 2**12
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
PIN_DIGITS: Final = (4, 8)


class CredentialError(ValueError):
    """A credential that cannot be issued or used as given."""


def new_qr_token() -> str:
    """A random QR token (URL-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


def qr_lookup(token: str) -> str:
    """What the database keeps of a QR token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_card(card_no: str) -> str:
    """A card number as stored: stripped, upper-case; 4 to 32 letters or digits."""
    value = card_no.strip().upper() if isinstance(card_no, str) else ""
    if not 4 <= len(value) <= 32 or not value.isascii() or not value.isalnum():
        raise CredentialError("a card number is 4 to 32 ASCII letters or digits")
    return value


def check_pin(pin: str) -> str:
    """A PIN as accepted: 4 to 8 ASCII digits."""
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit():
        raise CredentialError("a PIN is 4 to 8 digits")
    if not PIN_DIGITS[0] <= len(pin) <= PIN_DIGITS[1]:
        raise CredentialError("a PIN is 4 to 8 digits")
    return pin


def hash_pin(pin: str) -> str:
    """``scrypt$n$r$p$salt$hash`` of a PIN (blocking: a few milliseconds)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches a hash of :func:`hash_pin` (constant-time compare; blocking)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed.hex(), digest)
