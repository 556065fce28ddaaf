"""Sensors: a read-only value with an optional unit (Home Assistant's ``SensorEntity``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from linli.entity.entity import Entity

SensorValue = str | int | float | date | datetime | Decimal | None


class SensorStateClass(StrEnum):
    """How a sensor's values relate over time (for long-term statistics)."""

    MEASUREMENT = "measurement"
    TOTAL = "total"
    TOTAL_INCREASING = "total_increasing"


class SensorEntity(Entity):
    """A sensor: ``native_value`` in ``native_unit_of_measurement``.

    A ``datetime``/``date`` value is written in ISO 8601; ``state_class`` and, for the
    ``enum`` device class, ``options`` are capability attributes; ``last_reset`` (of a
    ``total`` sensor) an attribute in ISO 8601.
    """

    domain: ClassVar[str] = "sensor"
    native_unit_of_measurement: str | None = None
    state_class: SensorStateClass | str | None = None
    options: list[str] | None = None
    last_reset: datetime | None = None
    _attr_native_value: SensorValue = None

    @property
    def native_value(self) -> SensorValue:
        """The value the device reports."""
        return self._attr_native_value

    @property
    def state(self) -> str | None:
        """The value as text."""
        value = self.native_value
        if value is None:
            return None
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, bool):
            return "on" if value else "off"
        return str(value)

    @property
    def unit_of_measurement(self) -> str | None:
        """The native unit (Linli converts no units)."""
        return self.native_unit_of_measurement

    @property
    def capability_attributes(self) -> Mapping[str, Any] | None:
        """``state_class`` and ``options`` when set."""
        attrs: dict[str, Any] = {}
        if self.state_class is not None:
            attrs["state_class"] = str(self.state_class)
        if self.options is not None:
            attrs["options"] = list(self.options)
        return attrs or None

    @property
    def state_attributes(self) -> Mapping[str, Any] | None:
        """``last_reset`` when set."""
        if self.last_reset is None:
            return None
        return {"last_reset": self.last_reset.isoformat()}
