"""The ``numeric_state`` trigger: a numeric value crosses into a range.

As in Home Assistant the trigger fires when the value *enters* the range (``above`` and/or
``below``, numbers or the entity ids of input_number, number or sensor entities): an entity
already inside when the trigger is attached must leave it first. The value is the state, an
``attribute``, or a ``value_template`` rendered with ``state`` (the entity's state object).
A value that is not a number is outside the range. Only changes of the watched entities are
checked: a threshold entity changing does not fire by itself (as in Home Assistant). With
``for`` the value must stay inside that long; leaving cancels the timer.
"""

from __future__ import annotations

import logging
import math
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
from linli.template import TemplateError, template

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.clock import CancelCallback
    from linli.context import Context
    from linli.helpers.event import EventStateChangedData
    from linli.helpers.trigger import TriggerActionType, TriggerInfo
    from linli.hub import Hub
    from linli.state import State
    from linli.template import Template

_LOGGER = logging.getLogger(__name__)

CONF_ENTITY_ID: Final = "entity_id"
CONF_ABOVE: Final = "above"
CONF_BELOW: Final = "below"
CONF_ATTRIBUTE: Final = "attribute"
CONF_VALUE_TEMPLATE: Final = "value_template"
THRESHOLD_DOMAINS: Final = ("input_number", "number", "sensor")


def threshold(value: Any) -> float | str:
    """A number, or the entity id of an input_number, number or sensor holding one."""
    if isinstance(value, bool):
        raise vol.Invalid("expected a number or an entity id")
    if isinstance(value, int | float):
        return float(value)
    text = cv.string(value)
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return cv.entity_domain(THRESHOLD_DOMAINS)(text)
    except vol.Invalid as err:
        raise vol.Invalid(
            f"expected a number or the entity id of an {', '.join(THRESHOLD_DOMAINS)} entity"
        ) from err


def _check_range(config: dict[str, Any]) -> dict[str, Any]:
    above, below = config.get(CONF_ABOVE), config.get(CONF_BELOW)
    if above is None and below is None:
        raise vol.Invalid("give 'above', 'below' or both")
    if isinstance(above, float) and isinstance(below, float) and above >= below:
        raise vol.Invalid(
            f"a value can never be above {above:g} and below {below:g}: "
            "you probably want two triggers",
            path=[CONF_BELOW],
        )
    return config


TRIGGER_SCHEMA: Final = vol.All(
    TRIGGER_BASE_SCHEMA.extend(
        {
            vol.Required(CONF_PLATFORM): "numeric_state",
            vol.Required(CONF_ENTITY_ID): cv.entity_ids,
            vol.Optional(CONF_ABOVE): threshold,
            vol.Optional(CONF_BELOW): threshold,
            vol.Optional(CONF_VALUE_TEMPLATE): template,
            vol.Optional(CONF_ATTRIBUTE): cv.string,
            vol.Optional(CONF_FOR): positive_time_period_template,
        }
    ),
    _check_range,
)


async def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerActionType, trigger_info: TriggerInfo
) -> CancelCallback:
    """Listen for state changes of the configured entities and check their values."""
    entity_ids: list[str] = config[CONF_ENTITY_ID]
    above: float | str | None = config.get(CONF_ABOVE)
    below: float | str | None = config.get(CONF_BELOW)
    attribute: str | None = config.get(CONF_ATTRIBUTE)
    value_template: Template | None = config.get(CONF_VALUE_TEMPLATE)
    if value_template is not None:
        value_template.hub = hub
    period_config = config.get(CONF_FOR)
    timers = HoldTimers(hub, config, trigger_info) if period_config is not None else None
    name = trigger_info["name"]
    owner_variables = trigger_info["variables"]
    armed: set[str] = set()

    def limit(value: float | str | None) -> float | None:
        if value is None or isinstance(value, float):
            return value
        state = hub.states.get(value)
        return _number(state.state) if state is not None else None

    def in_range(entity_id: str, state: State | None) -> bool:
        if state is None:
            return False
        raw: Any
        if value_template is not None:
            variables = {
                **owner_variables,
                "state": state,
                "trigger": {"platform": "numeric_state", "entity_id": entity_id},
            }
            try:
                raw = value_template.async_render(variables)
            except TemplateError as err:
                _LOGGER.warning("Error rendering the value_template of %s: %s", name, err)
                return False
        elif attribute is not None:
            raw = state.attributes.get(attribute)
        else:
            raw = state.state
        value = _number(raw)
        if value is None:
            return False
        if below is not None:
            low = limit(below)
            if low is None or value >= low:
                return False
        if above is not None:
            high = limit(above)
            if high is None or value <= high:
                return False
        return True

    def fire_later(
        entity_id: str,
        from_state: State | None,
        to_state: State | None,
        period: timedelta | None,
        context: Context | None,
    ) -> Callable[[bool], None]:
        @callback
        def fire(late: bool) -> None:
            payload: dict[str, Any] = {
                "entity_id": entity_id,
                "below": below,
                "above": above,
                "from_state": from_state,
                "to_state": to_state,
                "for": period,
                "description": f"numeric state of {entity_id}",
            }
            if period is not None:
                payload["late"] = late
            action(payload, context)

        return fire

    @callback
    def on_change(event: Event[EventStateChangedData]) -> None:
        data = event.data
        entity_id = data["entity_id"]
        to_state = data["new_state"]
        matching = in_range(entity_id, to_state)
        if not matching:
            armed.add(entity_id)
            if timers is not None:
                timers.cancel(entity_id)
            return
        if timers is not None and timers.is_running(entity_id):
            return  # still inside: the running timer goes on
        if entity_id not in armed:
            return  # was inside already: it has to leave the range first
        armed.discard(entity_id)
        from_state = data["old_state"]
        if period_config is None or timers is None:
            fire_later(entity_id, from_state, to_state, None, event.context)(False)
            return
        variables = {
            **owner_variables,
            "trigger": {
                "platform": "numeric_state",
                "entity_id": entity_id,
                "from_state": from_state,
                "to_state": to_state,
                "below": below,
                "above": above,
            },
        }
        try:
            period = render_period(hub, period_config, variables)
        except LinliError as err:
            _LOGGER.error("Error in the numeric_state trigger of %s: %s", name, err)
            return
        fire = fire_later(entity_id, from_state, to_state, period, event.context)
        if not period:
            fire(False)
            return
        timers.schedule(
            entity_id,
            period,
            fire,
            {
                "from_state": state_to_data(from_state),
                "to_state": state_to_data(to_state),
                "for": period.total_seconds(),
            },
        )

    restored: set[str] = set()
    if timers is not None:
        for entity_id, deadline in await timers.async_restore():
            current = hub.states.get(entity_id)
            # An entity without a state yet gives no evidence either way: keep waiting.
            if entity_id not in entity_ids or (
                current is not None and not in_range(entity_id, current)
            ):
                timers.drop(entity_id)
                continue
            saved = deadline.data
            to_state = state_from_data(saved.get("to_state"))
            timers.reattach(
                entity_id,
                fire_later(
                    entity_id,
                    state_from_data(saved.get("from_state")),
                    to_state,
                    timedelta(seconds=float(saved.get("for", 0))),
                    to_state.context if to_state is not None else None,
                ),
            )
            restored.add(entity_id)
    # Entities outside the range now are ready to fire when they enter it.
    for entity_id in entity_ids:
        if entity_id not in restored and not in_range(entity_id, hub.states.get(entity_id)):
            armed.add(entity_id)

    unsubscribe = async_track_state_change_event(hub, entity_ids, on_change)

    @callback
    def detach() -> None:
        unsubscribe()
        if timers is not None:
            timers.cancel_all()

    return detach


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number  # NaN is no number to compare
