"""The few calls discovery makes on the MQTT connection (``linli_mqtt``'s public API).

Imported lazily: ``linli_mqtt``'s package root sets discovery up, so a module-level import of
it from here would be circular.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from linli_mqtt.client import MessageCallback, MqttError, ReceiveMessage

if TYPE_CHECKING:
    from linli.hub import Hub

__all__ = [
    "MessageCallback",
    "ReceiveMessage",
    "async_publish",
    "async_subscribe",
    "is_connected",
]


async def async_subscribe(
    hub: Hub, topic: str, callback: MessageCallback, qos: int, encoding: str | None
) -> Callable[[], None]:
    """Subscribe ``callback`` to ``topic``; return the unsubscribe callable."""
    from linli_mqtt import async_subscribe as subscribe

    return await subscribe(hub, topic, callback, qos=qos, encoding=encoding)


async def async_publish(
    hub: Hub, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False
) -> None:
    """Publish ``payload`` on ``topic``."""
    from linli_mqtt import async_publish as publish

    await publish(hub, topic, payload, qos=qos, retain=retain)


def is_connected(hub: Hub) -> bool:
    """Whether the hub's MQTT client is connected to its broker."""
    from linli_mqtt import get_mqtt

    try:
        return get_mqtt(hub).connected
    except MqttError:
        return False
