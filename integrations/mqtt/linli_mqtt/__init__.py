"""MQTT for Linli: one broker connection, an embedded broker when none is configured,
``mqtt.publish``, the ``mqtt`` trigger, Home Assistant's MQTT discovery and Linli's device
topics.

Other integrations (declaring ``mqtt`` as a dependency) use only these names::

    from linli_mqtt import ReceiveMessage, async_publish, async_subscribe

    unsubscribe = await async_subscribe(hub, "linli/gate/+/event", on_message)
    await async_publish(hub, "linli/gate/north/command", '{"v": 1, "open": true}')
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from linli import ConfigType, Hub, HubKey, Integration, IotClass, Manifest, hookimpl
from linli_mqtt.client import (
    ClientSettings,
    MessageCallback,
    MqttClient,
    MqttError,
    PublishMessage,
    ReceiveMessage,
    topic_matches,
)
from linli_mqtt.config import (
    CONF_BIRTH_MESSAGE,
    CONF_BROKER,
    CONF_CLIENT_ID,
    CONF_DISCOVERY,
    CONF_EMBEDDED_PORT,
    CONF_KEEPALIVE,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_TLS,
    CONF_USERNAME,
    CONF_WILL_MESSAGE,
    CONFIG_SCHEMA,
    DEFAULT_ENCODING,
    DOMAIN,
    EVENT_MQTT_CONNECTION_CHANGED,
    valid_publish_topic,
    valid_subscribe_topic,
)

if TYPE_CHECKING:
    from linli.helpers.trigger import TriggerPlatform
    from linli_mqtt.broker import EmbeddedBroker
    from linli_mqtt.devices import (
        BinarySensorField,
        DeviceKind,
        DeviceMessage,
        EventField,
        SensorField,
        async_register_device_kind,
        async_send_command,
        field_entities,
    )

_DEVICE_API: Final = frozenset(
    {
        "BinarySensorField",
        "DeviceKind",
        "DeviceMessage",
        "EventField",
        "SensorField",
        "async_register_device_kind",
        "async_send_command",
        "field_entities",
    }
)
"""Linli's device-topic API, offered at the package root (loaded on first use, as the rest of
:mod:`linli_mqtt.devices` is only needed once the integration is set up)."""


def __getattr__(name: str) -> Any:
    if name in _DEVICE_API:
        from linli_mqtt import devices

        return getattr(devices, name)
    raise AttributeError(f"module 'linli_mqtt' has no attribute {name!r}")


__all__ = [
    "DOMAIN",
    "EVENT_MQTT_CONNECTION_CHANGED",
    "BinarySensorField",
    "DeviceKind",
    "DeviceMessage",
    "EventField",
    "MqttClient",
    "MqttError",
    "ReceiveMessage",
    "SensorField",
    "async_publish",
    "async_register_device_kind",
    "async_send_command",
    "async_subscribe",
    "async_wait_for_connection",
    "field_entities",
    "get_mqtt",
    "topic_matches",
    "valid_publish_topic",
    "valid_subscribe_topic",
]

_LOGGER = logging.getLogger(__name__)

FIRST_CONNECT_TIMEOUT = 5.0
"""Seconds setup waits for the first connection before going on (the client keeps trying)."""

MANIFEST = Manifest(
    domain=DOMAIN,
    name="MQTT",
    version="0.1.0",
    iot_class=IotClass.local_push,
    codeowners=("@linli/core",),
    documentation="https://github.com/linli/linli/tree/main/integrations/mqtt",
    after_dependencies=("websocket_api",),
    setup_timeout=30,
)

_PARTS = (
    ("linli_mqtt.discovery", "async_setup_discovery"),
    ("linli_mqtt.devices", "async_setup_devices"),
)
"""Setup functions of the integration's parts: ``(hub, config) -> unload``, in order."""

Unload = Callable[[], Awaitable[None] | None]


@dataclass
class MqttData:
    """What the integration keeps on the hub."""

    client: MqttClient
    config: ConfigType
    broker: EmbeddedBroker | None = None
    unloads: list[Unload] = field(default_factory=list)


DATA: HubKey[MqttData] = HubKey(DOMAIN)


# ---------------------------------------------------------------------------- the API


def get_mqtt(hub: Hub) -> MqttClient:
    """The hub's MQTT client; raises :class:`MqttError` when the integration is not set up."""
    data = hub.data.get(DATA)
    if data is None:
        raise MqttError("the mqtt integration is not set up")
    return data.client


async def async_subscribe(
    hub: Hub,
    topic: str,
    msg_callback: MessageCallback,
    qos: int = 0,
    encoding: str | None = DEFAULT_ENCODING,
) -> Callable[[], None]:
    """Subscribe to ``topic`` (wildcards ``+``/``#``); returns a function that unsubscribes.

    ``msg_callback(ReceiveMessage)`` runs on the loop (a coroutine function as a task);
    ``encoding=None`` delivers ``bytes``. Subscriptions survive reconnects.
    """
    valid_subscribe_topic(topic)
    return await get_mqtt(hub).async_subscribe(topic, msg_callback, qos, encoding)


async def async_publish(
    hub: Hub, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False
) -> None:
    """Publish a message; raises :class:`MqttError` when not connected."""
    await get_mqtt(hub).async_publish(topic, payload, qos, retain)


async def async_wait_for_connection(hub: Hub, timeout: float) -> bool:  # noqa: ASYNC109 - HA's API
    """Wait up to ``timeout`` seconds for the broker connection; return whether it is up."""
    return await get_mqtt(hub).async_wait_for_connection(timeout)


# ---------------------------------------------------------------------------- lifecycle


def _message(config: dict[str, Any] | None) -> PublishMessage | None:
    return None if config is None else PublishMessage(**config)


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Start the embedded broker if none is configured, connect, then set up the parts."""
    from linli_mqtt import diagnostics
    from linli_mqtt.publish import async_register_services

    host: str | None = config.get(CONF_BROKER)
    port: int = config[CONF_PORT]
    broker: EmbeddedBroker | None = None
    if host is None:
        from linli_mqtt.broker import EmbeddedBroker

        broker = EmbeddedBroker(hub, config[CONF_EMBEDDED_PORT])
        await broker.async_start()
        host, port = broker.host, broker.port
    settings = ClientSettings(
        host=host,
        port=port,
        client_id=config.get(CONF_CLIENT_ID),
        username=config.get(CONF_USERNAME),
        password=config.get(CONF_PASSWORD),
        keepalive=config[CONF_KEEPALIVE],
        tls=config.get(CONF_TLS),
        birth=_message(config.get(CONF_BIRTH_MESSAGE)),
        will=_message(config.get(CONF_WILL_MESSAGE)),
    )
    client = MqttClient(hub, settings)
    data = hub.data[DATA] = MqttData(client, config, broker)
    try:
        await client.async_start()
        if not await client.async_wait_for_connection(FIRST_CONNECT_TIMEOUT):
            _LOGGER.warning(
                "No connection to the MQTT broker %s:%s yet; retrying in the background",
                *client.broker,
            )
        async_register_services(hub)
        diagnostics.async_register(hub)
        for module_name, function_name in _PARTS:
            if module_name.endswith(".discovery") and not config[CONF_DISCOVERY]:
                continue
            setup = getattr(importlib.import_module(module_name), function_name, None)
            if setup is None:  # that part is not in this build
                _LOGGER.debug("%s has no %s", module_name, function_name)
                continue
            data.unloads.append(await setup(hub, config))
    except BaseException:
        await async_unload(hub)
        raise
    return True


async def async_unload(hub: Hub) -> None:
    """Unload the parts, disconnect (publishing the will) and stop the embedded broker."""
    data = hub.data.pop(DATA)
    if data is None:
        return
    from linli.helpers.teardown import async_teardown

    await async_teardown(data.unloads, DOMAIN)
    await data.client.async_stop()
    if data.broker is not None:
        await data.broker.async_stop()


@hookimpl
def linli_integration(core_version: str) -> Integration:
    """Describe the mqtt integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)


@hookimpl
def linli_trigger_platforms() -> dict[str, TriggerPlatform]:
    """Offer the ``mqtt`` trigger platform."""
    from linli_mqtt import trigger

    return {"mqtt": cast("TriggerPlatform", trigger)}
