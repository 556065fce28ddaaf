"""The ``mqtt:`` section of configuration.yaml (Home Assistant's keys) and its defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv

DOMAIN: Final = "mqtt"

CONF_BROKER: Final = "broker"
CONF_PORT: Final = "port"
CONF_USERNAME: Final = "username"
CONF_PASSWORD: Final = "password"
CONF_CLIENT_ID: Final = "client_id"
CONF_KEEPALIVE: Final = "keepalive"
CONF_TLS: Final = "tls"
CONF_DISCOVERY: Final = "discovery"
CONF_DISCOVERY_PREFIX: Final = "discovery_prefix"
CONF_BIRTH_MESSAGE: Final = "birth_message"
CONF_WILL_MESSAGE: Final = "will_message"
CONF_EMBEDDED_PORT: Final = "embedded_port"
CONF_DEVICES: Final = "devices"

DEFAULT_PORT: Final = 1883
DEFAULT_KEEPALIVE: Final = 60
DEFAULT_DISCOVERY_PREFIX: Final = "homeassistant"
DEFAULT_STATUS_TOPIC: Final = "linli/status"
DEFAULT_ENCODING: Final = "utf-8"

EVENT_MQTT_CONNECTION_CHANGED: Final = "mqtt_connection_changed"
"""Fired with ``{"connected": bool}`` whenever the broker connection comes up or goes down."""


def valid_subscribe_topic(value: Any) -> str:
    """A topic filter: UTF-8, not empty, ``+`` only as a whole level, ``#`` only last."""
    topic = valid_publish_topic(value, wildcards=True)
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if "+" in level and level != "+":
            raise vol.Invalid(f"'+' must be a whole topic level: {topic!r}")
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise vol.Invalid(f"'#' must be the last topic level: {topic!r}")
    return topic


def valid_publish_topic(value: Any, wildcards: bool = False) -> str:
    """A topic to publish to: a non-empty string without wildcards or NUL, ≤ 65535 bytes."""
    topic = cv.string(value)
    if not topic:
        raise vol.Invalid("a topic must not be empty")
    if len(topic.encode("utf-8")) > 65535:
        raise vol.Invalid("a topic must be at most 65535 bytes long")
    if "\0" in topic:
        raise vol.Invalid("a topic must not contain NUL")
    if not wildcards and ("+" in topic or "#" in topic):
        raise vol.Invalid(f"wildcards are not allowed when publishing: {topic!r}")
    return topic


QOS_SCHEMA: Final = vol.All(vol.Coerce(int), vol.In((0, 1, 2)))


def _message_schema(payload: str) -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional("topic", default=DEFAULT_STATUS_TOPIC): valid_publish_topic,
            vol.Optional("payload", default=payload): cv.string,
            vol.Optional("qos", default=0): QOS_SCHEMA,
            vol.Optional("retain", default=False): cv.boolean,
        }
    )


def _message_or_off(payload: str) -> Callable[[Any], dict[str, Any] | None]:
    """A birth/will message; an empty mapping or ``null`` turns it off (as in HA)."""
    schema = _message_schema(payload)

    def validate(value: Any) -> dict[str, Any] | None:
        if value is None or value == {}:
            return None
        result: dict[str, Any] = schema(value)
        return result

    return validate


TLS_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("ca_certs"): cv.string,
        vol.Optional("certfile"): cv.string,
        vol.Optional("keyfile"): cv.string,
        vol.Optional("insecure", default=False): cv.boolean,
    }
)

DEVICES_SCHEMA: Final = vol.Schema(
    {
        vol.Optional("topic_prefix", default="linli"): cv.string,
        vol.Optional("max_payload", default=65536): vol.All(vol.Coerce(int), vol.Range(min=1)),
    },
    extra=vol.ALLOW_EXTRA,  # part of the devices module's own settings (area mapping …)
)

_PORT: Final = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))

_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_BROKER): cv.string,
        vol.Optional(CONF_PORT, default=DEFAULT_PORT): _PORT,
        vol.Optional(CONF_USERNAME): cv.string,
        vol.Optional(CONF_PASSWORD): cv.string,
        vol.Optional(CONF_CLIENT_ID): cv.string,
        vol.Optional(CONF_KEEPALIVE, default=DEFAULT_KEEPALIVE): vol.All(
            vol.Coerce(int), vol.Range(min=5, max=3600)
        ),
        vol.Optional(CONF_TLS): vol.Any(None, TLS_SCHEMA),
        vol.Optional(CONF_DISCOVERY, default=True): cv.boolean,
        vol.Optional(CONF_DISCOVERY_PREFIX, default=DEFAULT_DISCOVERY_PREFIX): valid_publish_topic,
        vol.Optional(CONF_BIRTH_MESSAGE, default={"payload": "online"}): _message_or_off("online"),
        vol.Optional(CONF_WILL_MESSAGE, default={"payload": "offline"}): _message_or_off("offline"),
        vol.Optional(CONF_EMBEDDED_PORT, default=DEFAULT_PORT): _PORT,
        vol.Optional(CONF_DEVICES, default={}): DEVICES_SCHEMA,
    }
)


def CONFIG_SCHEMA(value: Any) -> dict[str, Any]:  # noqa: N802 - the schema's conventional name
    """Validate ``mqtt:`` (an empty section means every default).

    Without ``broker`` the hub starts an embedded broker on 127.0.0.1:``embedded_port``.
    """
    result: dict[str, Any] = _SCHEMA(value or {})
    return result
