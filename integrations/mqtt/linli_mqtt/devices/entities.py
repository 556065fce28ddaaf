"""Entities fed by the device topics: one per payload field, described declaratively."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from linli.entity import BinarySensorEntity, DeviceInfo, Entity, EventEntity, SensorEntity
from linli_mqtt.devices.model import (
    CHANNEL_EVENT,
    CHANNEL_STATE,
    DeviceContext,
    DeviceMessage,
    EntityFactory,
)

_MISSING: Final = object()
_ENVELOPE: Final = frozenset({"v", "ts", "id", "area_id", "device"})


@dataclass(frozen=True, slots=True)
class SensorField:
    """A sensor showing one payload field (``key``) of a channel's messages.

    ``attributes`` names further payload fields copied into the state's attributes.
    """

    key: str
    name: str
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    icon: str | None = None
    options: tuple[str, ...] | None = None
    attributes: tuple[str, ...] = ()
    channel: str = CHANNEL_STATE


@dataclass(frozen=True, slots=True)
class BinarySensorField:
    """A binary sensor on while a boolean payload field (``key``) is true."""

    key: str
    name: str
    device_class: str | None = None
    icon: str | None = None
    channel: str = CHANNEL_STATE


@dataclass(frozen=True, slots=True)
class EventField:
    """An event entity firing the type named by a field (``key``) of the ``event`` channel.

    The payload's other fields (without the envelope) become the event's attributes.
    """

    key: str
    name: str
    event_types: tuple[str, ...]
    device_class: str | None = None
    icon: str | None = None


class _DeviceEntity(Entity):
    """Shared by the device topics' entities: device, availability, naming."""

    has_entity_name = True

    def __init__(self, device: DeviceContext, key: str, name: str | None) -> None:
        self._device = device
        self.unique_id = f"{device.unique_prefix}/{key}"
        self.name = name
        self.device_info = cast(DeviceInfo, device.device_info)

    @property
    def available(self) -> bool:
        """The device's availability (its ``availability`` topic)."""
        return self._device.available


class DeviceFieldSensor(_DeviceEntity, SensorEntity):
    """A sensor fed by one field of a device's messages."""

    def __init__(self, device: DeviceContext, field: SensorField) -> None:
        """Describe the sensor for ``field`` of ``device``."""
        super().__init__(device, field.key, field.name)
        self._field = field
        self._key = field.key
        self._channel = field.channel
        self.native_unit_of_measurement = field.unit
        self.device_class = field.device_class
        self.state_class = field.state_class
        self.icon = field.icon
        self.options = list(field.options) if field.options is not None else None

    def handle_device_message(self, message: DeviceMessage) -> bool:
        """Take the field's new value; True when the state should be written."""
        if message.channel != self._channel:
            return False
        payload = message.payload
        value = payload.get(self._key, _MISSING)
        changed = False
        if value is not _MISSING and value != self._attr_native_value:
            self._attr_native_value = value
            changed = True
        if self._field.attributes:
            extra = {key: payload[key] for key in self._field.attributes if key in payload}
            if extra and extra != self._attr_extra_state_attributes:
                self._attr_extra_state_attributes = {
                    **(self._attr_extra_state_attributes or {}),
                    **extra,
                }
                changed = True
        return changed


class DeviceFieldBinarySensor(_DeviceEntity, BinarySensorEntity):
    """A binary sensor fed by one boolean field of a device's messages."""

    def __init__(self, device: DeviceContext, field: BinarySensorField) -> None:
        """Describe the binary sensor for ``field`` of ``device``."""
        super().__init__(device, field.key, field.name)
        self._key = field.key
        self._channel = field.channel
        self.device_class = field.device_class
        self.icon = field.icon

    def handle_device_message(self, message: DeviceMessage) -> bool:
        """Take the field's new value; True when the state should be written."""
        if message.channel != self._channel:
            return False
        value = message.payload.get(self._key)
        if not isinstance(value, bool) or value is self._attr_is_on:
            return False
        self._attr_is_on = value
        return True


class DeviceFieldEvent(_DeviceEntity, EventEntity):
    """An event entity fed by the ``event`` messages of a device."""

    def __init__(self, device: DeviceContext, field: EventField) -> None:
        """Describe the event entity for ``field`` of ``device``."""
        super().__init__(device, field.key, field.name)
        self._key = field.key
        self.event_types = field.event_types
        self.device_class = field.device_class
        self.icon = field.icon

    def handle_device_message(self, message: DeviceMessage) -> bool:
        """Record the event; True (always a new state: the time of the event)."""
        if message.channel != CHANNEL_EVENT:
            return False
        payload = message.payload
        event_type = payload.get(self._key)
        if not isinstance(event_type, str) or event_type not in self.event_types:
            return False
        attributes = {
            key: value
            for key, value in payload.items()
            if key not in _ENVELOPE and key != self._key
        }
        self._trigger_event(event_type, attributes)
        return True


class DeviceValueSensor(_DeviceEntity, SensorEntity):
    """The generic ``sensor`` kind: value, unit, device class and state class from the payload."""

    def __init__(self, device: DeviceContext) -> None:
        """Describe the generic sensor of ``device``."""
        super().__init__(device, "value", None)

    def handle_device_message(self, message: DeviceMessage) -> bool:
        """Take the new value and its description; True when the state should be written."""
        if message.channel != CHANNEL_STATE:
            return False
        payload: Mapping[str, Any] = message.payload
        value = payload.get("value")
        unit = payload.get("unit", self.native_unit_of_measurement)
        device_class = payload.get("device_class", self.device_class)
        state_class = payload.get("state_class", self.state_class)
        if (
            value == self._attr_native_value
            and type(value) is type(self._attr_native_value)
            and unit == self.native_unit_of_measurement
            and device_class == self.device_class
            and state_class == self.state_class
        ):
            return False
        self._attr_native_value = value
        self.native_unit_of_measurement = unit
        self.device_class = device_class
        self.state_class = state_class
        return True


Field = SensorField | BinarySensorField | EventField


def _entity_for(device: DeviceContext, field: Field) -> Entity:
    if isinstance(field, SensorField):
        return DeviceFieldSensor(device, field)
    if isinstance(field, BinarySensorField):
        return DeviceFieldBinarySensor(device, field)
    return DeviceFieldEvent(device, field)


def field_entities(*fields: Field) -> EntityFactory:
    """An entity factory making one entity per field description."""

    def make(device: DeviceContext) -> Iterable[Entity]:
        return [_entity_for(device, field) for field in fields]

    return make


def value_sensor_entities(device: DeviceContext) -> Iterable[Entity]:
    """The entity factory of the generic ``sensor`` kind: one sensor."""
    return [DeviceValueSensor(device)]
