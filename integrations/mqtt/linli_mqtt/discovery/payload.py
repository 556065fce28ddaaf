"""Discovery topics and payloads, as Home Assistant reads them: pure functions, no I/O.

``<prefix>/<component>/[<node_id>/]<object_id>/config`` carries a JSON object (or nothing, which
removes the entity). Its keys may be abbreviated (``stat_t``), and topics may start or end with
``~``, replaced by the payload's ``~`` value. ``<prefix>/device/<object_id>/config`` is a device
discovery payload: shared options plus ``cmps``, one config per component.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from linli.util.json import json_loads
from linli_mqtt.discovery.abbreviations import (
    ABBREVIATIONS,
    DEVICE_ABBREVIATIONS,
    ORIGIN_ABBREVIATIONS,
)

TOPIC_BASE: Final = "~"
DEVICE_COMPONENT: Final = "device"

# Home Assistant's own pattern: the component a word, node and object ids [a-zA-Z0-9_-].
_TOPIC_MATCHER: Final = re.compile(
    r"(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config"
)

SHARED_OPTIONS: Final = (
    "availability",
    "availability_mode",
    "availability_template",
    "availability_topic",
    "command_topic",
    "payload_available",
    "payload_not_available",
    "state_topic",
)
"""Options of a device discovery payload inherited by every component (Home Assistant's)."""

_COPIED_TO_COMPONENTS: Final = ("device", "origin", "qos", "encoding")


class DiscoveryError(ValueError):
    """A discovery message that cannot be used; ``reason`` is a short counter key."""

    def __init__(self, reason: str, message: str) -> None:
        """Keep the counter key and the message for the log."""
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DiscoveryTopic:
    """The parts of a discovery topic."""

    component: str
    node_id: str | None
    object_id: str

    @property
    def discovery_id(self) -> str:
        """``"<node_id> <object_id>"`` or ``"<object_id>"``, as Home Assistant names it."""
        return f"{self.node_id} {self.object_id}" if self.node_id else self.object_id


def parse_topic(prefix: str, topic: str) -> DiscoveryTopic | None:
    """Return the parts of ``topic`` under ``prefix``, or None when it is no discovery topic."""
    if not topic.startswith(prefix + "/"):
        return None
    match = _TOPIC_MATCHER.fullmatch(topic[len(prefix) + 1 :])
    if match is None:
        return None
    return DiscoveryTopic(match["component"], match["node_id"], match["object_id"])


def decode(payload: str | bytes) -> dict[str, Any] | None:
    """Return the JSON object in ``payload``; None for an empty payload (a removal).

    Raises :class:`DiscoveryError` for anything but UTF-8 JSON holding an object.
    """
    if not payload:
        return None
    if isinstance(payload, bytes):
        try:
            payload = payload.decode()
        except UnicodeDecodeError as err:
            raise DiscoveryError("invalid_json", f"payload is not UTF-8: {err}") from None
    try:
        value = json_loads(payload)
    except ValueError as err:
        raise DiscoveryError("invalid_json", f"payload is not JSON: {err}") from None
    if not isinstance(value, dict):
        raise DiscoveryError("invalid_json", f"payload is JSON {type(value).__name__}, not object")
    return value


def _expand(value: Any, table: Mapping[str, str]) -> Any:
    if not isinstance(value, dict):
        return value
    # A full key wins over its abbreviation when both are given.
    expanded = {table.get(key, key): item for key, item in value.items() if key in table}
    expanded.update({key: item for key, item in value.items() if key not in table})
    return expanded


def expand_abbreviations(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``config`` with Home Assistant's abbreviations expanded (a new dict).

    The payload's keys, its ``device``'s, ``origin``'s, each ``availability`` entry's and,
    for device discovery, each component's (``cmps``) keys.
    """
    result: dict[str, Any] = _expand(dict(config), ABBREVIATIONS)
    if "device" in result:
        result["device"] = _expand(result["device"], DEVICE_ABBREVIATIONS)
    if "origin" in result:
        result["origin"] = _expand(result["origin"], ORIGIN_ABBREVIATIONS)
    availability = result.get("availability")
    if isinstance(availability, list):
        result["availability"] = [_expand(entry, ABBREVIATIONS) for entry in availability]
    elif isinstance(availability, dict):
        result["availability"] = _expand(availability, ABBREVIATIONS)
    components = result.get("components")
    if isinstance(components, dict):
        result["components"] = {
            key: expand_abbreviations(item) if isinstance(item, dict) else item
            for key, item in components.items()
        }
    return result


def _with_base(value: str, base: str) -> str:
    if value.startswith(TOPIC_BASE):
        value = base + value[1:]
    if value.endswith(TOPIC_BASE):
        value = value[:-1] + base
    return value


def replace_topic_base(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``config`` with ``~`` at the start or end of every ``*topic`` value replaced."""
    result = dict(config)
    base = result.pop(TOPIC_BASE, None)
    if not isinstance(base, str):
        return result
    for key, value in result.items():
        if key.endswith("topic") and isinstance(value, str) and value:
            result[key] = _with_base(value, base)
    availability = result.get("availability")
    if isinstance(availability, list):
        result["availability"] = [
            {**entry, "topic": _with_base(entry["topic"], base)}
            if isinstance(entry, dict) and isinstance(entry.get("topic"), str) and entry["topic"]
            else entry
            for entry in availability
        ]
    return result


def prepare(config: Mapping[str, Any]) -> dict[str, Any]:
    """Expand abbreviations, then the ``~`` base topic (as Home Assistant does, in this order)."""
    return replace_topic_base(expand_abbreviations(config))


def split_device_config(config: Mapping[str, Any]) -> dict[str, dict[str, Any] | None]:
    """Split a device discovery config (abbreviations expanded, ``~`` not yet) per component.

    Each component gets the device, origin, qos, encoding and the shared options (unless it
    sets them itself) and its ``~`` applied. A component holding only its ``platform`` maps
    to None: Home Assistant's way of removing one component of a device.
    """
    components = config.get("components")
    if not isinstance(components, dict) or not components:
        raise DiscoveryError("invalid_config", "a device discovery payload needs 'cmps'")
    if not isinstance(config.get("device"), dict):
        raise DiscoveryError("invalid_config", "a device discovery payload needs 'dev'")
    base = config.get(TOPIC_BASE)
    inherited = {
        key: config[key] for key in (*_COPIED_TO_COMPONENTS, *SHARED_OPTIONS) if key in config
    }
    result: dict[str, dict[str, Any] | None] = {}
    for component_id, item in components.items():
        if not isinstance(item, dict) or not isinstance(item.get("platform"), str):
            raise DiscoveryError(
                "invalid_config", f"component {component_id!r} needs a platform ('p')"
            )
        if set(item) == {"platform"}:
            result[str(component_id)] = None
            continue
        merged = {**inherited, **item}
        if base is not None and TOPIC_BASE not in merged:
            merged[TOPIC_BASE] = base
        result[str(component_id)] = replace_topic_base(merged)
    return result
