"""Discovered read-only entities: sensor, binary_sensor, event, device_tracker and camera."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from linli.callback import callback
from linli.entity import (
    BinarySensorEntity,
    CameraEntity,
    DeviceTrackerEntity,
    EventEntity,
    SensorEntity,
)
from linli.util.json import json_loads
from linli_mqtt.discovery.base import PAYLOAD_NONE, MqttEntity, Subscription
from linli_mqtt.discovery.transport import ReceiveMessage

_LOGGER = logging.getLogger(__name__)


class _Expiring(MqttEntity):
    """``expire_after``: unavailable until a state arrives and once none came for that long."""

    _expired = False
    _cancel_expiry: Callable[[], None] | None = None

    def setup_expiry(self, config: dict[str, Any]) -> None:
        """Start expired when ``expire_after`` is set (as Home Assistant does)."""
        self._expired = bool(config.get("expire_after"))

    @property
    def available(self) -> bool:
        """Not available once the state expired."""
        return super().available and not self._expired

    @callback
    def state_seen(self) -> None:
        """A state arrived: available again, and the expiry timer restarts."""
        expire_after = self.config.get("expire_after")
        if not expire_after:
            return
        self._expired = False
        if self._cancel_expiry is not None:
            self._cancel_expiry()
        self._cancel_expiry = self._hub.async_call_later(expire_after, self._expire)

    @callback
    def _expire(self, _now: datetime) -> None:
        self._cancel_expiry = None
        self._expired = True
        self.async_schedule_write_state()

    def subscriptions(self) -> list[Subscription]:
        """The state topic, handled by the subclass's ``_state_received``."""
        return [(self.config["state_topic"], self._state_received, self.config["encoding"])]

    def _state_received(self, msg: ReceiveMessage) -> None:
        raise NotImplementedError

    def state_text(self, msg: ReceiveMessage) -> str | None:
        """The message's state after ``value_template``; None (ignored) when empty."""
        value = self.render_value(self.config.get("value_template"), msg)
        if value == "":
            _LOGGER.debug("Ignoring an empty state for %s from %s", self.entity_id, msg.topic)
            return None
        return value

    async def async_will_remove_from_hub(self) -> None:
        """Stop the expiry timer too."""
        if self._cancel_expiry is not None:
            self._cancel_expiry()
            self._cancel_expiry = None
        await super().async_will_remove_from_hub()


class MqttSensor(_Expiring, SensorEntity):
    """A sensor whose value arrives on ``state_topic``."""

    component: ClassVar[str] = "sensor"

    def setup_from_config(self, config: dict[str, Any]) -> None:
        """Unit, state class, options, force_update and expiry."""
        self.native_unit_of_measurement = config.get("unit_of_measurement")
        self.state_class = config.get("state_class")
        self.options = config.get("options")
        self.force_update = config["force_update"]
        self.setup_expiry(config)

    @callback
    def _state_received(self, msg: ReceiveMessage) -> None:
        value = self.state_text(msg)
        if value is None:
            return
        self._attr_native_value = None if value == PAYLOAD_NONE else value
        self.state_seen()
        self.async_schedule_write_state()


class MqttBinarySensor(_Expiring, BinarySensorEntity):
    """A binary sensor: ``payload_on``/``payload_off`` on ``state_topic``, ``off_delay``."""

    component: ClassVar[str] = "binary_sensor"
    _cancel_off: Callable[[], None] | None = None

    def setup_from_config(self, config: dict[str, Any]) -> None:
        """Force update and expiry."""
        self.force_update = config["force_update"]
        self.setup_expiry(config)

    @callback
    def _state_received(self, msg: ReceiveMessage) -> None:
        value = self.state_text(msg)
        if value is None:
            return
        if value == self.config["payload_on"]:
            is_on: bool | None = True
        elif value == self.config["payload_off"]:
            is_on = False
        elif value == PAYLOAD_NONE:
            is_on = None
        else:
            _LOGGER.warning(
                "%s got %r from %s: neither payload_on (%r) nor payload_off (%r)",
                self.entity_id,
                value[:100],
                msg.topic,
                self.config["payload_on"],
                self.config["payload_off"],
            )
            return
        self._attr_is_on = is_on
        self.state_seen()
        self._cancel_off_delay()
        if is_on and (off_delay := self.config.get("off_delay")):
            self._cancel_off = self._hub.async_call_later(off_delay, self._turn_off)
        self.async_schedule_write_state()

    def _cancel_off_delay(self) -> None:
        if self._cancel_off is not None:
            self._cancel_off()
            self._cancel_off = None

    @callback
    def _turn_off(self, _now: datetime) -> None:
        self._cancel_off = None
        self._attr_is_on = False
        self.async_schedule_write_state()

    async def async_will_remove_from_hub(self) -> None:
        """Stop the off-delay timer too."""
        self._cancel_off_delay()
        await super().async_will_remove_from_hub()


class MqttEvent(MqttEntity, EventEntity):
    """An event entity: ``{"event_type": …, …attributes}`` on ``state_topic``."""

    component: ClassVar[str] = "event"

    def setup_from_config(self, config: dict[str, Any]) -> None:
        """The event types."""
        self.event_types = list(config["event_types"])

    def subscriptions(self) -> list[Subscription]:
        """The state topic."""
        return [(self.config["state_topic"], self._event_received, self.config["encoding"])]

    @callback
    def _event_received(self, msg: ReceiveMessage) -> None:
        value = self.render_value(self.config.get("value_template"), msg)
        if not value or value == PAYLOAD_NONE:
            return
        try:
            event = json_loads(value)
        except ValueError:
            event = None
        if not isinstance(event, dict) or not isinstance(event.get("event_type"), str):
            _LOGGER.warning(
                "%s got %r from %s: expected a JSON object with an 'event_type'",
                self.entity_id,
                value[:100],
                msg.topic,
            )
            return
        event_type = event.pop("event_type")
        if event_type not in self.event_types:
            _LOGGER.warning(
                "%s got the event type %r, not one of %s",
                self.entity_id,
                event_type,
                self.event_types,
            )
            return
        self._trigger_event(event_type, event)
        self.async_schedule_write_state()


class MqttDeviceTracker(MqttEntity, DeviceTrackerEntity):
    """A device tracker: a location name on ``state_topic``, GPS in its JSON attributes."""

    component: ClassVar[str] = "device_tracker"

    def setup_from_config(self, config: dict[str, Any]) -> None:
        """The source type; the previous location is forgotten."""
        self.source_type = config["source_type"]
        self._attr_location_name = None
        self._attr_latitude = None
        self._attr_longitude = None
        self._attr_gps_accuracy = 0.0

    def subscriptions(self) -> list[Subscription]:
        """The state topic, when there is one."""
        topic = self.config.get("state_topic")
        return [] if topic is None else [(topic, self._state_received, self.config["encoding"])]

    @callback
    def _state_received(self, msg: ReceiveMessage) -> None:
        value = self.render_value(self.config.get("value_template"), msg)
        if value is None or value == "":
            return
        if value == self.config["payload_home"]:
            location: str | None = "home"
        elif value == self.config["payload_not_home"]:
            location = "not_home"
        elif value == self.config["payload_reset"]:
            location = None
        else:
            location = value
        self._attr_location_name = location
        self.async_schedule_write_state()

    def take_attributes(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """``latitude``, ``longitude`` and ``gps_accuracy`` become the location."""
        latitude = attributes.pop("latitude", None)
        longitude = attributes.pop("longitude", None)
        accuracy = attributes.pop("gps_accuracy", None)
        if isinstance(latitude, int | float) and isinstance(longitude, int | float):
            self._attr_latitude = float(latitude)
            self._attr_longitude = float(longitude)
            self._attr_gps_accuracy = float(accuracy) if isinstance(accuracy, int | float) else 0.0
            # A GPS fix replaces a location name, as in Home Assistant.
            self._attr_location_name = None
        return attributes


class MqttCamera(MqttEntity, CameraEntity):
    """A camera whose still image arrives on ``topic`` (raw bytes, or base64 text)."""

    component: ClassVar[str] = "camera"
    _image: bytes | None = None

    def subscriptions(self) -> list[Subscription]:
        """The image topic, received as bytes (or text when base64)."""
        encoding = self.config["encoding"] if self.config.get("image_encoding") == "b64" else None
        return [(self.config["topic"], self._image_received, encoding)]

    @callback
    def _image_received(self, msg: ReceiveMessage) -> None:
        payload = msg.payload
        if self.config.get("image_encoding") == "b64":
            try:
                image = base64.b64decode(payload, validate=False)
            except (binascii.Error, ValueError):
                _LOGGER.warning(
                    "%s got an image that is not base64 on %s", self.entity_id, msg.topic
                )
                return
        else:
            image = payload if isinstance(payload, bytes) else payload.encode()
        self._image = image

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """The last image received."""
        return self._image
