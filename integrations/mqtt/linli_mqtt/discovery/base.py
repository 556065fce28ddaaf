"""What every discovered entity shares: topics, availability, attributes, templates, commands.

:class:`MqttEntity` is mixed into a domain class of :mod:`linli.entity` (``class
MqttSensor(MqttEntity, SensorEntity)``). It holds the validated config of its discovery
topic, subscribes to its topics when added and unsubscribes when removed, and can take a new
config in place (:meth:`MqttEntity.async_update_config`) without leaving the state machine.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

from linli.callback import callback
from linli.entity import DeviceInfo, Entity
from linli.template import Template, TemplateError, attach
from linli.util.json import json_loads
from linli_mqtt.discovery.availability import Availability, AvailabilityTopic
from linli_mqtt.discovery.transport import (
    MessageCallback,
    ReceiveMessage,
    async_publish,
    async_subscribe,
    is_connected,
)

if TYPE_CHECKING:
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "mqtt"
PAYLOAD_NONE: Final = "None"

# Attributes a device may not set through json_attributes (Home Assistant's list).
BLOCKED_ATTRIBUTES: Final = frozenset(
    {
        "assumed_state",
        "available",
        "device_class",
        "entity_id",
        "entity_picture",
        "event_type",
        "event_types",
        "friendly_name",
        "icon",
        "options",
        "state_class",
        "supported_features",
        "unit_of_measurement",
    }
)


def device_info_from_config(config: Mapping[str, Any] | None) -> DeviceInfo | None:
    """Turn a validated ``device`` block into the entity model's :class:`DeviceInfo`."""
    if not config:
        return None
    info = DeviceInfo(
        identifiers={(DOMAIN, identifier) for identifier in config["identifiers"]},
        connections={(kind, value) for kind, value in config["connections"]},
    )
    for key in ("name", "manufacturer", "model", "sw_version", "hw_version", "serial_number"):
        if config.get(key) is not None:
            info[key] = config[key]
    if config.get("via_device"):
        info["via_device"] = (DOMAIN, config["via_device"])
    if config.get("suggested_area"):
        info["suggested_area"] = config["suggested_area"]
    return info


Subscription = tuple[str, MessageCallback, str | None]
"""``(topic, callback, encoding)``; encoding None delivers bytes."""


def payload_text(msg: ReceiveMessage) -> str:
    """The message payload as text (bytes decoded leniently)."""
    payload = msg.payload
    return payload.decode(errors="replace") if isinstance(payload, bytes) else payload


class MqttEntity(Entity):
    """An entity configured by a discovery message; mix it into a domain class."""

    component: ClassVar[str] = ""
    has_entity_name = True

    def __init__(self, hub: Hub, discovery_hash: tuple[str, str], config: dict[str, Any]):
        """Take the validated ``config`` of the discovery topic ``discovery_hash``."""
        self._hub = hub
        self.discovery_hash = discovery_hash
        self.config: dict[str, Any] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._subscribed = False
        self._availability = Availability(())
        self._apply_config(config)

    # ------------------------------------------------------------------ configuration
    def _apply_config(self, config: dict[str, Any]) -> None:
        attach(self._hub, config)
        config["encoding"] = config["encoding"] or None  # "" means bytes, as in Home Assistant
        self.config = config
        self.unique_id = config.get("unique_id")
        self.name = config.get("name")
        self.icon = config.get("icon")
        self.entity_picture = config.get("entity_picture")
        self.device_class = config.get("device_class")
        self.entity_category = config.get("entity_category")
        self.entity_registry_enabled_default = config["enabled_by_default"]
        self.device_info = device_info_from_config(config.get("device"))
        suggested = config.get("default_entity_id") or config.get("object_id")
        if self.entity_id is None and isinstance(suggested, str):
            object_id = suggested.partition(".")[2] if "." in suggested else suggested
            self.entity_id = f"{self.domain}.{object_id}"
        self._availability = Availability(
            (
                AvailabilityTopic(
                    entry["topic"],
                    entry["payload_available"],
                    entry["payload_not_available"],
                    entry.get("value_template"),
                )
                for entry in config["availability"]
            ),
            config["availability_mode"],
        )
        if "json_attributes_topic" not in config:
            self._attr_extra_state_attributes = None
        self.setup_from_config(config)

    def setup_from_config(self, config: dict[str, Any]) -> None:
        """Read the component's own options (override)."""

    def subscriptions(self) -> list[Subscription]:
        """The component's topics: ``(topic, callback, encoding)`` (override)."""
        return []

    async def async_update_config(self, config: dict[str, Any]) -> None:
        """Take a changed config in place: new options and topics, the state kept.

        A disabled entity (not in the state machine) only takes the options.
        """
        active = self._subscribed
        self._unsubscribe_all()
        self._apply_config(config)
        if active:
            await self._async_subscribe_all()
        self.async_schedule_write_state()

    # ------------------------------------------------------------------ lifecycle
    async def async_added_to_hub(self) -> None:
        """Subscribe to the entity's topics."""
        await self._async_subscribe_all()

    async def async_will_remove_from_hub(self) -> None:
        """Unsubscribe from every topic."""
        self._unsubscribe_all()

    async def _async_subscribe_all(self) -> None:
        # One topic may serve several purposes (state and attributes on the same topic, as
        # zigbee2mqtt does): every (topic, callback) pair is its own subscription.
        self._subscribed = True
        qos = self.config["qos"]
        encoding = self.config["encoding"]
        wanted: list[Subscription] = [
            (topic, self._availability_received, encoding) for topic in self._availability.topics
        ]
        if (attributes_topic := self.config.get("json_attributes_topic")) is not None:
            wanted.append((attributes_topic, self._attributes_received, encoding))
        wanted.extend(self.subscriptions())
        for topic, handler, topic_encoding in wanted:
            unsubscribe = await async_subscribe(self._hub, topic, handler, qos, topic_encoding)
            if not self._subscribed:  # removed while subscribing
                unsubscribe()
                return
            self._unsubscribe.append(unsubscribe)

    def _unsubscribe_all(self) -> None:
        self._subscribed = False
        while self._unsubscribe:
            self._unsubscribe.pop()()

    # ------------------------------------------------------------------ availability
    @property
    def available(self) -> bool:
        """Available while the broker is connected and the availability topics allow."""
        return is_connected(self._hub) and self._availability.available

    @callback
    def _availability_received(self, msg: ReceiveMessage) -> None:
        topics = self._availability.topics
        entry = topics.get(msg.subscribed_topic) or topics.get(msg.topic)
        if entry is None:
            return
        value = self.render_value(entry.value_template, msg)
        if value is None:
            return
        if self._availability.update(entry.topic, value):
            self.async_schedule_write_state()

    # ------------------------------------------------------------------ attributes
    @callback
    def _attributes_received(self, msg: ReceiveMessage) -> None:
        text = self.render_value(self.config.get("json_attributes_template"), msg)
        if text is None:
            return
        try:
            attributes = json_loads(text)
        except ValueError:
            _LOGGER.warning("Erroneous JSON attributes for %s: %r", self.entity_id, text[:200])
            return
        if not isinstance(attributes, dict):
            _LOGGER.warning("JSON attributes of %s are not an object", self.entity_id)
            return
        self._attr_extra_state_attributes = self.take_attributes(
            {key: value for key, value in attributes.items() if key not in BLOCKED_ATTRIBUTES}
        )
        self.async_schedule_write_state()

    def take_attributes(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """Let a component use some attributes (override); return those to show."""
        return attributes

    # ------------------------------------------------------------------ templates
    def render_value(self, template: Template | None, msg: ReceiveMessage) -> str | None:
        """Render a value template with ``value``/``value_json``; the payload without one.

        Returns None (and logs) when the template fails.
        """
        text = payload_text(msg)
        if template is None:
            return text
        variables: dict[str, Any] = {"value": text, "entity_id": self.entity_id}
        with contextlib.suppress(ValueError):
            variables["value_json"] = json_loads(text)
        try:
            result = template.async_render(variables, parse_result=False)
        except TemplateError as err:
            _LOGGER.warning(
                "Template of %s failed on %r from %s: %s",
                self.entity_id,
                text[:200],
                msg.topic,
                err,
            )
            return None
        return str(result)

    def render_command(
        self, template: Template | None, value: Any, variables: Mapping[str, Any] | None = None
    ) -> str:
        """Render a command template (``value``, ``entity_id``, ``name`` and ``variables``)."""
        if template is None:
            return str(value)
        return str(
            template.async_render(
                {
                    "value": value,
                    "entity_id": self.entity_id,
                    "name": self.name,
                    **(variables or {}),
                },
                parse_result=False,
            )
        )

    async def async_publish_command(self, topic: str, payload: str) -> None:
        """Publish ``payload`` on ``topic`` with the entity's qos and retain flag."""
        await async_publish(
            self._hub, topic, payload, self.config["qos"], self.config.get("retain", False)
        )

    @callback
    def connection_changed(self) -> None:
        """The broker connection came or went: rewrite the state."""
        self.async_schedule_write_state()
