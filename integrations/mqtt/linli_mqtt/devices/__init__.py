"""Linli's device topics: ``<prefix>/<kind>/<device_id>/{event,state,command,availability}``.

Convention v1 (see ``integrations/mqtt/TOPICS.md``): JSON object payloads with ``"v": 1``,
checked against a JSON schema per kind and channel; rejected messages are counted by reason
(:func:`devices_diagnostics`) and logged at most once a minute per device and reason.
Capability integrations add their kinds with :func:`async_register_device_kind` and send
commands with :func:`async_send_command`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from linli import ConfigType, Hub, callback
from linli_mqtt.devices.builtin import BUILTIN_KINDS
from linli_mqtt.devices.entities import (
    BinarySensorField,
    EventField,
    SensorField,
    field_entities,
)
from linli_mqtt.devices.model import (
    CHANNEL_AVAILABILITY,
    CHANNEL_COMMAND,
    CHANNEL_EVENT,
    CHANNEL_STATE,
    CONVENTION_VERSION,
    DeviceContext,
    DeviceKind,
    DeviceMessage,
)
from linli_mqtt.devices.runtime import DATA, EVENT_DEVICE_EVENT, IDENTIFIER_DOMAIN, DeviceTopics

__all__ = [
    "CHANNEL_AVAILABILITY",
    "CHANNEL_COMMAND",
    "CHANNEL_EVENT",
    "CHANNEL_STATE",
    "CONVENTION_VERSION",
    "DEVICES_SCHEMA",
    "EVENT_DEVICE_EVENT",
    "IDENTIFIER_DOMAIN",
    "BinarySensorField",
    "DeviceContext",
    "DeviceKind",
    "DeviceMessage",
    "EventField",
    "SensorField",
    "async_register_device_kind",
    "async_send_command",
    "async_setup_devices",
    "devices_diagnostics",
    "field_entities",
]

DEFAULT_TOPIC_PREFIX = "linli"
DEFAULT_MAX_PAYLOAD = 65536


def _topic_prefix(value: Any) -> str:
    prefix = vol.All(str, vol.Length(min=1, max=200))(value).strip("/")
    if not prefix or any(char in prefix for char in "+#\0") or "//" in prefix:
        raise vol.Invalid(f"invalid topic prefix {value!r}: no wildcards or empty levels")
    return str(prefix)


DEVICES_SCHEMA = vol.Schema(
    {
        vol.Optional("topic_prefix", default=DEFAULT_TOPIC_PREFIX): _topic_prefix,
        vol.Optional("max_payload", default=DEFAULT_MAX_PAYLOAD): vol.All(
            vol.Coerce(int), vol.Range(min=64, max=16 * 1024 * 1024)
        ),
        vol.Optional("areas", default=dict): {str: str},
    }
)
"""The ``mqtt: devices:`` section: ``topic_prefix`` (``linli``), ``max_payload`` in bytes
(65536), ``areas``: ``{"<kind>/<device_id>": area_id}`` placing devices (wins over the
``area_id`` a device sends)."""


def _topics(hub: Hub) -> DeviceTopics:
    topics = hub.data.get(DATA)
    if topics is None:
        topics = hub.data[DATA] = DeviceTopics(hub)
    return topics


@callback
def async_register_device_kind(hub: Hub, kind: DeviceKind) -> Callable[[], None]:
    """Accept ``kind`` on the device topics; the returned callable removes it again.

    Raises ValueError when the kind is registered already or a schema is not valid.
    """
    return _topics(hub).register_kind(kind)


async def async_send_command(
    hub: Hub, kind: str, device_id: str, payload: Mapping[str, Any], qos: int = 1
) -> None:
    """Publish ``payload`` (``"v": 1`` added) to ``<prefix>/<kind>/<device_id>/command``.

    Raises :class:`linli.ServiceValidationError` for an unknown kind, a bad device id or a
    payload the kind's ``command`` schema (or the envelope) refuses.
    """
    await _topics(hub).async_send_command(kind, device_id, payload, qos)


def devices_diagnostics(hub: Hub) -> dict[str, Any]:
    """Counters of the device topics: ``received``, ``accepted``, ``rejected`` by reason…"""
    topics = hub.data.get(DATA)
    if topics is None:
        return {}
    return topics.diagnostics()


async def async_setup_devices(hub: Hub, config: ConfigType) -> Callable[[], None]:
    """Register the built-in kinds and subscribe to ``<prefix>/+/+/+``; returns the unload.

    ``config`` is the ``mqtt:`` section; its ``devices`` key is read (:data:`DEVICES_SCHEMA`).
    The unload callable unsubscribes, removes the built-in kinds and the entities made.
    """
    options = DEVICES_SCHEMA(dict(config.get("devices") or {}))
    topics = _topics(hub)
    unregister = [topics.register_kind(kind) for kind in BUILTIN_KINDS]
    try:
        await topics.async_start(options["topic_prefix"], options["max_payload"], options["areas"])
    except BaseException:
        for remove in unregister:
            remove()
        raise

    @callback
    def unload() -> None:
        topics.stop()
        for remove in unregister:
            remove()
        if hub.data.get(DATA) is topics:
            hub.data.pop(DATA)

    return unload
