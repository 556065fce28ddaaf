"""The discovery manager: config messages in, entities and devices out.

It subscribes to ``<prefix>/+/+/config`` and ``<prefix>/+/+/+/config`` and keeps one entity
per discovery topic (``(component, discovery_id)``): a new config adds it, a changed one
updates it in place (or replaces it when its unique_id or device changed), an empty payload
removes it with its entity registry entry (and its device once no entity uses it). Messages
are handled one at a time, in the order received. Bad messages are logged with the reason and
counted in :attr:`DiscoveryManager.counters`; none of them raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from linli.callback import callback
from linli.entity import async_add_entities, async_remove_entity
from linli_mqtt.config import EVENT_MQTT_CONNECTION_CHANGED
from linli_mqtt.discovery.base import DOMAIN, MqttEntity
from linli_mqtt.discovery.controls import MqttButton, MqttCover, MqttLock, MqttSiren, MqttSwitch
from linli_mqtt.discovery.payload import (
    DEVICE_COMPONENT,
    DiscoveryError,
    decode,
    expand_abbreviations,
    parse_topic,
    prepare,
    split_device_config,
)
from linli_mqtt.discovery.schemas import validate
from linli_mqtt.discovery.sensors import (
    MqttBinarySensor,
    MqttCamera,
    MqttDeviceTracker,
    MqttEvent,
    MqttSensor,
)
from linli_mqtt.discovery.transport import ReceiveMessage, async_publish, async_subscribe

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)


ENTITY_CLASSES: Final[dict[str, type[MqttEntity]]] = {
    cls.component: cls
    for cls in (
        MqttBinarySensor,
        MqttButton,
        MqttCamera,
        MqttCover,
        MqttDeviceTracker,
        MqttEvent,
        MqttLock,
        MqttSensor,
        MqttSiren,
        MqttSwitch,
    )
}

DiscoveryHash = tuple[str, str]


class DiscoveryManager:
    """Home Assistant MQTT discovery under one prefix, for one hub."""

    def __init__(self, hub: Hub, prefix: str) -> None:
        """Prepare; :meth:`async_start` subscribes."""
        self.hub = hub
        self.prefix = prefix
        self.entities: dict[DiscoveryHash, MqttEntity] = {}
        self.configs: dict[DiscoveryHash, dict[str, Any]] = {}
        """The expanded payload behind each entity (to see whether a new one changes it)."""
        self.topics: dict[DiscoveryHash, str] = {}
        self.counters: Counter[str] = Counter()
        self._lock = asyncio.Lock()
        self._unsubscribe: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle
    async def async_start(self) -> None:
        """Subscribe to the config topics, then ask devices to send their configs again."""
        for pattern in (f"{self.prefix}/+/+/config", f"{self.prefix}/+/+/+/config"):
            self._unsubscribe.append(
                await async_subscribe(self.hub, pattern, self._message_received, 0, "utf-8")
            )
        self._unsubscribe.append(
            self.hub.bus.async_listen(
                EVENT_MQTT_CONNECTION_CHANGED, self._connection_changed, owner=DOMAIN
            )
        )
        await self._async_announce()

    async def _async_announce(self) -> None:
        try:
            await async_publish(self.hub, f"{self.prefix}/status", "online")
            self.counters["announced"] += 1
        except Exception as err:  # the connection may be down: devices hear us on reconnect
            _LOGGER.debug("Could not publish %s/status: %s", self.prefix, err)

    async def async_stop(self) -> None:
        """Unsubscribe and take every discovered entity out of the hub (registry kept)."""
        self._stopping = True
        while self._unsubscribe:
            self._unsubscribe.pop()()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        async with self._lock:
            for entity in list(self.entities.values()):
                if entity.entity_id is not None:
                    await async_remove_entity(self.hub, entity.entity_id)
            self.entities.clear()
            self.configs.clear()

    @callback
    def _connection_changed(self, event: Event[Mapping[str, Any]]) -> None:
        for entity in self.entities.values():
            entity.connection_changed()
        if event.data.get("connected"):
            self._spawn(self._async_announce())

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = self.hub.async_create_task(coro, "mqtt discovery")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ messages
    @callback
    def _message_received(self, msg: ReceiveMessage) -> None:
        if self._stopping:
            return
        self.counters["messages"] += 1
        self._spawn(self._async_handle(msg.topic, msg.payload))

    async def _async_handle(self, topic: str, payload: str | bytes) -> None:
        async with self._lock:
            try:
                await self._async_process(topic, payload)
            except DiscoveryError as err:
                self.counters[err.reason] += 1
                _LOGGER.warning("Ignoring the discovery message on %s: %s", topic, err)
            except Exception:
                self.counters["errors"] += 1
                _LOGGER.exception("Error handling the discovery message on %s", topic)

    async def _async_process(self, topic: str, payload: str | bytes) -> None:
        parsed = parse_topic(self.prefix, topic)
        if parsed is None:
            raise DiscoveryError("invalid_topic", "not a discovery topic (allowed: [a-zA-Z0-9_-])")
        if parsed.component != DEVICE_COMPONENT and parsed.component not in ENTITY_CLASSES:
            raise DiscoveryError(
                "unsupported_component", f"the component {parsed.component!r} is not supported"
            )
        raw = decode(payload)
        if parsed.component == DEVICE_COMPONENT:
            await self._async_process_device(topic, parsed.discovery_id, raw)
            return
        key = (parsed.component, parsed.discovery_id)
        if raw is None:
            await self._async_remove(key)
            return
        await self._async_discovered(key, topic, prepare(raw))

    async def _async_process_device(
        self, topic: str, discovery_id: str, raw: dict[str, Any] | None
    ) -> None:
        if raw is None:
            for key in [key for key, where in self.topics.items() if where == topic]:
                await self._async_remove(key)
            return
        config = expand_abbreviations(raw)  # "~" is applied per component
        for component_id, component_config in split_device_config(config).items():
            if component_config is None:
                known = [key for key, where in self.topics.items() if where == topic]
                for key in known:
                    if key[1] == f"{discovery_id} {component_id}":
                        await self._async_remove(key)
                continue
            platform = component_config.pop("platform")
            if platform not in ENTITY_CLASSES:
                self.counters["unsupported_component"] += 1
                _LOGGER.warning(
                    "Ignoring component %s on %s: %r is not supported",
                    component_id,
                    topic,
                    platform,
                )
                continue
            key = (platform, f"{discovery_id} {component_id}")
            try:
                await self._async_discovered(key, topic, component_config)
            except DiscoveryError as err:
                self.counters[err.reason] += 1
                _LOGGER.warning("Ignoring component %s on %s: %s", component_id, topic, err)

    async def _async_discovered(
        self, key: DiscoveryHash, topic: str, expanded: dict[str, Any]
    ) -> None:
        component = key[0]
        if self.configs.get(key) == expanded:
            self.counters["unchanged"] += 1
            return
        config = validate(component, expanded)
        existing = self.entities.get(key)
        if existing is not None and existing.hub is None:  # removed by someone else
            self._forget(key)
            existing = None
        replaced: MqttEntity | None = None
        if existing is not None:
            old = self.configs[key]
            if all(old.get(k) == expanded.get(k) for k in ("unique_id", "device")):
                await existing.async_update_config(config)
                self.configs[key] = expanded
                self.counters["updated"] += 1
                _LOGGER.debug("Updated %s from %s", existing.entity_id, topic)
                return
            # Another unique_id is another registry entry; another device block another
            # device: replace the entity (a new unique_id drops the old entry).
            unique_id_changed = old.get("unique_id") != expanded.get("unique_id")
            await self._async_remove(key, forget=unique_id_changed)
            replaced = existing
        entity = ENTITY_CLASSES[component](self.hub, key, config)
        await async_add_entities(self.hub, DOMAIN, [entity])
        if replaced is not None:
            self._remove_orphan_devices(replaced)
        if entity.hub is None:  # refused (the entity model logged why), e.g. a duplicate unique_id
            self.counters["errors"] += 1
            _LOGGER.warning("Could not add the entity discovered on %s", topic)
            return
        self.entities[key] = entity
        self.configs[key] = expanded
        self.topics[key] = topic
        self.counters["added"] += 1
        origin = expanded.get("origin")
        _LOGGER.info(
            "Discovered %s on %s%s",
            entity.entity_id,
            topic,
            f" (from {origin['name']})" if isinstance(origin, dict) and "name" in origin else "",
        )

    def _forget(self, key: DiscoveryHash) -> MqttEntity | None:
        self.configs.pop(key, None)
        self.topics.pop(key, None)
        return self.entities.pop(key, None)

    async def _async_remove(self, key: DiscoveryHash, *, forget: bool = True) -> None:
        entity = self._forget(key)
        if entity is None or entity.entity_id is None:
            return
        entity_id = entity.entity_id
        await async_remove_entity(self.hub, entity_id, remove_from_registry=forget)
        self.counters["removed"] += 1
        _LOGGER.info("Removed %s", entity_id)
        if forget:
            self._remove_orphan_devices(entity)

    @callback
    def _remove_orphan_devices(self, entity: MqttEntity) -> None:
        info = entity.device_info
        if not info:
            return
        registries = self.hub.registries
        device = registries.devices.async_get_device(
            identifiers=info.get("identifiers"), connections=info.get("connections")
        )
        if device is None or device.integration != DOMAIN:
            return
        if registries.entities.entities_for_device(device.id):
            return
        registries.devices.async_remove(device.id)
        _LOGGER.info("Removed the device %s: it has no discovered entity left", device.name)

    # ------------------------------------------------------------------ diagnostics
    def diagnostics(self) -> dict[str, Any]:
        """Counters and the discovered entities (for ``linli_mqtt``'s diagnostics)."""
        return {
            "prefix": self.prefix,
            "counters": dict(self.counters),
            "entities": [
                {
                    "component": key[0],
                    "discovery_id": key[1],
                    "topic": self.topics.get(key),
                    "entity_id": entity.entity_id,
                }
                for key, entity in self.entities.items()
            ],
        }
