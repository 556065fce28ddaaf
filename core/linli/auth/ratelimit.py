"""Login rate limiting: lock a user name or a client address out after repeated failures.

Kept in memory (one process answers logins); a restart forgets the counters, while the audit
log keeps every failed login and lock-out. Failures count within a sliding window of the
lock-out length; reaching the threshold locks that key until the window has passed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final

MAX_KEYS: Final = 100_000
"""Keys kept at most; the oldest are dropped first (an attacker cannot fill memory)."""


@dataclass(slots=True)
class _Record:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginLimiter:
    """Count failed logins per key and say when a key is locked out."""

    def __init__(self, threshold: int, lockout_seconds: float) -> None:
        """Lock a key for ``lockout_seconds`` after ``threshold`` failures within as long."""
        self.threshold = threshold
        self.lockout_seconds = lockout_seconds
        self._records: dict[str, _Record] = {}

    def retry_after(self, key: str, now: float) -> float:
        """Return the seconds ``key`` stays locked out (0 when it may try)."""
        record = self._records.get(key)
        if record is None or record.locked_until <= now:
            return 0.0
        return record.locked_until - now

    def record_failure(self, key: str, now: float) -> bool:
        """Count a failure for ``key``; return True when this failure locks it out."""
        record = self._records.pop(key, None) or _Record()
        self._records[key] = record  # re-inserted: most recently used last
        window_start = now - self.lockout_seconds
        while record.failures and record.failures[0] <= window_start:
            record.failures.popleft()
        record.failures.append(now)
        if len(self._records) > MAX_KEYS:
            del self._records[next(iter(self._records))]
        if len(record.failures) >= self.threshold and record.locked_until <= now:
            record.locked_until = now + self.lockout_seconds
            record.failures.clear()
            return True
        return False

    def reset(self, key: str) -> None:
        """Forget the failures of ``key`` (after a successful login)."""
        self._records.pop(key, None)
