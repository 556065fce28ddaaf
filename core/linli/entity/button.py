"""Buttons: a one-shot action such as "open the gate once" (Home Assistant's ``ButtonEntity``).

The state is the ISO 8601 time of the last press (``unknown`` before the first); the
``button.press`` service records it and awaits :meth:`ButtonEntity.async_press`.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from linli.entity.entity import Entity


class ButtonEntity(Entity):
    """A button: implement ``async_press``."""

    domain: ClassVar[str] = "button"
    _last_pressed: datetime | None = None

    @property
    def state(self) -> str | None:
        """When it was last pressed."""
        return None if self._last_pressed is None else self._last_pressed.isoformat()

    async def _async_press_action(self) -> None:
        """Record the press, write it, then press (what the service calls)."""
        assert self.hub is not None
        self._last_pressed = self.hub.clock.utcnow()
        self.async_write_state()
        await self.async_press()

    async def async_press(self) -> None:
        """Do what the button does."""
        raise NotImplementedError
