"""Identifiers: sortable, unique ULID-style ids without a dependency."""

from __future__ import annotations

import os
import random
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [high + low for high in _CROCKFORD for low in _CROCKFORD]

# A private generator: ids must be unique, not secret, and os.urandom per id costs more than
# the rest of the id. Reseeded in a forked child so two processes never share a sequence.
_RNG = random.Random(os.urandom(16))
os.register_at_fork(after_in_child=lambda: _RNG.seed(os.urandom(16)))


def ulid(timestamp: float | None = None) -> str:
    """Return a 26-character ULID: 48 bits of milliseconds then 80 random bits.

    Lexicographic order follows creation time, which keeps database indexes compact.
    Not for secrets (tokens use :func:`random_hex`).
    """
    ms = int((time.time() if timestamp is None else timestamp) * 1000)
    value = (ms << 80) | _RNG.getrandbits(80)
    chunks = []
    for _ in range(12):
        value, rem = divmod(value, 1024)
        chunks.append(_PAIRS[rem])
    value, rem = divmod(value, 32)
    chunks.append(_CROCKFORD[rem])
    chunks.append(_CROCKFORD[value & 31])
    return "".join(reversed(chunks))


def random_hex(nbytes: int = 16) -> str:
    """Return ``nbytes`` random bytes from the OS as lower-case hex (ids, tokens)."""
    return os.urandom(nbytes).hex()
