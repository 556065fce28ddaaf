"""The ``template`` trigger: fire when a template's result becomes true.

The template is rendered when the trigger is attached and again whenever an entity it looked
at changes (the render's :class:`RenderInfo` says which; a template that iterates a domain or
every state is re-rendered on changes there; one reading the clock, every minute). It fires
on a change from false to true, not while it stays true; a template that is true when
attached must become false first. A render error counts as false and is logged. With ``for``
the result must stay true that long.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.callback import callback
from linli.const import EVENT_STATE_CHANGED
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
from linli.template import RenderInfo, Template, template

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from linli.bus import Event, RemoveListener
    from linli.clock import CancelCallback
    from linli.context import Context
    from linli.helpers.event import EventStateChangedData
    from linli.helpers.trigger import TriggerActionType, TriggerInfo
    from linli.hub import Hub
    from linli.state import State

_LOGGER = logging.getLogger(__name__)

CONF_VALUE_TEMPLATE: Final = "value_template"
SUBJECT: Final = "template"
"""The one ``for:`` subject of a template trigger (its deadline key ends in it)."""

TRIGGER_SCHEMA: Final = TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_PLATFORM): "template",
        vol.Required(CONF_VALUE_TEMPLATE): template,
        vol.Optional(CONF_FOR): positive_time_period_template,
    }
)


def _truthy(value: Any) -> bool:
    """Home Assistant's result_as_boolean: true/on/yes/enable/1 and non-zero numbers."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        try:
            return cv.boolean(value)
        except vol.Invalid:
            return False
    return False


async def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerActionType, trigger_info: TriggerInfo
) -> CancelCallback:
    """Render the template, follow what it looked at, fire when it turns true."""
    value_template: Template = config[CONF_VALUE_TEMPLATE]
    value_template.hub = hub
    period_config = config.get(CONF_FOR)
    timers = HoldTimers(hub, config, trigger_info) if period_config is not None else None
    owner_variables = trigger_info["variables"]
    name = trigger_info["name"]
    entity_unsubscribe: list[RemoveListener] = []
    wide_unsubscribe: list[RemoveListener] = []
    tracked: tuple[frozenset[str], frozenset[str], bool] = (frozenset(), frozenset(), False)
    minute_timer: list[CancelCallback] = []
    last_true = False

    def render() -> tuple[bool, RenderInfo]:
        info = value_template.async_render_to_info(owner_variables)
        if info.exception is not None:
            _LOGGER.error("Error rendering the template trigger of %s: %s", name, info.exception)
            return False, info
        return _truthy(info.result), info

    def follow(info: RenderInfo) -> None:
        nonlocal tracked
        # A template reading the clock is rendered again every minute, as in Home Assistant.
        if info.has_time and not minute_timer:
            when = (hub.clock.time() // 60 + 1) * 60
            minute_timer.append(hub.async_call_at(when, on_minute))
        elif not info.has_time and minute_timer:
            minute_timer.pop()()
        wanted = (frozenset(info.entities), frozenset(info.domains), bool(info.all_states))
        if wanted == tracked:
            return
        tracked = wanted
        for unsubscribe in (*entity_unsubscribe, *wide_unsubscribe):
            unsubscribe()
        entity_unsubscribe.clear()
        wide_unsubscribe.clear()
        entities, domains, all_states = wanted
        if entities:
            entity_unsubscribe.append(async_track_state_change_event(hub, entities, on_change))
        if all_states or domains:
            # Rare (a template iterating states): one bus listener for this trigger only.
            @callback
            def in_domains(event: Event[EventStateChangedData]) -> bool:
                if all_states:
                    return True
                return event.data["entity_id"].partition(".")[0] in domains

            wide_unsubscribe.append(
                hub.bus.async_listen(EVENT_STATE_CHANGED, on_change, in_domains)
            )

    def fire_later(
        entity_id: str | None,
        from_state: State | None,
        to_state: State | None,
        period: timedelta | None,
        context: Context | None,
    ) -> Callable[[bool], None]:
        @callback
        def fire(late: bool) -> None:
            payload: dict[str, Any] = {
                "entity_id": entity_id,
                "from_state": from_state,
                "to_state": to_state,
                "for": period,
                "description": "template",
            }
            if period is not None:
                payload["late"] = late
            action(payload, context)

        return fire

    @callback
    def on_change(event: Event[EventStateChangedData]) -> None:
        data = event.data
        evaluate(data["entity_id"], data["old_state"], data["new_state"], event.context)

    def on_minute(_now: datetime) -> None:
        minute_timer.clear()
        evaluate(None, None, None, None)

    def evaluate(
        entity_id: str | None,
        from_state: State | None,
        to_state: State | None,
        context: Context | None,
    ) -> None:
        nonlocal last_true
        is_true, info = render()
        follow(info)
        was_true, last_true = last_true, is_true
        if not is_true:
            if timers is not None:
                timers.cancel(SUBJECT)
            return
        if was_true:
            return  # still true: nothing new (a running `for:` goes on)
        if period_config is None or timers is None:
            fire_later(entity_id, from_state, to_state, None, context)(False)
            return
        variables: Mapping[str, Any] = {
            **owner_variables,
            "trigger": {
                "platform": "template",
                "entity_id": entity_id,
                "from_state": from_state,
                "to_state": to_state,
            },
        }
        try:
            period = render_period(hub, period_config, variables)
        except LinliError as err:
            _LOGGER.error("Error in the template trigger of %s: %s", name, err)
            return
        fire = fire_later(entity_id, from_state, to_state, period, context)
        if not period:
            fire(False)
            return
        timers.schedule(
            SUBJECT,
            period,
            fire,
            {
                "entity_id": entity_id,
                "from_state": state_to_data(from_state),
                "to_state": state_to_data(to_state),
                "for": period.total_seconds(),
            },
        )

    last_true, info = render()
    follow(info)
    if timers is not None:
        for subject, deadline in await timers.async_restore():
            # False now, though every entity it reads exists: it turned false while the hub
            # was down. Entities not there yet (still starting) give no evidence either way.
            known = all(hub.states.get(entity_id) is not None for entity_id in info.entities)
            if subject != SUBJECT or (not last_true and known):
                timers.drop(subject)
                continue
            saved = deadline.data
            to_state = state_from_data(saved.get("to_state"))
            timers.reattach(
                subject,
                fire_later(
                    saved.get("entity_id"),
                    state_from_data(saved.get("from_state")),
                    to_state,
                    timedelta(seconds=float(saved.get("for", 0))),
                    to_state.context if to_state is not None else None,
                ),
            )
            # Held through the restart: it counts as true until a render says otherwise.
            last_true = True

    @callback
    def detach() -> None:
        for cancel in minute_timer:
            cancel()
        minute_timer.clear()
        for unsubscribe in (*entity_unsubscribe, *wide_unsubscribe):
            unsubscribe()
        entity_unsubscribe.clear()
        wide_unsubscribe.clear()
        if timers is not None:
            timers.cancel_all()

    return detach
