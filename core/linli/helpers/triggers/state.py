"""The ``state`` trigger: an entity's state, or one of its attributes, changes.

As in Home Assistant: with none of ``from``/``to``/``not_from``/``not_to`` the trigger fires
on every change, attribute-only changes included; with any of them (even ``to: null``) only
when the value itself changed. With ``attribute`` only that attribute is compared. ``for``
fires once the new value has held that long: while ``to`` (or ``not_to``) is given the value
must stay the one that matched, with only ``from``/``not_from`` it must not return to the old
one; any other change, or the entity's removal, cancels the timer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.callback import callback
from linli.exceptions import LinliError
from linli.helpers.event import async_track_state_change_event
from linli.helpers.trigger import (
    CONF_FOR,
    CONF_PLATFORM,
    TRIGGER_BASE_SCHEMA,
    positive_time_period_template,
    render_period,
)
from linli.helpers.triggers.holding import HoldTimers, state_from_data, state_to_data

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.clock import CancelCallback
    from linli.context import Context
    from linli.helpers.event import EventStateChangedData
    from linli.helpers.trigger import TriggerActionType, TriggerInfo
    from linli.hub import Hub
    from linli.state import State

_LOGGER = logging.getLogger(__name__)

CONF_ENTITY_ID: Final = "entity_id"
CONF_ATTRIBUTE: Final = "attribute"
CONF_FROM: Final = "from"
CONF_TO: Final = "to"
CONF_NOT_FROM: Final = "not_from"
CONF_NOT_TO: Final = "not_to"
_MATCH_KEYS: Final = (CONF_FROM, CONF_TO, CONF_NOT_FROM, CONF_NOT_TO)


def _state_value(value: Any) -> str:
    if isinstance(value, bool):
        # YAML 1.1 reads on/off/yes/no as booleans; a state is always a string.
        raise vol.Invalid(
            "write states such as 'on' and 'off' in quotes (YAML reads them as true/false)"
        )
    if isinstance(value, int | float):
        return str(value)
    return cv.string(value)


def _states(value: Any) -> list[str] | None:
    """One state or a list of states; null means any state."""
    if value is None:
        return None
    return [_state_value(item) for item in cv.ensure_list(value)]


def _any_values(value: Any) -> list[Any] | None:
    """Attribute values: anything, one or a list; null means any value."""
    if value is None:
        return None
    return list(value) if isinstance(value, list) else [value]


_BASE = TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_PLATFORM): "state",
        vol.Required(CONF_ENTITY_ID): cv.entity_ids,
        vol.Optional(CONF_FOR): positive_time_period_template,
        vol.Optional(CONF_ATTRIBUTE): cv.string,
    }
)
_STATE_SCHEMA = _BASE.extend({vol.Optional(key): _states for key in _MATCH_KEYS})
_ATTRIBUTE_SCHEMA = _BASE.extend({vol.Optional(key): _any_values for key in _MATCH_KEYS})


def TRIGGER_SCHEMA(value: Any) -> dict[str, Any]:  # noqa: N802 - the platform protocol's name
    """Validate a ``state`` trigger."""
    schema = (
        _ATTRIBUTE_SCHEMA if isinstance(value, dict) and CONF_ATTRIBUTE in value else _STATE_SCHEMA
    )
    config: dict[str, Any] = schema(value)
    for key, negated in ((CONF_FROM, CONF_NOT_FROM), (CONF_TO, CONF_NOT_TO)):
        if key in config and negated in config:
            raise vol.Invalid(f"use '{key}' or '{negated}', not both", path=[negated])
    if (CONF_NOT_FROM in config and config[CONF_NOT_FROM] is None) or (
        CONF_NOT_TO in config and config[CONF_NOT_TO] is None
    ):
        raise vol.Invalid("'not_from' and 'not_to' need at least one value")
    return config


def _matcher(config: dict[str, Any], key: str, negated: str) -> Callable[[Any], bool]:
    if config.get(key) is not None:
        wanted = config[key]
        return lambda value: value in wanted
    if config.get(negated) is not None:
        unwanted = config[negated]
        return lambda value: value not in unwanted
    return lambda _value: True


async def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerActionType, trigger_info: TriggerInfo
) -> CancelCallback:
    """Listen for state changes of the configured entities."""
    entity_ids: list[str] = config[CONF_ENTITY_ID]
    attribute: str | None = config.get(CONF_ATTRIBUTE)
    match_from = _matcher(config, CONF_FROM, CONF_NOT_FROM)
    match_to = _matcher(config, CONF_TO, CONF_NOT_TO)
    match_all = not any(key in config for key in _MATCH_KEYS)
    # With only from/not_from the held condition is "not back to the old value".
    from_only = (CONF_FROM in config or CONF_NOT_FROM in config) and not (
        CONF_TO in config or CONF_NOT_TO in config
    )
    period_config = config.get(CONF_FOR)
    timers = HoldTimers(hub, config, trigger_info) if period_config is not None else None
    # entity → (old value, new value) of its running `for:` timer.
    held: dict[str, tuple[Any, Any]] = {}
    name = trigger_info["name"]

    def value_of(state: State | None) -> Any:
        if state is None:
            return None
        if attribute is None:
            return state.state
        return state.attributes.get(attribute)

    def holds(state: State | None, old_value: Any, new_value: Any) -> bool:
        if state is None:
            return False
        current = value_of(state)
        return bool(current != old_value) if from_only else bool(current == new_value)

    def fire_later(
        entity_id: str,
        from_state: State | None,
        to_state: State | None,
        period: timedelta,
        context: Context | None,
    ) -> Callable[[bool], None]:
        @callback
        def fire(late: bool) -> None:
            held.pop(entity_id, None)
            action(_payload(entity_id, from_state, to_state, period, attribute, late), context)

        return fire

    @callback
    def on_change(event: Event[EventStateChangedData]) -> None:
        data = event.data
        entity_id = data["entity_id"]
        from_state = data["old_state"]
        to_state = data["new_state"]
        if timers is not None and entity_id in held:
            if holds(to_state, *held[entity_id]):
                return  # still held: the running timer goes on
            del held[entity_id]
            timers.cancel(entity_id)
        if to_state is None:
            return  # a removed entity has no state to match
        old_value = value_of(from_state)
        new_value = value_of(to_state)
        if attribute is not None and old_value == new_value:
            return  # another attribute changed
        if (
            not match_from(old_value)
            or not match_to(new_value)
            or (not match_all and old_value == new_value)
        ):
            return
        if period_config is None or timers is None:
            action(_payload(entity_id, from_state, to_state, None, attribute, None), event.context)
            return
        variables = {
            **trigger_info["variables"],
            "trigger": {
                "platform": "state",
                "entity_id": entity_id,
                "from_state": from_state,
                "to_state": to_state,
            },
        }
        try:
            period = render_period(hub, period_config, variables)
        except LinliError as err:
            _LOGGER.error("Error in the state trigger of %s: %s", name, err)
            return
        fire = fire_later(entity_id, from_state, to_state, period, event.context)
        if not period:
            fire(False)
            return
        held[entity_id] = (old_value, new_value)
        timers.schedule(
            entity_id,
            period,
            fire,
            {
                "old_value": old_value,
                "new_value": new_value,
                "from_state": state_to_data(from_state),
                "to_state": state_to_data(to_state),
                "for": period.total_seconds(),
            },
        )

    if timers is not None:
        for entity_id, deadline in await timers.async_restore():
            saved = deadline.data
            current = hub.states.get(entity_id)
            # An entity that has no state yet gives no evidence either way: keep waiting.
            if entity_id not in entity_ids or (
                current is not None
                and not holds(current, saved.get("old_value"), saved.get("new_value"))
            ):
                timers.drop(entity_id)
                continue
            held[entity_id] = (saved.get("old_value"), saved.get("new_value"))
            from_state = state_from_data(saved.get("from_state"))
            to_state = state_from_data(saved.get("to_state"))
            period = timedelta(seconds=float(saved.get("for", 0)))
            context = to_state.context if to_state is not None else None
            timers.reattach(entity_id, fire_later(entity_id, from_state, to_state, period, context))

    unsubscribe = async_track_state_change_event(hub, entity_ids, on_change)

    @callback
    def detach() -> None:
        unsubscribe()
        if timers is not None:
            timers.cancel_all()
        held.clear()

    return detach


def _payload(
    entity_id: str,
    from_state: State | None,
    to_state: State | None,
    period: timedelta | None,
    attribute: str | None,
    late: bool | None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "entity_id": entity_id,
        "from_state": from_state,
        "to_state": to_state,
        "for": period,
        "attribute": attribute,
        "description": f"state of {entity_id}",
    }
    if late is not None:
        payload["late"] = late
    return payload
