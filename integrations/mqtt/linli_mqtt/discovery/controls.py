"""Discovered entities the hub commands: switch, lock, cover, button and siren.

A command publishes on ``command_topic`` (through ``command_template`` when set). Without a
state topic (or with ``optimistic``) the entity assumes the commanded state at once.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from linli.callback import callback
from linli.entity import (
    ButtonEntity,
    CoverEntity,
    CoverEntityFeature,
    LockEntity,
    LockEntityFeature,
    SirenEntity,
    SirenEntityFeature,
    SwitchEntity,
)
from linli.util.json import json_dumps, json_loads
from linli_mqtt.discovery.base import PAYLOAD_NONE, MqttEntity, Subscription
from linli_mqtt.discovery.transport import ReceiveMessage

_LOGGER = logging.getLogger(__name__)


class _Optimistic(MqttEntity):
    """Optimistic when told so or when nothing reports the state."""

    optimistic = False

    def setup_optimistic(self, config: dict[str, Any], *state_keys: str) -> None:
        """Optimistic with ``optimistic`` or without any of ``state_keys`` topics."""
        self.optimistic = config.get("optimistic", False) or not any(
            config.get(key) for key in state_keys
        )
        self.assumed_state = self.optimistic


class MqttSwitch(_Optimistic, SwitchEntity):
    """A switch: ``payload_on``/``payload_off`` out, ``state_on``/``state_off`` in."""

    component: ClassVar[str] = "switch"

    def setup_from_config(self, config: dict[str, Any]) -> None:
        """The state payloads default to the command payloads."""
        self._state_on = config.get("state_on", config["payload_on"])
        self._state_off = config.get("state_off", config["payload_off"])
        self.setup_optimistic(config, "state_topic")

    def subscriptions(self) -> list[Subscription]:
        """The state topic, when there is one."""
        topic = self.config.get("state_topic")
        return [] if topic is None else [(topic, self._state_received, self.config["encoding"])]

    @callback
    def _state_received(self, msg: ReceiveMessage) -> None:
        value = self.render_value(self.config.get("value_template"), msg)
        if value == self._state_on:
            self._attr_is_on = True
        elif value == self._state_off:
            self._attr_is_on = False
        elif value == PAYLOAD_NONE:
            self._attr_is_on = None
        else:
            return
        self.async_schedule_write_state()

    async def _async_command(self, on: bool) -> None:
        payload = self.config["payload_on"] if on else self.config["payload_off"]
        await self.async_publish_command(
            self.config["command_topic"],
            self.render_command(self.config.get("command_template"), payload),
        )
        if self.optimistic:
            self._attr_is_on = on
            self.async_schedule_write_state()

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Publish ``payload_on``."""
        await self._async_command(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Publish ``payload_off``."""
        await self._async_command(False)


class MqttLock(_Optimistic, LockEntity):
    """A lock: ``payload_lock``/``payload_unlock``/``payload_open`` out, ``state_*`` in."""

    component: ClassVar[str] = "lock"

    def setup_from_config(self, config: dict[str, Any]) -> None:
        """Open support and the code format."""
        self.code_format = config.get("code_format")
        self.supports_open = "payload_open" in config
        self.supported_features = LockEntityFeature.OPEN if self.supports_open else 0
        self.setup_optimistic(config, "state_topic")
        self._states = {
            config["state_locked"]: "locked",
            config["state_unlocked"]: "unlocked",
            config["state_locking"]: "locking",
            config["state_unlocking"]: "unlocking",
            config["state_jammed"]: "jammed",
            config["state_open"]: "open",
            config["state_opening"]: "opening",
            config["payload_reset"]: None,
        }

    def subscriptions(self) -> list[Subscription]:
        """The state topic, when there is one."""
        topic = self.config.get("state_topic")
        return [] if topic is None else [(topic, self._state_received, self.config["encoding"])]

    def _set(self, state: str | None) -> None:
        self._attr_is_locked = None if state is None else state == "locked"
        self._attr_is_locking = state == "locking"
        self._attr_is_unlocking = state == "unlocking"
        self._attr_is_jammed = state == "jammed"
        self._attr_is_open = state == "open"
        self._attr_is_opening = state == "opening"

    @callback
    def _state_received(self, msg: ReceiveMessage) -> None:
        value = self.render_value(self.config.get("value_template"), msg)
        if value is None or value not in self._states:
            if value:
                _LOGGER.debug("%s ignores the state %r", self.entity_id, value[:100])
            return
        self._set(self._states[value])
        self.async_schedule_write_state()

    async def _async_command(self, payload_key: str, assumed: str, code: Any) -> None:
        payload = self.render_command(
            self.config["command_template"], self.config[payload_key], {"code": code}
        )
        await self.async_publish_command(self.config["command_topic"], payload)
        if self.optimistic:
            self._set(assumed)
            self.async_schedule_write_state()

    async def async_lock(self, **kwargs: Any) -> None:
        """Publish ``payload_lock``."""
        await self._async_command("payload_lock", "locked", kwargs.get("code"))

    async def async_unlock(self, **kwargs: Any) -> None:
        """Publish ``payload_unlock``."""
        await self._async_command("payload_unlock", "unlocked", kwargs.get("code"))

    async def async_open(self, **kwargs: Any) -> None:
        """Publish ``payload_open`` (only when the lock supports opening)."""
        if not self.supports_open:
            raise NotImplementedError(f"{self.entity_id} has no payload_open")
        await self._async_command("payload_open", "open", kwargs.get("code"))


def _percentage(value: float, closed: int, opened: int) -> int:
    """``value`` between ``closed`` and ``opened`` as 0..100 (Home Assistant's scaling)."""
    if opened == closed:
        return 100 if value >= opened else 0
    percentage = round((value - closed) * 100 / (opened - closed))
    return max(0, min(100, percentage))


class MqttCover(_Optimistic, CoverEntity):
    """A cover: ``payload_open``/``payload_close``/``payload_stop`` and a position."""

    component: ClassVar[str] = "cover"

    def setup_from_config(self, config: dict[str, Any]) -> None:
        """The state payloads and optimism."""
        self.setup_optimistic(config, "state_topic", "position_topic")
        features = CoverEntityFeature(0)
        if config.get("command_topic") is not None:
            for key, feature in (
                ("payload_open", CoverEntityFeature.OPEN),
                ("payload_close", CoverEntityFeature.CLOSE),
                ("payload_stop", CoverEntityFeature.STOP),
            ):
                if config.get(key) is not None:
                    features |= feature
        if config.get("set_position_topic") is not None:
            features |= CoverEntityFeature.SET_POSITION
        self.supported_features = features
        self._states = {
            config["state_open"]: "open",
            config["state_opening"]: "opening",
            config["state_closed"]: "closed",
            config["state_closing"]: "closing",
            config["state_stopped"]: "stopped",
        }

    def subscriptions(self) -> list[Subscription]:
        """The state and position topics, when set."""
        topics: list[Subscription] = []
        encoding = self.config["encoding"]
        if (topic := self.config.get("state_topic")) is not None:
            topics.append((topic, self._state_received, encoding))
        if (topic := self.config.get("position_topic")) is not None:
            topics.append((topic, self._position_received, encoding))
        return topics

    def _set(self, state: str) -> None:
        if state == "stopped":
            position = self._attr_current_cover_position
            if position is not None:
                self._attr_is_closed = position == 0
            else:
                self._attr_is_closed = bool(self._attr_is_closing)
            self._attr_is_opening = self._attr_is_closing = False
            return
        self._attr_is_opening = state == "opening"
        self._attr_is_closing = state == "closing"
        if state in ("open", "closed"):
            self._attr_is_closed = state == "closed"

    @callback
    def _state_received(self, msg: ReceiveMessage) -> None:
        value = self.render_value(self.config.get("value_template"), msg)
        if value is None or value == "":
            return
        if value == PAYLOAD_NONE:
            self._attr_is_closed = None
            self._attr_is_opening = self._attr_is_closing = False
        elif value in self._states:
            self._set(self._states[value])
        else:
            _LOGGER.warning("%s got the unknown cover state %r", self.entity_id, value[:100])
            return
        self.async_schedule_write_state()

    @callback
    def _position_received(self, msg: ReceiveMessage) -> None:
        value = self.render_value(self.config.get("position_template"), msg)
        if value is None or value == "":
            return
        try:
            raw = float(value)
        except ValueError:
            _LOGGER.warning("%s got the position %r, not a number", self.entity_id, value[:100])
            return
        position = _percentage(raw, self.config["position_closed"], self.config["position_open"])
        self._attr_current_cover_position = position
        if self.config.get("state_topic") is None:
            self._attr_is_closed = position == 0
        self.async_schedule_write_state()

    async def _async_payload(self, key: str, assumed: str) -> None:
        payload = self.config.get(key)
        topic = self.config.get("command_topic")
        if payload is None or topic is None:
            raise NotImplementedError(f"{self.entity_id} has no {key} or command_topic")
        await self.async_publish_command(topic, payload)
        if self.optimistic:
            self._set(assumed)
            if assumed in ("open", "closed"):
                self._attr_current_cover_position = 100 if assumed == "open" else 0
            self.async_schedule_write_state()

    async def async_open_cover(self, **kwargs: Any) -> None:
        """Publish ``payload_open``."""
        await self._async_payload("payload_open", "open")

    async def async_close_cover(self, **kwargs: Any) -> None:
        """Publish ``payload_close``."""
        await self._async_payload("payload_close", "closed")

    async def async_stop_cover(self, **kwargs: Any) -> None:
        """Publish ``payload_stop``."""
        await self._async_payload("payload_stop", "stopped")

    async def async_set_cover_position(self, **kwargs: Any) -> None:
        """Publish the position (0..100 scaled to position_closed..position_open)."""
        topic = self.config.get("set_position_topic")
        if topic is None:
            raise NotImplementedError(f"{self.entity_id} has no set_position_topic")
        position = int(kwargs["position"])
        closed, opened = self.config["position_closed"], self.config["position_open"]
        value = round(closed + (opened - closed) * position / 100)
        payload = self.render_command(
            self.config.get("set_position_template"), value, {"position": value}
        )
        await self.async_publish_command(topic, payload)
        if self.optimistic:
            self._attr_current_cover_position = position
            self._attr_is_closed = position == 0
            self.async_schedule_write_state()


class MqttButton(MqttEntity, ButtonEntity):
    """A button: ``payload_press`` on ``command_topic``."""

    component: ClassVar[str] = "button"

    async def async_press(self) -> None:
        """Publish ``payload_press``."""
        payload = self.render_command(
            self.config.get("command_template"), self.config["payload_press"]
        )
        await self.async_publish_command(self.config["command_topic"], payload)


class MqttSiren(_Optimistic, SirenEntity):
    """A siren: on/off with ``tone``, ``volume_level`` and ``duration`` (JSON commands)."""

    component: ClassVar[str] = "siren"

    def setup_from_config(self, config: dict[str, Any]) -> None:
        """State payloads, tones and the supported options."""
        self._state_on = config.get("state_on", config["payload_on"])
        self._state_off = config.get("state_off", config["payload_off"])
        self.available_tones = config.get("available_tones")
        self.setup_optimistic(config, "state_topic")
        features = SirenEntityFeature.TURN_ON | SirenEntityFeature.TURN_OFF
        if self.available_tones:
            features |= SirenEntityFeature.TONES
        if config["support_volume_set"]:
            features |= SirenEntityFeature.VOLUME_SET
        if config["support_duration"]:
            features |= SirenEntityFeature.DURATION
        self.supported_features = features
        self._siren_attributes: dict[str, Any] = {}

    def subscriptions(self) -> list[Subscription]:
        """The state topic, when there is one."""
        topic = self.config.get("state_topic")
        return [] if topic is None else [(topic, self._state_received, self.config["encoding"])]

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The JSON attributes, with the siren's last tone, volume and duration."""
        attributes = dict(self._attr_extra_state_attributes or {})
        attributes.update(self._siren_attributes)
        return attributes or None

    @callback
    def _state_received(self, msg: ReceiveMessage) -> None:
        value = self.render_value(self.config.get("state_value_template"), msg)
        if value is None or value == "":
            return
        state: Any = value
        try:
            parsed = json_loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            state = parsed.get("state")
            for key in ("tone", "volume_level", "duration"):
                if key in parsed:
                    self._siren_attributes[key] = parsed[key]
        if state == self._state_on:
            self._attr_is_on = True
        elif state == self._state_off:
            self._attr_is_on = False
        elif state == PAYLOAD_NONE:
            self._attr_is_on = None
        elif state is not None:
            _LOGGER.warning("%s got the unknown siren state %r", self.entity_id, str(state)[:100])
            return
        self.async_schedule_write_state()

    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        options = {
            key: kwargs[key]
            for key in ("tone", "volume_level", "duration")
            if kwargs.get(key) is not None
        }
        if not self.config["support_duration"]:
            options.pop("duration", None)
        if not self.config["support_volume_set"]:
            options.pop("volume_level", None)
        if self.available_tones is None:
            options.pop("tone", None)
        return options

    async def _async_command(self, on: bool, template_key: str, kwargs: dict[str, Any]) -> None:
        value = self.config["payload_on"] if on else self.config["payload_off"]
        options = self._options(kwargs)
        template = self.config.get(template_key)
        if template is not None:
            payload = self.render_command(template, value, options)
        elif options:
            payload = json_dumps({"state": value, **options})
        else:
            payload = value
        await self.async_publish_command(self.config["command_topic"], payload)
        if self.optimistic:
            self._attr_is_on = on
            self._siren_attributes.update(options)
            self.async_schedule_write_state()

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Publish ``payload_on`` (a JSON object when tone, volume or duration are given)."""
        await self._async_command(True, "command_template", kwargs)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Publish ``payload_off`` (through ``command_off_template`` when set)."""
        template_key = (
            "command_off_template" if "command_off_template" in self.config else "command_template"
        )
        await self._async_command(False, template_key, kwargs)
