"""The ``time_pattern`` trigger: fire whenever the local time matches a pattern.

``hours``, ``minutes`` and ``seconds`` each take a number, ``"*"`` (any) or ``"/N"`` (every
value divisible by N, so ``minutes: "/5"`` fires at :00, :05, :10 …). As in Home Assistant,
the units below the largest one given default to 0 and those above it to any: ``minutes: 30``
fires at half past every hour, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.callback import callback
from linli.helpers.trigger import CONF_PLATFORM, TRIGGER_BASE_SCHEMA
from linli.helpers.triggers.timing import local_zone, next_local_time

if TYPE_CHECKING:
    from collections.abc import Callable

    from linli.clock import CancelCallback
    from linli.helpers.trigger import TriggerActionType, TriggerInfo
    from linli.hub import Hub

CONF_HOURS: Final = "hours"
CONF_MINUTES: Final = "minutes"
CONF_SECONDS: Final = "seconds"


def _pattern(maximum: int) -> Callable[[Any], int | str]:
    def validate(value: Any) -> int | str:
        if isinstance(value, bool):
            raise vol.Invalid(f"expected a number 0-{maximum}, '*' or '/N'")
        text = cv.string(value).strip()
        if text == "*":
            return text
        divisor = text.startswith("/")
        try:
            number = int(text[1:] if divisor else text)
        except ValueError as err:
            raise vol.Invalid(f"expected a number 0-{maximum}, '*' or '/N', got {text!r}") from err
        if divisor:
            if not 1 <= number <= maximum:
                raise vol.Invalid(f"'/N' needs N between 1 and {maximum}")
            return f"/{number}"
        if not 0 <= number <= maximum:
            raise vol.Invalid(f"must be between 0 and {maximum}")
        return number

    return validate


def _has_a_unit(config: dict[str, Any]) -> dict[str, Any]:
    if not any(key in config for key in (CONF_HOURS, CONF_MINUTES, CONF_SECONDS)):
        raise vol.Invalid("give at least one of 'hours', 'minutes' and 'seconds'")
    return config


TRIGGER_SCHEMA: Final = vol.All(
    TRIGGER_BASE_SCHEMA.extend(
        {
            vol.Required(CONF_PLATFORM): "time_pattern",
            vol.Optional(CONF_HOURS): _pattern(23),
            vol.Optional(CONF_MINUTES): _pattern(59),
            vol.Optional(CONF_SECONDS): _pattern(59),
        }
    ),
    _has_a_unit,
)


def matching_values(pattern: int | str | None, maximum: int) -> list[int]:
    """Return the sorted values a pattern matches (None and ``*`` match all)."""
    if pattern is None or pattern == "*":
        return list(range(maximum + 1))
    if isinstance(pattern, str):
        divisor = int(pattern[1:])
        return list(range(0, maximum + 1, divisor))
    return [pattern]


async def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerActionType, trigger_info: TriggerInfo
) -> CancelCallback:
    """Schedule the next matching time, again after each firing."""
    hours_pattern = config.get(CONF_HOURS)
    minutes_pattern = config.get(CONF_MINUTES)
    seconds_pattern = config.get(CONF_SECONDS)
    # Smaller units than the largest given default to zero.
    if minutes_pattern is None and hours_pattern is not None:
        minutes_pattern = 0
    if seconds_pattern is None and minutes_pattern is not None:
        seconds_pattern = 0
    hours = matching_values(hours_pattern, 23)
    minutes = matching_values(minutes_pattern, 59)
    seconds = matching_values(seconds_pattern, 59)
    cancel: list[CancelCallback] = []

    def schedule(after: float) -> None:
        zone = local_zone(hub)
        when = next_local_time(after, zone, hours, minutes, seconds)

        def on_time(_now: datetime) -> None:
            cancel.clear()
            action(
                {"now": datetime.fromtimestamp(when, zone), "description": "time pattern"},
                None,
            )
            if not detached:
                # From the time just fired, not the clock: an early timer must not repeat it.
                schedule(when)

        cancel[:] = [hub.async_call_at(when, on_time)]

    detached = False
    schedule(hub.clock.time())

    @callback
    def detach() -> None:
        nonlocal detached
        detached = True
        for item in cancel:
            item()
        cancel.clear()

    return detach
