"""Entities: the objects integrations represent things with (Home Assistant's model, small).

An integration subclasses a domain class (:class:`SensorEntity`, :class:`BinarySensorEntity`,
:class:`SwitchEntity`, :class:`LockEntity`, :class:`CoverEntity`, :class:`ButtonEntity`,
:class:`EventEntity`, :class:`DeviceTrackerEntity`, :class:`CameraEntity`,
:class:`SirenEntity`), describes it with plain attributes, keeps its live values in
``_attr_*`` fields (or overrides the properties), and adds it::

    from linli.entity import SensorEntity, async_add_entities

    class MeterPower(SensorEntity):
        device_class = "power"
        native_unit_of_measurement = "W"
        has_entity_name = True

        def __init__(self, meter_id: str) -> None:
            self.unique_id = f"{meter_id}-power"
            self.name = "Power"
            self.device_info = {"identifiers": {("my_meters", meter_id)}, "name": meter_id}

    power = MeterPower("m-1201")
    await async_add_entities(hub, "my_meters", [power])
    power._attr_native_value = 1200
    power.async_write_state()

:func:`async_add_entities` registers devices and entities, writes the states and registers
the domain's services (``switch.turn_on``, ``lock.unlock``, ``cover.set_cover_position``,
``button.press``, ``siren.turn_on``, ``camera.snapshot`` …) the first time a domain appears;
service calls reach the entity objects (``async_turn_on`` …), targeted by ``entity_id``,
``area_id`` (with the areas below it) or ``device_id``. :func:`async_remove_entity` and
:func:`async_remove_platform` take entities out again (call the latter from your unload).
"""

from linli.entity.binary_sensor import BinarySensorEntity
from linli.entity.button import ButtonEntity
from linli.entity.camera import CameraEntity, CameraState
from linli.entity.cover import CoverEntity, CoverEntityFeature, CoverState
from linli.entity.device_tracker import DeviceTrackerEntity
from linli.entity.entity import (
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    DeviceInfo,
    Entity,
    EntityCategory,
    ToggleEntity,
)
from linli.entity.event import EventEntity
from linli.entity.lock import LockEntity, LockEntityFeature, LockState
from linli.entity.platform import (
    async_add_entities,
    async_remove_entity,
    async_remove_platform,
    get_entity,
)
from linli.entity.sensor import SensorEntity, SensorStateClass
from linli.entity.siren import SirenEntity, SirenEntityFeature
from linli.entity.switch import SwitchEntity

__all__ = [
    "STATE_OFF",
    "STATE_ON",
    "STATE_UNAVAILABLE",
    "STATE_UNKNOWN",
    "BinarySensorEntity",
    "ButtonEntity",
    "CameraEntity",
    "CameraState",
    "CoverEntity",
    "CoverEntityFeature",
    "CoverState",
    "DeviceInfo",
    "DeviceTrackerEntity",
    "Entity",
    "EntityCategory",
    "EventEntity",
    "LockEntity",
    "LockEntityFeature",
    "LockState",
    "SensorEntity",
    "SensorStateClass",
    "SirenEntity",
    "SirenEntityFeature",
    "SwitchEntity",
    "ToggleEntity",
    "async_add_entities",
    "async_remove_entity",
    "async_remove_platform",
    "get_entity",
]
