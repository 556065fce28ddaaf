"""The base entity: one thing an integration puts in the state machine (as Home Assistant).

Static description (``unique_id``, ``name``, ``icon``, ``device_class``, ``entity_category``,
``device_info``, ``has_entity_name``) is plain attributes, set on the class or in ``__init__``.
Live values are properties reading ``_attr_<name>`` (``available``, ``native_value``,
``is_on`` …): a subclass either sets ``self._attr_is_on = True`` and calls
:meth:`Entity.async_write_state`, or overrides the property.

The state written is ``"unavailable"`` when :attr:`Entity.available` is False, ``"unknown"``
when :attr:`Entity.state` is None, else the state; attributes are, as in Home Assistant,
``capability_attributes`` (always), then ``state_attributes`` and ``extra_state_attributes``
(only while available), then ``unit_of_measurement``, ``icon``, ``friendly_name``,
``supported_features`` and ``device_class`` when they are set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypedDict

from linli.callback import callback

if TYPE_CHECKING:
    from linli.context import Context
    from linli.hub import Hub
    from linli.registry import EntityEntry

_LOGGER = logging.getLogger(__name__)

STATE_UNAVAILABLE: Final = "unavailable"
STATE_UNKNOWN: Final = "unknown"
STATE_ON: Final = "on"
STATE_OFF: Final = "off"

ATTR_FRIENDLY_NAME: Final = "friendly_name"
ATTR_DEVICE_CLASS: Final = "device_class"
ATTR_UNIT_OF_MEASUREMENT: Final = "unit_of_measurement"
ATTR_ICON: Final = "icon"
ATTR_SUPPORTED_FEATURES: Final = "supported_features"
ATTR_ENTITY_PICTURE: Final = "entity_picture"
ATTR_ASSUMED_STATE: Final = "assumed_state"

CONTEXT_RECENT_SECONDS: Final = 5.0
"""How long the context of a service call that targeted an entity marks its state writes."""


class EntityCategory(StrEnum):
    """Entities that are not the device's main function (Home Assistant's categories)."""

    CONFIG = "config"
    DIAGNOSTIC = "diagnostic"


class DeviceInfo(TypedDict, total=False):
    """The device an entity belongs to; it is found or created in the device registry.

    ``identifiers`` and ``connections`` are ``(kind, value)`` pairs; at least one is needed.
    ``via_device`` is an identifier of the device this one reaches the hub through;
    ``suggested_area`` an area id (or an area's name) for a new device.
    """

    identifiers: set[tuple[str, str]]
    connections: set[tuple[str, str]]
    name: str | None
    manufacturer: str | None
    model: str | None
    sw_version: str | None
    hw_version: str | None
    serial_number: str | None
    via_device: tuple[str, str]
    suggested_area: str | None


class Entity:
    """An entity: subclass it (or a domain class such as :class:`SensorEntity`)."""

    domain: ClassVar[str] = ""
    """The entity_id domain (``sensor``, ``switch``…); set by each domain class."""

    # Static description: plain attributes.
    unique_id: str | None = None
    name: str | None = None
    icon: str | None = None
    device_class: str | None = None
    entity_category: EntityCategory | str | None = None
    device_info: DeviceInfo | None = None
    has_entity_name: bool = False
    """Whether ``name`` names only this entity's part of its device (the friendly name is
    then ``"<device name> <name>"``, or the device's name when ``name`` is None)."""
    entity_registry_enabled_default: bool = True
    """False registers a new entity disabled (``disabled_by="integration"``)."""
    supported_features: int | None = None
    assumed_state: bool = False
    entity_picture: str | None = None
    force_update: bool = False
    should_poll: ClassVar[bool] = False

    # Live values: properties read these.
    _attr_available: bool = True
    _attr_extra_state_attributes: Mapping[str, Any] | None = None

    # Set when the entity is added to a hub.
    hub: Hub | None = None
    entity_id: str | None = None
    platform: str | None = None
    registry_entry: EntityEntry | None = None
    device_name: str | None = None
    """The name of the entity's device (from the registry), for friendly names."""
    _added: bool = False
    _context: Context | None = None
    _context_set_at: float = 0.0

    # ------------------------------------------------------------------ live values
    @property
    def available(self) -> bool:
        """Whether the entity can be reached; False makes the state ``unavailable``."""
        return self._attr_available

    @property
    def state(self) -> str | None:
        """The state (None → ``unknown``); domain classes derive it from their values."""
        return None

    @property
    def capability_attributes(self) -> Mapping[str, Any] | None:
        """Attributes describing what the entity can do, written even while unavailable."""
        return None

    @property
    def state_attributes(self) -> Mapping[str, Any] | None:
        """The domain class's attributes (written while available)."""
        return None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The integration's own attributes (written while available)."""
        return self._attr_extra_state_attributes

    @property
    def unit_of_measurement(self) -> str | None:
        """The state's unit, if any."""
        return None

    @property
    def friendly_name(self) -> str | None:
        """The name shown to people: the user's name, else the entity's (with its device's)."""
        entry = self.registry_entry
        if entry is not None and entry.name:
            return entry.name
        if not self.has_entity_name:
            return self.name
        device = self.device_name
        if device is None:
            return self.name
        return device if self.name is None else f"{device} {self.name}"

    # ------------------------------------------------------------------ lifecycle hooks
    async def async_added_to_hub(self) -> None:
        """Called once the entity is in the hub (its state written): subscribe here."""

    async def async_will_remove_from_hub(self) -> None:
        """Called before the entity leaves the hub: unsubscribe and release here."""

    # ------------------------------------------------------------------ writing
    @callback
    def async_set_context(self, context: Context) -> None:
        """Mark the next state writes (for a few seconds) as caused by ``context``."""
        self._context = context
        self._context_set_at = context_time(self.hub)

    @callback
    def async_write_state(self) -> None:
        """Write the entity's current state and attributes to the state machine."""
        hub = self.hub
        entity_id = self.entity_id
        if not self._added or hub is None or entity_id is None:
            if entity_id is None:
                raise RuntimeError(f"{type(self).__name__} is not added to a hub yet")
            return  # disabled or removed: nothing to write
        capability = self.capability_attributes
        attrs: dict[str, Any] = dict(capability) if capability else {}
        if self.available:
            value = self.state
            state = STATE_UNKNOWN if value is None else value
            if (domain_attrs := self.state_attributes) is not None:
                attrs.update(domain_attrs)
            if (extra := self.extra_state_attributes) is not None:
                attrs.update(extra)
        else:
            state = STATE_UNAVAILABLE
        if (unit := self.unit_of_measurement) is not None:
            attrs[ATTR_UNIT_OF_MEASUREMENT] = unit
        entry = self.registry_entry
        icon = (entry.icon if entry is not None else None) or self.icon
        if icon is not None:
            attrs[ATTR_ICON] = icon
        if self.entity_picture is not None:
            attrs[ATTR_ENTITY_PICTURE] = self.entity_picture
        if (name := self.friendly_name) is not None:
            attrs[ATTR_FRIENDLY_NAME] = name
        if self.supported_features is not None:
            attrs[ATTR_SUPPORTED_FEATURES] = self.supported_features
        if self.device_class is not None:
            attrs[ATTR_DEVICE_CLASS] = str(self.device_class)
        if self.assumed_state:
            attrs[ATTR_ASSUMED_STATE] = True
        if len(state) > 255:
            _LOGGER.warning("State of %s is longer than 255 characters; cut", entity_id)
            state = state[:255]
        context = self._context
        if context is not None and hub.clock.time() - self._context_set_at > CONTEXT_RECENT_SECONDS:
            context = self._context = None
        hub.states.async_set(entity_id, state, attrs, self.force_update, context)

    @property
    def added(self) -> bool:
        """Whether the entity is in the hub now (added, enabled, not removed)."""
        return self._added

    @callback
    def async_schedule_write_state(self) -> None:
        """Write the state if the entity is in a hub; harmless before it is added."""
        if self._added:
            self.async_write_state()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.entity_id or self.unique_id or self.name}>"


def context_time(hub: Hub | None) -> float:
    """The hub clock's time (0 without a hub)."""
    return 0.0 if hub is None else hub.clock.time()


class ToggleEntity(Entity):
    """An entity that is on or off and can be switched (switches, sirens)."""

    _attr_is_on: bool | None = None

    @property
    def is_on(self) -> bool | None:
        """Whether it is on (None: unknown)."""
        return self._attr_is_on

    @property
    def state(self) -> str | None:
        """``on``/``off``."""
        is_on = self.is_on
        if is_on is None:
            return None
        return STATE_ON if is_on else STATE_OFF

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn it on."""
        raise NotImplementedError

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn it off."""
        raise NotImplementedError

    async def async_toggle(self, **kwargs: Any) -> None:
        """Turn it off when on, else on."""
        if self.is_on:
            await self.async_turn_off(**kwargs)
        else:
            await self.async_turn_on(**kwargs)
