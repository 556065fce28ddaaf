"""Door entities: a lock (unlock opens the door's terminals) and an event entity per door."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from linli.entity import EventEntity, LockEntity, LockEntityFeature
from linli_face_access.const import DOMAIN

if TYPE_CHECKING:
    from linli_face_access.config import Door

EVENT_TYPES = ("granted", "denied", "tailgating", "reverse_passing")


def _device_info(door: Door) -> Any:
    info: dict[str, Any] = {
        "identifiers": {(DOMAIN, door.id)},
        "name": door.name,
        "manufacturer": "Linli",
        "model": "Door",
    }
    if door.area_id:
        info["suggested_area"] = door.area_id
    return info


class DoorLock(LockEntity):
    """A door: ``locked``, ``unlocked`` for a few seconds after a grant or an unlock."""

    has_entity_name = True
    supported_features = int(LockEntityFeature.OPEN)

    def __init__(
        self, door: Door, unlock_seconds: float, opener: Callable[[str], Awaitable[None]]
    ) -> None:
        """Represent ``door``; ``opener(door_id)`` sends the open command to its terminals."""
        self.door = door
        self.unique_id = f"{door.id}/lock"
        self.name = None
        self.device_info = _device_info(door)
        self._unlock_seconds = unlock_seconds
        self._opener = opener
        self._relock: Callable[[], None] | None = None
        self._attr_is_locked = True

    async def async_lock(self, **kwargs: Any) -> None:
        """Show it locked now (the door locks itself)."""
        self._cancel_relock()
        self._attr_is_locked = True
        self._attr_changed_by = "lock"
        self.async_write_state()

    async def async_unlock(self, **kwargs: Any) -> None:
        """Open the door through its terminals."""
        await self._opener(self.door.id)
        self.async_show_unlocked("remote")

    async def async_open(self, **kwargs: Any) -> None:
        """Same as unlock: a door terminal releases the latch for a moment."""
        await self.async_unlock(**kwargs)

    def async_show_unlocked(self, changed_by: str) -> None:
        """Show the door unlocked, locking again after ``unlock_seconds``."""
        if self.hub is None:
            return
        self._cancel_relock()
        self._attr_is_locked = False
        self._attr_changed_by = changed_by
        self.async_write_state()
        self._relock = self.hub.async_call_later(self._unlock_seconds, self._relocked)

    def _relocked(self, _now: datetime) -> None:
        self._relock = None
        self._attr_is_locked = True
        if self.hub is not None and self.added:
            self.async_write_state()

    def _cancel_relock(self) -> None:
        if self._relock is not None:
            self._relock()
            self._relock = None

    async def async_will_remove_from_hub(self) -> None:
        """Drop the relock timer."""
        self._cancel_relock()


class DoorEvents(EventEntity):
    """Passages and anomalies at a door (no personal data in the state)."""

    has_entity_name = True
    event_types = EVENT_TYPES

    def __init__(self, door: Door) -> None:
        """Represent ``door``'s events."""
        self.door = door
        self.unique_id = f"{door.id}/events"
        self.name = "Passages"
        self.device_info = _device_info(door)

    def async_record(self, event_type: str, attributes: dict[str, Any]) -> None:
        """Record one event and write the state."""
        if self.hub is None or not self.added:
            return
        self._trigger_event(event_type, attributes)
        self.async_write_state()
