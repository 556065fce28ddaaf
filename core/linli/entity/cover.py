"""Covers: barriers, garage doors, blinds (Home Assistant's ``CoverEntity``).

Services ``cover.open_cover``, ``cover.close_cover``, ``cover.stop_cover``, ``cover.toggle``
and ``cover.set_cover_position`` (``position`` 0–100) call the entity's methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntFlag, StrEnum
from typing import Any, ClassVar

from linli.entity.entity import Entity


class CoverState(StrEnum):
    """A cover's states."""

    OPEN = "open"
    OPENING = "opening"
    CLOSED = "closed"
    CLOSING = "closing"


class CoverEntityFeature(IntFlag):
    """What a cover supports."""

    OPEN = 1
    CLOSE = 2
    SET_POSITION = 4
    STOP = 8


class CoverEntity(Entity):
    """A cover: ``is_closed``, ``is_opening``, ``is_closing``, ``current_cover_position``
    (0 closed … 100 open); the state is opening, closing, then closed/open."""

    domain: ClassVar[str] = "cover"
    _attr_is_closed: bool | None = None
    _attr_is_opening: bool | None = None
    _attr_is_closing: bool | None = None
    _attr_current_cover_position: int | None = None

    @property
    def is_closed(self) -> bool | None:
        """Whether it is closed (None: unknown)."""
        return self._attr_is_closed

    @property
    def is_opening(self) -> bool | None:
        """Whether it is opening."""
        return self._attr_is_opening

    @property
    def is_closing(self) -> bool | None:
        """Whether it is closing."""
        return self._attr_is_closing

    @property
    def current_cover_position(self) -> int | None:
        """How far it is open, 0–100."""
        return self._attr_current_cover_position

    @property
    def state(self) -> str | None:
        """opening, closing, then closed/open."""
        if self.is_opening:
            return CoverState.OPENING
        if self.is_closing:
            return CoverState.CLOSING
        closed = self.is_closed
        if closed is None:
            return None
        return CoverState.CLOSED if closed else CoverState.OPEN

    @property
    def state_attributes(self) -> Mapping[str, Any] | None:
        """``current_position`` when known."""
        position = self.current_cover_position
        return None if position is None else {"current_position": position}

    async def async_open_cover(self, **kwargs: Any) -> None:
        """Open it."""
        raise NotImplementedError

    async def async_close_cover(self, **kwargs: Any) -> None:
        """Close it."""
        raise NotImplementedError

    async def async_stop_cover(self, **kwargs: Any) -> None:
        """Stop it moving."""
        raise NotImplementedError

    async def async_set_cover_position(self, **kwargs: Any) -> None:
        """Move it to ``position`` (0–100)."""
        raise NotImplementedError

    async def async_toggle(self, **kwargs: Any) -> None:
        """Stop it while it moves (when it can stop), else open it when closed, else close it."""
        features = self.supported_features or 0
        moving = self.is_opening or self.is_closing
        if moving and features & CoverEntityFeature.STOP:
            await self.async_stop_cover(**kwargs)
        elif self.is_closed:
            await self.async_open_cover(**kwargs)
        else:
            await self.async_close_cover(**kwargs)
