"""The device topics on a hub: kinds registered, messages dispatched, devices and entities made."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from linli import Hub, HubKey, ServiceValidationError, callback
from linli.exceptions import RegistryError
from linli.util.json import json_bytes
from linli_mqtt.devices.model import (
    CHANNEL_AVAILABILITY,
    CHANNEL_COMMAND,
    CHANNEL_EVENT,
    CONVENTION_VERSION,
    DEVICE_ID_RE,
    REASON_HANDLER_ERROR,
    DeviceContext,
    DeviceCounters,
    DeviceKind,
    DeviceMessage,
    LogLimiter,
    Rejected,
)
from linli_mqtt.devices.parser import IGNORED, DeviceTopicParser
from linli_mqtt.devices.validation import (
    LazyValidators,
    SchemaError,
    Validator,
    compile_channel_schema,
)

if TYPE_CHECKING:
    from linli.entity import Entity
    from linli_mqtt import ReceiveMessage

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "mqtt"
"""The integration owning the devices and entities (the ``platform`` of the entities)."""
IDENTIFIER_DOMAIN: Final = "linli_mqtt"
"""The first half of a device's registry identifier ``("linli_mqtt", "<kind>/<device_id>")``."""
EVENT_DEVICE_EVENT: Final = "linli_device_event"
"""Fired for every accepted ``event`` message: ``kind``, ``device_id``, ``type``, ``payload``."""
RECENT_IDS: Final = 64
"""Message ids remembered per device to drop repeats (QoS 1 redeliveries, retries)."""

DATA: HubKey[DeviceTopics] = HubKey("linli_mqtt.devices")

MessageUpdater = Callable[[DeviceMessage], bool]


class _Device:
    """A device seen on the topics: its context, entities and recent message ids."""

    __slots__ = ("context", "entities", "recent_ids", "updaters")

    def __init__(self, context: DeviceContext, entities: list[Entity]) -> None:
        self.context = context
        self.entities = entities
        self.updaters: list[tuple[Entity, MessageUpdater]] = [
            (entity, updater)
            for entity in entities
            if (updater := getattr(entity, "handle_device_message", None)) is not None
        ]
        self.recent_ids: dict[str, None] = {}


@dataclass(slots=True)
class _KindEntry:
    kind: DeviceKind
    is_coroutine: bool
    devices: dict[str, _Device] = field(default_factory=dict)


class DeviceTopics:
    """One hub's device topics: the registered kinds, the counters, the devices seen."""

    def __init__(self, hub: Hub) -> None:
        """Start with no kinds; :meth:`async_start` subscribes."""
        self.hub = hub
        self.counters = DeviceCounters()
        self._kinds: dict[str, _KindEntry] = {}
        self._validators: dict[str, Mapping[str, Validator]] = {}
        self._envelope_only: Validator | None = None
        self.parser = DeviceTopicParser("linli", 65536, self._validators)
        self._limiter = LogLimiter()
        self._areas: Mapping[str, str] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._time = hub.clock.time

    # ------------------------------------------------------------------ kinds
    @callback
    def register_kind(self, kind: DeviceKind) -> Callable[[], None]:
        """Add a kind; the returned callable removes it (and its devices' entities)."""
        if kind.kind in self._kinds:
            raise ValueError(f"device kind {kind.kind!r} is already registered")
        validators = LazyValidators(kind)
        is_coroutine = kind.on_message is not None and asyncio.iscoroutinefunction(kind.on_message)
        entry = _KindEntry(kind, is_coroutine)
        self._kinds[kind.kind] = entry
        self._validators[kind.kind] = validators
        self.parser.forget_routes()

        @callback
        def unregister() -> None:
            if self._kinds.get(kind.kind) is not entry:
                return
            del self._kinds[kind.kind]
            del self._validators[kind.kind]
            self.parser.forget_routes()
            self._remove_entities(entry.devices.values())
            entry.devices.clear()

        return unregister

    @property
    def kinds(self) -> Mapping[str, DeviceKind]:
        """The registered kinds by name."""
        return {name: entry.kind for name, entry in self._kinds.items()}

    # ------------------------------------------------------------------ lifecycle
    async def async_start(self, prefix: str, max_payload: int, areas: Mapping[str, str]) -> None:
        """Subscribe to ``<prefix>/+/+/+``."""
        from linli_mqtt import async_subscribe

        self.parser = DeviceTopicParser(prefix, max_payload, self._validators)
        self._areas = areas
        self._unsubscribe = await _maybe_await(
            async_subscribe(
                self.hub, f"{self.parser.prefix}/+/+/+", self.async_handle, qos=0, encoding=None
            )
        )

    @callback
    def stop(self) -> None:
        """Unsubscribe and remove every device's entities."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for entry in self._kinds.values():
            self._remove_entities(entry.devices.values())
            entry.devices.clear()

    # ------------------------------------------------------------------ the message path
    @callback
    def async_handle(self, msg: ReceiveMessage) -> None:
        """Check and dispatch one MQTT message; never raises."""
        counters = self.counters
        counters.received += 1
        try:
            result = self.parser.parse(msg.topic, msg.payload, msg.timestamp)
            if type(result) is DeviceMessage:
                self._dispatch(result)
            elif result is IGNORED:
                counters.ignored += 1
            else:
                self._reject(result)  # type: ignore[arg-type]
        except Exception:
            # A boundary: whatever a kind's entities or handler do, the next message is served.
            counters.reject(REASON_HANDLER_ERROR)
            if self._limiter.should_log(msg.topic[:120], REASON_HANDLER_ERROR, self._time()):
                _LOGGER.exception("Error handling device message on %s", msg.topic[:120])

    def _reject(self, rejected: Rejected) -> None:
        self.counters.reject(rejected.reason)
        if self._limiter.should_log(rejected.device, rejected.reason, self._time()):
            _LOGGER.warning(
                "Rejected device message on %s (%s): %s; "
                "further %s from this device are not logged for a minute",
                rejected.topic[:120],
                rejected.reason,
                rejected.detail,
                rejected.reason,
            )

    def _dispatch(self, message: DeviceMessage) -> None:
        entry = self._kinds[message.kind]
        device = entry.devices.get(message.device_id)
        if device is None:
            device = self._new_device(entry, message)
        message_id = message.payload.get("id")
        if message_id is not None:
            recent = device.recent_ids
            if message_id in recent:
                self.counters.duplicates += 1
                return
            recent[message_id] = None
            if len(recent) > RECENT_IDS:
                del recent[next(iter(recent))]
        self.counters.accepted += 1
        channel = message.channel
        if channel == CHANNEL_AVAILABILITY:
            available = bool(message.payload["available"])
            if device.context.available != available:
                device.context.available = available
                for entity in device.entities:
                    entity.async_schedule_write_state()
        else:
            # Before an entity is added (or while it is disabled) only its values change;
            # adding it writes them.
            for entity, update in device.updaters:
                if update(message):
                    entity.async_schedule_write_state()
            if channel == CHANNEL_EVENT:
                payload = message.payload
                private = entry.kind.private_fields
                if private and not private.isdisjoint(payload):
                    payload = {k: v for k, v in payload.items() if k not in private}
                self.hub.bus.async_fire(
                    EVENT_DEVICE_EVENT,
                    {
                        "kind": message.kind,
                        "device_id": message.device_id,
                        "type": payload.get("event"),
                        "payload": payload,
                    },
                )
        handler = entry.kind.on_message
        if handler is not None:
            if entry.is_coroutine:
                self.hub.async_create_task(
                    self._async_run_handler(handler, message), f"{message.kind} message"
                )
            else:
                handler(self.hub, message)

    async def _async_run_handler(
        self, handler: Callable[[Hub, DeviceMessage], Any], message: DeviceMessage
    ) -> None:
        try:
            await handler(self.hub, message)
        except Exception:
            self.counters.reject(REASON_HANDLER_ERROR)
            device = f"{message.kind}/{message.device_id}"
            if self._limiter.should_log(device, REASON_HANDLER_ERROR, self._time()):
                _LOGGER.exception("Error in the %s handler for %s", message.kind, device)

    # ------------------------------------------------------------------ devices and entities
    def _new_device(self, entry: _KindEntry, message: DeviceMessage) -> _Device:
        kind = entry.kind
        unique_prefix = f"{kind.kind}/{message.device_id}"
        payload = message.payload if message.channel != CHANNEL_AVAILABILITY else {}
        facts: dict[str, Any] = payload.get("device") or {}
        name = facts.get("name") or f"{kind.display_name} {message.device_id}"
        area_id = self._area_for(unique_prefix, payload.get("area_id"))
        context = DeviceContext(kind.kind, message.device_id, unique_prefix, name)
        device_info: dict[str, Any] = {
            "identifiers": {(IDENTIFIER_DOMAIN, unique_prefix)},
            "name": name,
        }
        manufacturer = facts.get("manufacturer") or kind.manufacturer
        for key, value in (
            ("manufacturer", manufacturer),
            ("model", facts.get("model")),
            ("sw_version", facts.get("sw_version")),
            ("hw_version", facts.get("hw_version")),
            ("suggested_area", area_id),
        ):
            if value:
                device_info[key] = value
        context.device_info = device_info
        registries = self.hub.registries
        try:
            registries.devices.async_get_or_create(
                DOMAIN,
                identifiers=device_info["identifiers"],
                name=name,
                manufacturer=manufacturer,
                model=facts.get("model"),
                sw_version=facts.get("sw_version"),
                hw_version=facts.get("hw_version"),
                area_id=area_id,
            )
        except RegistryError as err:
            _LOGGER.warning("Could not register device %s: %s", unique_prefix, err)
        entities = list(kind.entities(context)) if kind.entities is not None else []
        device = _Device(context, entities)
        entry.devices[message.device_id] = device
        if entities:
            self.hub.async_create_task(
                self._async_add_entities(entry, device), f"add {unique_prefix} entities"
            )
        return device

    def _area_for(self, unique_prefix: str, claimed: object) -> str | None:
        area_id = self._areas.get(unique_prefix) or (claimed if isinstance(claimed, str) else None)
        if area_id is None:
            return None
        if self.hub.registries.areas.async_get(area_id) is None:
            _LOGGER.warning(
                "Device %s names area %r, which does not exist; leaving it without area",
                unique_prefix,
                area_id,
            )
            return None
        return area_id

    async def _async_add_entities(self, entry: _KindEntry, device: _Device) -> None:
        from linli.entity import async_add_entities

        try:
            await async_add_entities(self.hub, DOMAIN, device.entities)
        except Exception:
            _LOGGER.exception(
                "Could not add the entities of %s/%s", entry.kind.kind, device.context.device_id
            )
            return
        if entry.devices.get(device.context.device_id) is not device:
            self._remove_entities([device])  # its kind was removed meanwhile

    def _remove_entities(self, devices: Any) -> None:
        entity_ids = [
            entity.entity_id
            for device in devices
            for entity in device.entities
            if entity.entity_id is not None
        ]
        if entity_ids:
            self.hub.async_create_task(self._async_remove(entity_ids), "remove device entities")

    async def _async_remove(self, entity_ids: list[str]) -> None:
        from linli.entity import async_remove_entity

        for entity_id in entity_ids:
            try:
                await async_remove_entity(self.hub, entity_id)
            except Exception:
                _LOGGER.exception("Could not remove %s", entity_id)

    # ------------------------------------------------------------------ commands
    async def async_send_command(
        self, kind: str, device_id: str, payload: Mapping[str, Any], qos: int = 1
    ) -> None:
        """Validate and publish a command to ``<prefix>/<kind>/<device_id>/command``."""
        from linli_mqtt import async_publish

        validators = self._validators.get(kind)
        if validators is None:
            raise ServiceValidationError(f"unknown device kind {kind!r}")
        if not isinstance(device_id, str) or DEVICE_ID_RE.fullmatch(device_id) is None:
            raise ServiceValidationError(f"invalid device id {device_id!r}")
        data = {"v": CONVENTION_VERSION, **payload}
        validator = validators.get(CHANNEL_COMMAND)
        if validator is None:
            if self._envelope_only is None:
                self._envelope_only = compile_channel_schema({"type": "object"})
            validator = self._envelope_only
        try:
            validator(data)
        except SchemaError as err:
            raise ServiceValidationError(
                f"invalid {kind} command for {device_id}: {err.message}"
            ) from err
        topic = f"{self.parser.prefix}/{kind}/{device_id}/{CHANNEL_COMMAND}"
        await async_publish(self.hub, topic, json_bytes(data), qos=qos, retain=False)

    # ------------------------------------------------------------------ diagnostics
    def diagnostics(self) -> dict[str, Any]:
        """Counters, kinds and device count."""
        return {
            **self.counters.as_dict(),
            "topic_prefix": self.parser.prefix,
            "kinds": sorted(self._kinds),
            "devices": sum(len(entry.devices) for entry in self._kinds.values()),
        }


async def _maybe_await(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value
