"""The ``mqtt`` trigger platform (Home Assistant's): fire on a message on a topic.

``topic`` (wildcards allowed; a limited template rendered when attached), ``payload`` (fire
only when the payload, or the ``value_template``'s result, equals it), ``value_template``
(``value`` and ``value_json`` available), ``qos`` and ``encoding`` (``""`` for bytes).
Trigger variables: ``topic``, ``payload``, ``payload_json`` (when the payload is JSON), ``qos``
and ``description``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import orjson
import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.callback import callback
from linli.helpers.trigger import CONF_PLATFORM, TRIGGER_BASE_SCHEMA
from linli.template import Template, TemplateError, template
from linli_mqtt.config import DEFAULT_ENCODING, DOMAIN, QOS_SCHEMA, valid_subscribe_topic

if TYPE_CHECKING:
    from linli.clock import CancelCallback
    from linli.helpers.trigger import TriggerActionType, TriggerInfo
    from linli.hub import Hub
    from linli_mqtt.client import ReceiveMessage

_LOGGER = logging.getLogger(__name__)

CONF_TOPIC: Final = "topic"
CONF_PAYLOAD: Final = "payload"
CONF_VALUE_TEMPLATE: Final = "value_template"
CONF_QOS: Final = "qos"
CONF_ENCODING: Final = "encoding"


def _topic(value: Any) -> Template:
    """A topic filter, or a template that renders to one when the trigger is attached."""
    result = template(value)
    if result.is_static:
        valid_subscribe_topic(result.template)
    return result


TRIGGER_SCHEMA: Final = TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_PLATFORM): DOMAIN,
        vol.Required(CONF_TOPIC): _topic,
        vol.Optional(CONF_PAYLOAD): template,
        vol.Optional(CONF_VALUE_TEMPLATE): template,
        vol.Optional(CONF_ENCODING, default=DEFAULT_ENCODING): vol.Any(cv.string, None),
        vol.Optional(CONF_QOS, default=0): QOS_SCHEMA,
    }
)


def _render_limited(hub: Hub, value: Template, trigger_info: TriggerInfo) -> str:
    value.hub = hub
    return str(value.async_render(trigger_info["variables"], parse_result=False, limited=True))


def _json(payload: str | bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None


async def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerActionType, trigger_info: TriggerInfo
) -> CancelCallback:
    """Subscribe to the topic; call ``action`` for each matching message."""
    from linli_mqtt import async_subscribe

    try:
        topic = valid_subscribe_topic(_render_limited(hub, config[CONF_TOPIC], trigger_info))
        wanted: str | None = None
        if CONF_PAYLOAD in config:
            wanted = _render_limited(hub, config[CONF_PAYLOAD], trigger_info)
    except (TemplateError, vol.Invalid) as err:
        _LOGGER.error("MQTT trigger of %s not attached: %s", trigger_info["name"], err)
        return lambda: None
    value_template: Template | None = config.get(CONF_VALUE_TEMPLATE)
    if value_template is not None:
        value_template.hub = hub
    name = trigger_info["name"]

    @callback
    def on_message(msg: ReceiveMessage) -> None:
        payload = msg.payload
        payload_json = _json(payload)
        if wanted is not None:
            value: Any = payload
            if value_template is not None:
                try:
                    value = value_template.async_render(
                        {"value": payload, "value_json": payload_json}, parse_result=False
                    )
                except TemplateError as err:
                    _LOGGER.warning("MQTT trigger of %s: value_template failed: %s", name, err)
                    return
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            if value != wanted:
                return
        data: dict[str, Any] = {
            "topic": msg.topic,
            "payload": payload,
            "qos": msg.qos,
            "description": f"mqtt topic {msg.topic}",
        }
        if payload_json is not None:
            data["payload_json"] = payload_json
        action(data, None)

    return await async_subscribe(
        hub, topic, on_message, qos=config[CONF_QOS], encoding=config[CONF_ENCODING] or None
    )
