"""Home Assistant MQTT discovery: devices that announce themselves become Linli entities.

A device publishes a retained JSON config on ``<prefix>/<component>/[<node_id>/]<object_id>/config``
(prefix ``homeassistant`` by default; components ``sensor``, ``binary_sensor``, ``switch``,
``lock``, ``cover``, ``button``, ``event``, ``device_tracker``, ``camera`` and ``siren``, or
several at once on ``<prefix>/device/<object_id>/config``) and the hub makes the entity, its
device in the device registry and its entity registry entry. An empty retained payload removes
it. The hub publishes ``<prefix>/status`` ``online`` after subscribing (and after every
reconnection) so devices that listen for it announce themselves again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from linli.hub import HubKey

if TYPE_CHECKING:
    from linli.hub import Hub
    from linli.plugins import ConfigType
    from linli_mqtt.discovery.manager import DiscoveryManager

__all__ = [
    "DEFAULT_PREFIX",
    "async_setup_discovery",
    "discovery_diagnostics",
    "get_discovery",
]

DEFAULT_PREFIX: Final = "homeassistant"
_MANAGER: Final = HubKey["DiscoveryManager"]("mqtt.discovery")


async def async_setup_discovery(hub: Hub, config: ConfigType) -> Callable[[], Awaitable[None]]:
    """Start discovery under ``config["discovery_prefix"]`` unless ``discovery`` is false.

    Returns the coroutine function that stops it (the entities leave the hub; their registry
    entries stay for the next start).
    """
    if not config.get("discovery", True):

        async def nothing_to_unload() -> None:
            return None

        return nothing_to_unload
    from linli_mqtt.discovery.manager import DiscoveryManager

    manager = DiscoveryManager(hub, config.get("discovery_prefix") or DEFAULT_PREFIX)
    hub.data[_MANAGER] = manager
    await manager.async_start()

    async def async_unload() -> None:
        hub.data.pop(_MANAGER)
        await manager.async_stop()

    return async_unload


def get_discovery(hub: Hub) -> DiscoveryManager | None:
    """The hub's discovery manager, or None when discovery is off."""
    return hub.data.get(_MANAGER)


def discovery_diagnostics(hub: Hub) -> dict[str, Any]:
    """Discovery's counters (announced, messages, added, updated, removed, unchanged, errors, each
    rejection reason: invalid_topic, invalid_json, invalid_config, unsupported_component) and
    the discovered entities."""
    manager = get_discovery(hub)
    return {"enabled": False} if manager is None else {"enabled": True, **manager.diagnostics()}
