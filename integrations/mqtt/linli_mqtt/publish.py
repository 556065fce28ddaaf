"""The ``mqtt.publish`` service (Home Assistant's fields)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import orjson
import voluptuous as vol

import linli.helpers.config_validation as cv
from linli import ServiceValidationError
from linli.template import Template, TemplateError, template
from linli_mqtt.client import MqttError
from linli_mqtt.config import DOMAIN, QOS_SCHEMA, valid_publish_topic

if TYPE_CHECKING:
    from linli import Hub, ServiceCall

_LOGGER = logging.getLogger(__name__)

SERVICE_PUBLISH: Final = "publish"


def _payload(value: Any) -> str | None:
    """A payload; a mapping or list (a rendered ``tojson`` parsed back) is sent as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return cv.string(value)


def _has_topic(value: dict[str, Any]) -> dict[str, Any]:
    if "topic" not in value and "topic_template" not in value:
        raise vol.Invalid("one of topic or topic_template is required")
    return value


PUBLISH_SCHEMA: Final = vol.Schema(
    vol.All(
        vol.Schema(
            {
                vol.Exclusive("topic", "topic"): valid_publish_topic,
                vol.Exclusive("topic_template", "topic"): template,
                vol.Exclusive("payload", "payload"): _payload,
                vol.Exclusive("payload_template", "payload"): template,
                vol.Optional("evaluate_payload", default=False): cv.boolean,
                vol.Optional("qos", default=0): QOS_SCHEMA,
                vol.Optional("retain", default=False): cv.boolean,
            }
        ),
        _has_topic,
    )
)
"""``topic`` (or ``topic_template``), ``payload`` (or ``payload_template``), ``qos``,
``retain``; ``evaluate_payload`` turns a payload written as a bytes literal (``b'…'``) into
those bytes, as in Home Assistant."""


def _evaluate_bytes(payload: str) -> str | bytes:
    """``b'\\x01\\x02'`` → the bytes it spells; anything else stays as it is."""
    if payload.startswith(("b'", 'b"')) and payload.endswith(payload[1]):
        try:
            return payload[2:-1].encode("latin-1").decode("unicode_escape").encode("latin-1")
        except (UnicodeError, ValueError):
            return payload
    return payload


def _render(hub: Hub, value: Template, what: str) -> str:
    value.hub = hub
    try:
        return str(value.async_render(parse_result=False))
    except TemplateError as err:
        raise ServiceValidationError(f"cannot render the {what} template: {err}") from err


async def _async_handle_publish(hub: Hub, call: ServiceCall) -> None:
    data = call.data
    if "topic" in data:
        topic: str = data["topic"]
    else:
        try:
            topic = valid_publish_topic(_render(hub, data["topic_template"], "topic"))
        except vol.Invalid as err:
            raise ServiceValidationError(f"invalid topic from topic_template: {err}") from err
    payload: str | bytes
    if "payload_template" in data:
        payload = _render(hub, data["payload_template"], "payload")
    else:
        payload = data.get("payload") or ""
    if data["evaluate_payload"] and isinstance(payload, str):
        payload = _evaluate_bytes(payload)
    from linli_mqtt import async_publish

    try:
        await async_publish(hub, topic, payload, data["qos"], data["retain"])
    except MqttError as err:
        raise ServiceValidationError(str(err)) from err


def async_register_services(hub: Hub) -> None:
    """Register ``mqtt.publish``."""

    async def handle_publish(call: ServiceCall) -> None:
        await _async_handle_publish(hub, call)

    hub.services.async_register(
        DOMAIN,
        SERVICE_PUBLISH,
        handle_publish,
        schema=PUBLISH_SCHEMA,
        description="Publish a message to an MQTT topic (`topic`, `payload` or "
        "`payload_template`, `qos`, `retain`).",
    )
