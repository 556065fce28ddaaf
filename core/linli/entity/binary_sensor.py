"""Binary sensors: something is on or off (Home Assistant's ``BinarySensorEntity``)."""

from __future__ import annotations

from typing import ClassVar

from linli.entity.entity import STATE_OFF, STATE_ON, Entity


class BinarySensorEntity(Entity):
    """A binary sensor: ``is_on`` gives ``on``/``off`` (None: ``unknown``)."""

    domain: ClassVar[str] = "binary_sensor"
    _attr_is_on: bool | None = None

    @property
    def is_on(self) -> bool | None:
        """Whether the sensor is on (motion seen, door open…)."""
        return self._attr_is_on

    @property
    def state(self) -> str | None:
        """``on``/``off``."""
        is_on = self.is_on
        if is_on is None:
            return None
        return STATE_ON if is_on else STATE_OFF
