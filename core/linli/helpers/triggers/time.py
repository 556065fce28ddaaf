"""The ``time`` trigger: fire at times of day, or at the time an entity holds.

``at`` takes one value or a list: ``"HH:MM[:SS]"`` (every day, in the hub's time zone), the
entity id of an ``input_datetime`` (its time every day, or its date and time once) or of a
``sensor`` whose state is a timestamp (once), or ``{entity_id, offset}`` to fire before or
after that time. Entity times follow their entity: a new value reschedules the trigger.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from datetime import time as dt_time
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.callback import callback
from linli.helpers.event import async_track_state_change_event
from linli.helpers.trigger import CONF_PLATFORM, TRIGGER_BASE_SCHEMA
from linli.helpers.triggers.timing import local_zone, next_local_time

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from linli.bus import Event
    from linli.clock import CancelCallback
    from linli.helpers.event import EventStateChangedData
    from linli.helpers.trigger import TriggerActionType, TriggerInfo
    from linli.hub import Hub
    from linli.state import State

_LOGGER = logging.getLogger(__name__)

CONF_AT: Final = "at"
CONF_ENTITY_ID: Final = "entity_id"
CONF_OFFSET: Final = "offset"
ENTITY_DOMAINS: Final = ("input_datetime", "sensor")

_ENTITY_AT = vol.Schema(
    {
        vol.Required(CONF_ENTITY_ID): cv.entity_domain(ENTITY_DOMAINS),
        vol.Optional(CONF_OFFSET, default=timedelta(0)): cv.time_period,
    }
)


def _at(value: Any) -> dt_time | dict[str, Any]:
    """A time of day, an entity id, or ``{entity_id, offset}``."""
    if isinstance(value, dict):
        return _ENTITY_AT(value)  # type: ignore[no-any-return]
    if isinstance(value, str) and "." in value:
        return _ENTITY_AT({CONF_ENTITY_ID: value})  # type: ignore[no-any-return]
    try:
        return cv.time(value)
    except vol.Invalid as err:
        raise vol.Invalid(
            f"{err.msg}; or give an input_datetime or timestamp sensor entity id"
        ) from err


TRIGGER_SCHEMA: Final = TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_PLATFORM): "time",
        vol.Required(CONF_AT): vol.All(cv.ensure_list, [_at], vol.Length(min=1)),
    }
)


def _daily(moment: dt_time) -> tuple[list[int], list[int], list[int]]:
    return [moment.hour], [moment.minute], [moment.second]


def entity_time(state: State | None, zone: ZoneInfo) -> dt_time | float | None:
    """Return what an entity's state says: a daily time of day, a POSIX time, or None."""
    if state is None or state.state in ("", "unknown", "unavailable"):
        return None
    text = state.state.strip()
    has_date = state.attributes.get("has_date")
    has_time = state.attributes.get("has_time")
    if has_date is None and has_time is None:  # not an input_datetime: guess from the text
        has_date, has_time = "-" in text, ":" in text
    try:
        if has_date:
            moment = datetime.fromisoformat(text if has_time else f"{text}T00:00:00")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            return moment.timestamp()
        if has_time:
            return dt_time.fromisoformat(text)
    except ValueError:
        pass
    _LOGGER.warning("%s has no time the time trigger can use: %r", state.entity_id, state.state)
    return None


async def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerActionType, trigger_info: TriggerInfo
) -> CancelCallback:
    """Schedule each ``at`` time, and follow the entities that hold one."""
    cancels: dict[int, CancelCallback] = {}
    by_entity: dict[str, list[int]] = {}
    attached = [True]  # an action may detach the trigger while it fires: schedule no more

    def fire(entity_id: str | None, when: float) -> None:
        now = datetime.fromtimestamp(when, local_zone(hub))
        description = f"time set in {entity_id}" if entity_id else "time"
        action({"now": now, "description": description, "entity_id": entity_id}, None)

    def schedule_daily(
        index: int, moment: dt_time, offset: float, entity_id: str | None, after: float
    ) -> None:
        # The next wall time that, moved by ``offset``, falls strictly after ``after``. After
        # a firing, ``after`` is the time just fired rather than the clock, so a timer that
        # fires a little early does not fire twice.
        if not attached[0]:
            return
        when = next_local_time(after - offset, local_zone(hub), *_daily(moment)) + offset

        def on_time(_now: datetime) -> None:
            fire(entity_id, when)
            schedule_daily(index, moment, offset, entity_id, when)

        cancels[index] = hub.async_call_at(when, on_time)

    def schedule_entity(index: int, entity_id: str, offset: float) -> None:
        cancel = cancels.pop(index, None)
        if cancel is not None:
            cancel()
        target = entity_time(hub.states.get(entity_id), local_zone(hub))
        if isinstance(target, dt_time):
            schedule_daily(index, target, offset, entity_id, hub.clock.time())
        elif target is not None:
            when = target + offset
            if when <= hub.clock.time():
                return  # a moment in the past never comes

            def on_time(_now: datetime) -> None:
                cancels.pop(index, None)
                fire(entity_id, when)

            cancels[index] = hub.async_call_at(when, on_time)

    for index, item in enumerate(config[CONF_AT]):
        if isinstance(item, dt_time):
            schedule_daily(index, item, 0.0, None, hub.clock.time())
        else:
            entity_id = item[CONF_ENTITY_ID]
            by_entity.setdefault(entity_id, []).append(index)
            schedule_entity(index, entity_id, item[CONF_OFFSET].total_seconds())

    @callback
    def on_entity_change(event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        for index in by_entity.get(entity_id, ()):
            item = config[CONF_AT][index]
            schedule_entity(index, entity_id, item[CONF_OFFSET].total_seconds())

    unsubscribe = async_track_state_change_event(hub, list(by_entity), on_entity_change)

    @callback
    def detach() -> None:
        attached[0] = False
        unsubscribe()
        for cancel in cancels.values():
            cancel()
        cancels.clear()

    return detach
