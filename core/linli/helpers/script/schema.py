"""Validate action configs (Home Assistant's script syntax, plus ``alert``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.helpers.condition import (
    CONDITION_SCHEMA,
    is_template_string,
    template,
    template_complex,
    time_period_template,
    valid_conditions,
)

__all__ = [
    "ACTION_SCHEMA",
    "SCRIPT_MODE_SCHEMA",
    "SCRIPT_SCHEMA",
    "ScriptMode",
    "determine_action",
    "valid_actions",
]


class ScriptMode(StrEnum):
    """What a script does when it is started while a run is going on."""

    single = "single"
    """Refuse the new run ("Already running")."""
    restart = "restart"
    """Stop the running run, then start the new one."""
    queued = "queued"
    """Start the new run when the ones before it have finished."""
    parallel = "parallel"
    """Start the new run beside the others."""


DEFAULT_MAX_RUNS: Final = 10

CONF_ALIAS: Final = "alias"
CONF_ENABLED: Final = "enabled"
CONF_CONTINUE_ON_ERROR: Final = "continue_on_error"
CONF_ACTION: Final = "action"
CONF_SERVICE: Final = "service"
CONF_SERVICE_TEMPLATE: Final = "service_template"
CONF_DATA: Final = "data"
CONF_DATA_TEMPLATE: Final = "data_template"
CONF_TARGET: Final = "target"
CONF_ENTITY_ID: Final = "entity_id"
CONF_AREA_ID: Final = "area_id"
CONF_DEVICE_ID: Final = "device_id"
CONF_RESPONSE_VARIABLE: Final = "response_variable"
CONF_METADATA: Final = "metadata"
CONF_DELAY: Final = "delay"
CONF_WAIT_TEMPLATE: Final = "wait_template"
CONF_WAIT_FOR_TRIGGER: Final = "wait_for_trigger"
CONF_TIMEOUT: Final = "timeout"
CONF_CONTINUE_ON_TIMEOUT: Final = "continue_on_timeout"
CONF_CHOOSE: Final = "choose"
CONF_CONDITIONS: Final = "conditions"
CONF_CONDITION: Final = "condition"
CONF_SEQUENCE: Final = "sequence"
CONF_DEFAULT: Final = "default"
CONF_IF: Final = "if"
CONF_THEN: Final = "then"
CONF_ELSE: Final = "else"
CONF_REPEAT: Final = "repeat"
CONF_COUNT: Final = "count"
CONF_WHILE: Final = "while"
CONF_UNTIL: Final = "until"
CONF_FOR_EACH: Final = "for_each"
CONF_EVENT: Final = "event"
CONF_EVENT_DATA: Final = "event_data"
CONF_EVENT_DATA_TEMPLATE: Final = "event_data_template"
CONF_VARIABLES: Final = "variables"
CONF_STOP: Final = "stop"
CONF_ERROR: Final = "error"
CONF_PARALLEL: Final = "parallel"
CONF_ALERT: Final = "alert"
CONF_MODE: Final = "mode"
CONF_MAX: Final = "max"

_SERVICE_NAME: Final = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")


def _service_name(value: Any) -> Any:
    """``domain.service``, or a template rendering to one."""
    if is_template_string(value):
        return template(value)
    text = cv.string(value).strip().lower()
    if not _SERVICE_NAME.match(text):
        raise vol.Invalid(f"invalid action {text!r}: expected 'domain.service'")
    return text


def _complex(value: Any) -> Any:
    """A mapping whose strings may be templates."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping")
    return template_complex(value)


def _ids_or_template(validate: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A list of ids (validated by ``validate``), a template, or a list with templates."""

    def validator(value: Any) -> Any:
        if is_template_string(value):
            return template(value)
        if isinstance(value, list) and any(is_template_string(item) for item in value):
            return template_complex(value)
        return validate(value)

    return validator


def _strings(value: Any) -> list[str]:
    return [cv.string(item) for item in cv.ensure_list(value)]


TARGET_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_ENTITY_ID): _ids_or_template(cv.entity_ids),
        vol.Optional(CONF_AREA_ID): _ids_or_template(_strings),
        vol.Optional(CONF_DEVICE_ID): _ids_or_template(_strings),
    }
)

_BASE: Final[dict[Any, Any]] = {
    vol.Optional(CONF_ALIAS): cv.string,
    vol.Optional(CONF_ENABLED): cv.boolean,
    vol.Optional(CONF_CONTINUE_ON_ERROR): cv.boolean,
}


def _legacy_service(value: dict[str, Any]) -> dict[str, Any]:
    """Accept ``service:``/``service_template:`` and a top-level ``entity_id`` (older YAML)."""
    value = dict(value)
    for old in (CONF_SERVICE, CONF_SERVICE_TEMPLATE):
        if old in value:
            if CONF_ACTION in value:
                raise vol.Invalid(f"use either 'action' or '{old}', not both", path=[old])
            value[CONF_ACTION] = value.pop(old)
    if CONF_ENTITY_ID in value:
        target = dict(value.get(CONF_TARGET) or {})
        target.setdefault(CONF_ENTITY_ID, value.pop(CONF_ENTITY_ID))
        value[CONF_TARGET] = target
    return value


SERVICE_SCHEMA: Final = vol.All(
    _legacy_service,
    vol.Schema(
        {
            **_BASE,
            vol.Required(CONF_ACTION): _service_name,
            vol.Optional(CONF_DATA): _complex,
            vol.Optional(CONF_DATA_TEMPLATE): _complex,
            vol.Optional(CONF_TARGET): TARGET_SCHEMA,
            vol.Optional(CONF_RESPONSE_VARIABLE): cv.string,
            vol.Optional(CONF_METADATA): dict,
        }
    ),
)

DELAY_SCHEMA: Final = vol.Schema({**_BASE, vol.Required(CONF_DELAY): time_period_template})

WAIT_TEMPLATE_SCHEMA: Final = vol.Schema(
    {
        **_BASE,
        vol.Required(CONF_WAIT_TEMPLATE): template,
        vol.Optional(CONF_TIMEOUT): time_period_template,
        vol.Optional(CONF_CONTINUE_ON_TIMEOUT): cv.boolean,
    }
)


def _valid_triggers(value: Any) -> list[dict[str, Any]]:
    # Imported here: the trigger helper imports integrations' platforms lazily too.
    from linli.helpers.trigger import valid_triggers

    return valid_triggers(value)


WAIT_FOR_TRIGGER_SCHEMA: Final = vol.Schema(
    {
        **_BASE,
        vol.Required(CONF_WAIT_FOR_TRIGGER): _valid_triggers,
        vol.Optional(CONF_TIMEOUT): time_period_template,
        vol.Optional(CONF_CONTINUE_ON_TIMEOUT): cv.boolean,
    }
)


def _actions(value: Any) -> list[dict[str, Any]]:
    # Late-bound: the nested schemas refer to valid_actions, defined below.
    return valid_actions(value)


CHOOSE_SCHEMA: Final = vol.Schema(
    {
        **_BASE,
        vol.Required(CONF_CHOOSE): vol.All(
            cv.ensure_list,
            [
                vol.Schema(
                    {
                        vol.Optional(CONF_ALIAS): cv.string,
                        vol.Required(CONF_CONDITIONS): valid_conditions,
                        vol.Required(CONF_SEQUENCE): _actions,
                    }
                )
            ],
        ),
        vol.Optional(CONF_DEFAULT): _actions,
    }
)

IF_SCHEMA: Final = vol.Schema(
    {
        **_BASE,
        vol.Required(CONF_IF): valid_conditions,
        vol.Required(CONF_THEN): _actions,
        vol.Optional(CONF_ELSE): _actions,
    }
)


def _count(value: Any) -> Any:
    if is_template_string(value):
        return template(value)
    return cv.positive_int(value)


def _for_each(value: Any) -> Any:
    if is_template_string(value):
        return template(value)
    if not isinstance(value, list):
        raise vol.Invalid("for_each needs a list or a template rendering to one")
    return template_complex(value)


def _one_loop(value: dict[str, Any]) -> dict[str, Any]:
    found = [key for key in (CONF_COUNT, CONF_WHILE, CONF_UNTIL, CONF_FOR_EACH) if key in value]
    if len(found) != 1:
        raise vol.Invalid("repeat needs exactly one of count, while, until, for_each")
    return value


REPEAT_SCHEMA: Final = vol.Schema(
    {
        **_BASE,
        vol.Required(CONF_REPEAT): vol.All(
            vol.Schema(
                {
                    vol.Optional(CONF_COUNT): _count,
                    vol.Optional(CONF_WHILE): valid_conditions,
                    vol.Optional(CONF_UNTIL): valid_conditions,
                    vol.Optional(CONF_FOR_EACH): _for_each,
                    vol.Required(CONF_SEQUENCE): _actions,
                }
            ),
            _one_loop,
        ),
    }
)

EVENT_SCHEMA: Final = vol.Schema(
    {
        **_BASE,
        vol.Required(CONF_EVENT): cv.string,
        vol.Optional(CONF_EVENT_DATA): _complex,
        vol.Optional(CONF_EVENT_DATA_TEMPLATE): _complex,
    }
)

VARIABLES_SCHEMA: Final = vol.Schema(
    {**_BASE, vol.Required(CONF_VARIABLES): vol.All(vol.Schema({cv.string: object}), _complex)}
)

STOP_SCHEMA: Final = vol.Schema(
    {
        **_BASE,
        vol.Required(CONF_STOP): cv.string,
        vol.Optional(CONF_ERROR): cv.boolean,
        vol.Optional(CONF_RESPONSE_VARIABLE): cv.string,
    }
)


def _branches(value: Any) -> list[dict[str, Any]]:
    """Each branch is one action; a ``sequence`` action groups several."""
    return valid_actions(value)


PARALLEL_SCHEMA: Final = vol.Schema({**_BASE, vol.Required(CONF_PARALLEL): _branches})

SEQUENCE_SCHEMA: Final = vol.Schema({**_BASE, vol.Required(CONF_SEQUENCE): _actions})

ALERT_SCHEMA: Final = vol.Schema(
    {
        **_BASE,
        vol.Required(CONF_ALERT): vol.All(
            vol.Schema(
                {
                    vol.Required("kind"): object,
                    vol.Required("severity"): object,
                    vol.Required("title"): object,
                },
                # The alert service's own schema checks the rest when it is called.
                extra=vol.ALLOW_EXTRA,
            ),
            _complex,
        ),
        vol.Optional(CONF_RESPONSE_VARIABLE): cv.string,
    }
)


def _condition_action(value: dict[str, Any]) -> dict[str, Any]:
    """A condition as an action; it may also carry ``continue_on_error``."""
    value = dict(value)
    continue_on_error = value.pop(CONF_CONTINUE_ON_ERROR, None)
    config = CONDITION_SCHEMA(value)
    if continue_on_error is not None:
        config[CONF_CONTINUE_ON_ERROR] = cv.boolean(continue_on_error)
    return config


_ACTION_SCHEMAS: Final[dict[str, Callable[[Any], Any]]] = {
    "call_service": SERVICE_SCHEMA,
    "delay": DELAY_SCHEMA,
    "wait_template": WAIT_TEMPLATE_SCHEMA,
    "wait_for_trigger": WAIT_FOR_TRIGGER_SCHEMA,
    "choose": CHOOSE_SCHEMA,
    "if": IF_SCHEMA,
    "repeat": REPEAT_SCHEMA,
    "event": EVENT_SCHEMA,
    "variables": VARIABLES_SCHEMA,
    "stop": STOP_SCHEMA,
    "parallel": PARALLEL_SCHEMA,
    "sequence": SEQUENCE_SCHEMA,
    "alert": ALERT_SCHEMA,
    "condition": _condition_action,
}

# The key that names each kind of action, checked in this order.
_KEYS: Final = (
    (CONF_DELAY, "delay"),
    (CONF_WAIT_TEMPLATE, "wait_template"),
    (CONF_WAIT_FOR_TRIGGER, "wait_for_trigger"),
    (CONF_CHOOSE, "choose"),
    (CONF_IF, "if"),
    (CONF_REPEAT, "repeat"),
    (CONF_EVENT, "event"),
    (CONF_VARIABLES, "variables"),
    (CONF_STOP, "stop"),
    (CONF_PARALLEL, "parallel"),
    (CONF_SEQUENCE, "sequence"),
    (CONF_ALERT, "alert"),
    (CONF_CONDITION, "condition"),
    ("and", "condition"),
    ("or", "condition"),
    ("not", "condition"),
    (CONF_ACTION, "call_service"),
    (CONF_SERVICE, "call_service"),
    (CONF_SERVICE_TEMPLATE, "call_service"),
)


def determine_action(config: Any) -> str:
    """Return the kind of action ``config`` is (``call_service``, ``delay``, ``if`` …)."""
    if isinstance(config, dict):
        for key, kind in _KEYS:
            if key in config:
                return kind
    raise vol.Invalid(
        "unable to determine the action: expected a mapping with one of "
        + ", ".join(sorted({key for key, _ in _KEYS}))
    )


def ACTION_SCHEMA(value: Any) -> dict[str, Any]:  # noqa: N802 - a schema, like the others
    """Validate one action config."""
    return _ACTION_SCHEMAS[determine_action(value)](value)  # type: ignore[no-any-return]


def valid_actions(value: Any) -> list[dict[str, Any]]:
    """Validate an action or a list of actions (a voluptuous validator)."""
    return vol.Schema([ACTION_SCHEMA])(cv.ensure_list(value))  # type: ignore[no-any-return]


SCRIPT_SCHEMA: Final = valid_actions
"""Validates a sequence of actions (Home Assistant's name for it)."""

SCRIPT_MODE_SCHEMA: Final = {
    vol.Optional(CONF_MODE, default=ScriptMode.single.value): vol.All(
        vol.Lower, vol.In([mode.value for mode in ScriptMode])
    ),
    vol.Optional(CONF_MAX, default=DEFAULT_MAX_RUNS): vol.All(vol.Coerce(int), vol.Range(min=1)),
}
"""The ``mode``/``max`` keys of an automation or script, to merge into its schema."""
