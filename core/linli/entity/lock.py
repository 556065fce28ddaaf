"""Locks: doors and gates the hub locks, unlocks and opens (Home Assistant's ``LockEntity``).

Services ``lock.lock``, ``lock.unlock`` and ``lock.open`` (each with an optional ``code``)
call ``async_lock``/``async_unlock``/``async_open``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntFlag, StrEnum
from typing import Any, ClassVar

from linli.entity.entity import Entity


class LockState(StrEnum):
    """A lock's states."""

    LOCKED = "locked"
    UNLOCKED = "unlocked"
    LOCKING = "locking"
    UNLOCKING = "unlocking"
    JAMMED = "jammed"
    OPEN = "open"
    OPENING = "opening"


class LockEntityFeature(IntFlag):
    """What a lock supports besides lock and unlock."""

    OPEN = 1


class LockEntity(Entity):
    """A lock: ``is_locked``, ``is_locking``, ``is_unlocking``, ``is_jammed``, ``is_open``,
    ``is_opening``; the first that is true, in Home Assistant's order, gives the state."""

    domain: ClassVar[str] = "lock"
    code_format: str | None = None
    """A regular expression a code must match, if the lock takes one."""
    _attr_is_locked: bool | None = None
    _attr_is_locking: bool | None = None
    _attr_is_unlocking: bool | None = None
    _attr_is_jammed: bool | None = None
    _attr_is_open: bool | None = None
    _attr_is_opening: bool | None = None
    _attr_changed_by: str | None = None

    @property
    def is_locked(self) -> bool | None:
        """Whether it is locked (None: unknown)."""
        return self._attr_is_locked

    @property
    def is_locking(self) -> bool | None:
        """Whether it is locking."""
        return self._attr_is_locking

    @property
    def is_unlocking(self) -> bool | None:
        """Whether it is unlocking."""
        return self._attr_is_unlocking

    @property
    def is_jammed(self) -> bool | None:
        """Whether it is jammed."""
        return self._attr_is_jammed

    @property
    def is_open(self) -> bool | None:
        """Whether it is open (latch released, door ajar)."""
        return self._attr_is_open

    @property
    def is_opening(self) -> bool | None:
        """Whether it is opening."""
        return self._attr_is_opening

    @property
    def changed_by(self) -> str | None:
        """Who or what last changed it (a card, a code, a resident)."""
        return self._attr_changed_by

    @property
    def state(self) -> str | None:
        """jammed, opening, locking, open, unlocking, then locked/unlocked."""
        if self.is_jammed:
            return LockState.JAMMED
        if self.is_opening:
            return LockState.OPENING
        if self.is_locking:
            return LockState.LOCKING
        if self.is_open:
            return LockState.OPEN
        if self.is_unlocking:
            return LockState.UNLOCKING
        locked = self.is_locked
        if locked is None:
            return None
        return LockState.LOCKED if locked else LockState.UNLOCKED

    @property
    def state_attributes(self) -> Mapping[str, Any] | None:
        """``code_format`` and ``changed_by`` when set."""
        attrs = {
            key: value
            for key, value in (("code_format", self.code_format), ("changed_by", self.changed_by))
            if value is not None
        }
        return attrs or None

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock (``code`` may be given)."""
        raise NotImplementedError

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock (``code`` may be given)."""
        raise NotImplementedError

    async def async_open(self, **kwargs: Any) -> None:
        """Open the door (``code`` may be given); needs ``LockEntityFeature.OPEN``."""
        raise NotImplementedError
