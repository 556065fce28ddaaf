"""Configuration schemas of the discovered components, with Home Assistant's keys and defaults.

Each schema takes an expanded payload (see :mod:`linli_mqtt.discovery.payload`) and returns the
validated config; keys a component does not use are dropped, as in Home Assistant. Templates
come back compiled (:class:`linli.template.Template`, without a hub until the entity attaches
it). ``availability_topic`` and its payloads are folded into the ``availability`` list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import voluptuous as vol

from linli.helpers import config_validation as cv
from linli.template import template
from linli_mqtt.discovery.availability import MODES
from linli_mqtt.discovery.payload import DiscoveryError

SUPPORTED_COMPONENTS: Final = (
    "binary_sensor",
    "button",
    "camera",
    "cover",
    "device_tracker",
    "event",
    "lock",
    "sensor",
    "siren",
    "switch",
)

MAX_TOPIC_BYTES: Final = 65535


def _topic(value: Any, *, wildcards: bool) -> str:
    topic = cv.string(value)
    if not topic:
        raise vol.Invalid("a topic must not be empty")
    if len(topic.encode()) > MAX_TOPIC_BYTES:
        raise vol.Invalid("a topic must be at most 65535 bytes")
    if "\0" in topic:
        raise vol.Invalid("a topic must not contain NUL")
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if not wildcards and ("+" in level or "#" in level):
            raise vol.Invalid(f"wildcards are not allowed in a publish topic: {topic!r}")
        if "+" in level and level != "+":
            raise vol.Invalid(f"'+' must fill a whole topic level: {topic!r}")
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise vol.Invalid(f"'#' must be the whole last topic level: {topic!r}")
    return topic


def subscribe_topic(value: Any) -> str:
    """Voluptuous validator: a topic to subscribe to (``+`` and ``#`` allowed)."""
    return _topic(value, wildcards=True)


def publish_topic(value: Any) -> str:
    """Voluptuous validator: a topic to publish to (no wildcards)."""
    return _topic(value, wildcards=False)


def _pair(value: Any) -> tuple[str, str]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise vol.Invalid(f"a connection is a [type, id] pair, not {value!r}")
    return (cv.string(value[0]), cv.string(value[1]))


def _identifiers_or_connections(value: dict[str, Any]) -> dict[str, Any]:
    if not value["identifiers"] and not value["connections"]:
        raise vol.Invalid("a device needs 'identifiers' or 'connections'")
    return value


DEVICE_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Optional("identifiers", default=list): vol.All(cv.ensure_list, [cv.string]),
            vol.Optional("connections", default=list): [_pair],
            vol.Optional("name"): vol.Any(None, cv.string),
            vol.Optional("manufacturer"): cv.string,
            vol.Optional("model"): cv.string,
            vol.Optional("model_id"): cv.string,
            vol.Optional("sw_version"): cv.string,
            vol.Optional("hw_version"): cv.string,
            vol.Optional("serial_number"): cv.string,
            vol.Optional("suggested_area"): cv.string,
            vol.Optional("via_device"): cv.string,
            vol.Optional("configuration_url"): cv.string,
        },
        extra=vol.REMOVE_EXTRA,
    ),
    _identifiers_or_connections,
)

ORIGIN_SCHEMA: Final = vol.Schema(
    {
        vol.Required("name"): cv.string,
        vol.Optional("sw_version"): cv.string,
        vol.Optional("support_url"): cv.string,
    },
    extra=vol.REMOVE_EXTRA,
)

AVAILABILITY_ENTRY_SCHEMA: Final = vol.Schema(
    {
        vol.Required("topic"): subscribe_topic,
        vol.Optional("payload_available", default="online"): cv.string,
        vol.Optional("payload_not_available", default="offline"): cv.string,
        vol.Optional("value_template"): template,
    },
    extra=vol.REMOVE_EXTRA,
)

_BASE: Final[dict[Any, Any]] = {
    vol.Exclusive("availability_topic", "availability"): subscribe_topic,
    vol.Exclusive("availability", "availability"): vol.All(
        cv.ensure_list, [AVAILABILITY_ENTRY_SCHEMA]
    ),
    vol.Optional("availability_template"): template,
    vol.Optional("payload_available", default="online"): cv.string,
    vol.Optional("payload_not_available", default="offline"): cv.string,
    vol.Optional("availability_mode", default="latest"): vol.In(MODES),
    vol.Optional("device"): DEVICE_SCHEMA,
    vol.Optional("origin"): ORIGIN_SCHEMA,
    vol.Optional("enabled_by_default", default=True): cv.boolean,
    vol.Optional("entity_category"): vol.Any(None, vol.In(("config", "diagnostic"))),
    vol.Optional("entity_picture"): cv.string,
    vol.Optional("icon"): cv.string,
    vol.Optional("object_id"): cv.string,
    vol.Optional("default_entity_id"): cv.string,
    vol.Optional("unique_id"): cv.string,
    vol.Optional("json_attributes_topic"): subscribe_topic,
    vol.Optional("json_attributes_template"): template,
    vol.Optional("qos", default=0): vol.All(vol.Coerce(int), vol.In((0, 1, 2))),
    vol.Optional("encoding", default="utf-8"): vol.Any(None, cv.string),
    vol.Optional("device_class"): vol.Any(None, cv.string),
}

_RETAIN_OPTIMISTIC: Final[dict[Any, Any]] = {
    vol.Optional("retain", default=False): cv.boolean,
    vol.Optional("optimistic", default=False): cv.boolean,
}


def _name(default: str | None) -> dict[Any, Any]:
    return {vol.Optional("name", default=default): vol.Any(None, cv.string)}


def _requires(key: str, needed: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def check(value: dict[str, Any]) -> dict[str, Any]:
        if key in value and needed not in value:
            raise vol.Invalid(f"'{key}' needs '{needed}'")
        return value

    return check


def _schema(*parts: Mapping[Any, Any], checks: tuple[Callable[..., Any], ...] = ()) -> Any:
    merged: dict[Any, Any] = {}
    for part in parts:
        merged.update(part)
    return vol.All(vol.Schema(merged, extra=vol.REMOVE_EXTRA), *checks)


SENSOR_SCHEMA: Final = _schema(
    _BASE,
    _name("MQTT Sensor"),
    {
        vol.Required("state_topic"): subscribe_topic,
        vol.Optional("value_template"): template,
        vol.Optional("unit_of_measurement"): vol.Any(None, cv.string),
        vol.Optional("state_class"): vol.Any(
            None, vol.In(("measurement", "measurement_angle", "total", "total_increasing"))
        ),
        vol.Optional("expire_after"): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("force_update", default=False): cv.boolean,
        vol.Optional("suggested_display_precision"): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("options"): [cv.string],
    },
)

BINARY_SENSOR_SCHEMA: Final = _schema(
    _BASE,
    _name("MQTT Binary sensor"),
    {
        vol.Required("state_topic"): subscribe_topic,
        vol.Optional("value_template"): template,
        vol.Optional("payload_on", default="ON"): cv.string,
        vol.Optional("payload_off", default="OFF"): cv.string,
        vol.Optional("off_delay"): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("expire_after"): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("force_update", default=False): cv.boolean,
    },
)

SWITCH_SCHEMA: Final = _schema(
    _BASE,
    _RETAIN_OPTIMISTIC,
    _name("MQTT Switch"),
    {
        vol.Required("command_topic"): publish_topic,
        vol.Optional("command_template"): template,
        vol.Optional("state_topic"): subscribe_topic,
        vol.Optional("value_template"): template,
        vol.Optional("payload_on", default="ON"): cv.string,
        vol.Optional("payload_off", default="OFF"): cv.string,
        vol.Optional("state_on"): cv.string,
        vol.Optional("state_off"): cv.string,
    },
)

LOCK_SCHEMA: Final = _schema(
    _BASE,
    _RETAIN_OPTIMISTIC,
    _name("MQTT Lock"),
    {
        vol.Required("command_topic"): publish_topic,
        vol.Optional("command_template", default="{{ value }}"): template,
        vol.Optional("state_topic"): subscribe_topic,
        vol.Optional("value_template"): template,
        vol.Optional("code_format"): cv.string,
        vol.Optional("payload_lock", default="LOCK"): cv.string,
        vol.Optional("payload_unlock", default="UNLOCK"): cv.string,
        vol.Optional("payload_open"): cv.string,
        vol.Optional("payload_reset", default="None"): cv.string,
        vol.Optional("state_jammed", default="JAMMED"): cv.string,
        vol.Optional("state_locked", default="LOCKED"): cv.string,
        vol.Optional("state_locking", default="LOCKING"): cv.string,
        vol.Optional("state_open", default="OPEN"): cv.string,
        vol.Optional("state_opening", default="OPENING"): cv.string,
        vol.Optional("state_unlocked", default="UNLOCKED"): cv.string,
        vol.Optional("state_unlocking", default="UNLOCKING"): cv.string,
    },
)

COVER_SCHEMA: Final = _schema(
    _BASE,
    _RETAIN_OPTIMISTIC,
    _name("MQTT Cover"),
    {
        vol.Optional("command_topic"): publish_topic,
        vol.Optional("state_topic"): subscribe_topic,
        vol.Optional("value_template"): template,
        vol.Optional("position_topic"): subscribe_topic,
        vol.Optional("position_template"): template,
        vol.Optional("set_position_topic"): publish_topic,
        vol.Optional("set_position_template"): template,
        vol.Optional("payload_open", default="OPEN"): vol.Any(None, cv.string),
        vol.Optional("payload_close", default="CLOSE"): vol.Any(None, cv.string),
        vol.Optional("payload_stop", default="STOP"): vol.Any(None, cv.string),
        vol.Optional("state_open", default="open"): cv.string,
        vol.Optional("state_opening", default="opening"): cv.string,
        vol.Optional("state_closed", default="closed"): cv.string,
        vol.Optional("state_closing", default="closing"): cv.string,
        vol.Optional("state_stopped", default="stopped"): cv.string,
        vol.Optional("position_open", default=100): vol.Coerce(int),
        vol.Optional("position_closed", default=0): vol.Coerce(int),
    },
    checks=(
        _requires("set_position_template", "set_position_topic"),
        _requires("position_template", "position_topic"),
        _requires("value_template", "state_topic"),
    ),
)

BUTTON_SCHEMA: Final = _schema(
    _BASE,
    _name("MQTT Button"),
    {
        vol.Required("command_topic"): publish_topic,
        vol.Optional("command_template"): template,
        vol.Optional("payload_press", default="PRESS"): cv.string,
        vol.Optional("retain", default=False): cv.boolean,
    },
)


def _event_types(value: Any) -> list[str]:
    types = [cv.string(item) for item in cv.ensure_list(value)]
    if not types:
        raise vol.Invalid("'event_types' must list at least one event type")
    return types


EVENT_SCHEMA: Final = _schema(
    _BASE,
    _name("MQTT Event"),
    {
        vol.Required("state_topic"): subscribe_topic,
        vol.Required("event_types"): _event_types,
        vol.Optional("value_template"): template,
    },
)

DEVICE_TRACKER_SCHEMA: Final = _schema(
    _BASE,
    _name(None),
    {
        vol.Optional("state_topic"): subscribe_topic,
        vol.Optional("value_template"): template,
        vol.Optional("payload_home", default="home"): cv.string,
        vol.Optional("payload_not_home", default="not_home"): cv.string,
        vol.Optional("payload_reset", default="None"): cv.string,
        vol.Optional("source_type", default="gps"): vol.In(
            ("gps", "router", "bluetooth", "bluetooth_le")
        ),
    },
)

CAMERA_SCHEMA: Final = _schema(
    _BASE,
    _name("MQTT Camera"),
    {
        vol.Required("topic"): subscribe_topic,
        vol.Optional("image_encoding"): vol.Any(None, "b64"),
    },
)

SIREN_SCHEMA: Final = _schema(
    _BASE,
    _RETAIN_OPTIMISTIC,
    _name("MQTT Siren"),
    {
        vol.Required("command_topic"): publish_topic,
        vol.Optional("command_template"): template,
        vol.Optional("command_off_template"): template,
        vol.Optional("state_topic"): subscribe_topic,
        vol.Optional("state_value_template"): template,
        vol.Optional("payload_on", default="ON"): cv.string,
        vol.Optional("payload_off", default="OFF"): cv.string,
        vol.Optional("state_on"): cv.string,
        vol.Optional("state_off"): cv.string,
        vol.Optional("available_tones"): [vol.Any(vol.Coerce(int), cv.string)],
        vol.Optional("support_duration", default=True): cv.boolean,
        vol.Optional("support_volume_set", default=True): cv.boolean,
    },
)

SCHEMAS: Final[dict[str, Any]] = {
    "binary_sensor": BINARY_SENSOR_SCHEMA,
    "button": BUTTON_SCHEMA,
    "camera": CAMERA_SCHEMA,
    "cover": COVER_SCHEMA,
    "device_tracker": DEVICE_TRACKER_SCHEMA,
    "event": EVENT_SCHEMA,
    "lock": LOCK_SCHEMA,
    "sensor": SENSOR_SCHEMA,
    "siren": SIREN_SCHEMA,
    "switch": SWITCH_SCHEMA,
}


def _fold_availability(config: dict[str, Any]) -> None:
    topic = config.pop("availability_topic", None)
    template = config.pop("availability_template", None)
    available = config.pop("payload_available")
    not_available = config.pop("payload_not_available")
    if topic is not None:
        entry: dict[str, Any] = {
            "topic": topic,
            "payload_available": available,
            "payload_not_available": not_available,
        }
        if template is not None:
            entry["value_template"] = template
        config["availability"] = [entry]
    else:
        config.setdefault("availability", [])


def validate(component: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the validated config of ``component``; raise :class:`DiscoveryError` if invalid."""
    schema = SCHEMAS.get(component)
    if schema is None:
        raise DiscoveryError("unsupported_component", f"component {component!r} is not supported")
    try:
        result: dict[str, Any] = schema(dict(config))
    except vol.Invalid as err:
        raise DiscoveryError("invalid_config", _describe(err)) from None
    _fold_availability(result)
    return result


def _describe(err: vol.Invalid) -> str:
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    parts = []
    for item in errors:
        where = ".".join(str(part) for part in item.path)
        parts.append(f"{item.msg} at '{where}'" if where else item.msg)
    return "; ".join(parts)
