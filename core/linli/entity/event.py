"""Events: something that happened at a device (a doorbell ring, a card swipe), as an entity.

Home Assistant's ``EventEntity``: the state is the ISO 8601 time of the last event
(``unknown`` before the first), with the attribute ``event_type`` and the event's own
attributes; ``event_types`` (the types it can fire) is a capability attribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from linli.entity.entity import Entity


class EventEntity(Entity):
    """An event entity: set ``event_types``, then ``_trigger_event`` and write the state."""

    domain: ClassVar[str] = "event"
    event_types: Sequence[str] = ()
    _last_event_at: datetime | None = None
    _last_event_type: str | None = None
    _last_event_attributes: Mapping[str, Any] | None = None

    def _trigger_event(self, event_type: str, attributes: Mapping[str, Any] | None = None) -> None:
        """Record an event (call :meth:`async_write_state` after, as in Home Assistant).

        Raises ValueError for a type not in ``event_types``.
        """
        if event_type not in self.event_types:
            raise ValueError(
                f"Invalid event type {event_type} for {self.entity_id}: "
                f"expected one of {', '.join(self.event_types)}"
            )
        self._last_event_at = self.hub.clock.utcnow() if self.hub is not None else datetime.now(UTC)
        self._last_event_type = event_type
        self._last_event_attributes = dict(attributes) if attributes else None

    @property
    def state(self) -> str | None:
        """When the last event happened."""
        return None if self._last_event_at is None else self._last_event_at.isoformat()

    @property
    def capability_attributes(self) -> Mapping[str, Any] | None:
        """``event_types``."""
        return {"event_types": list(self.event_types)}

    @property
    def state_attributes(self) -> Mapping[str, Any] | None:
        """``event_type`` and the last event's attributes."""
        return {"event_type": self._last_event_type, **(self._last_event_attributes or {})}
