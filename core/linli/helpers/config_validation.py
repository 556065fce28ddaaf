"""Voluptuous validators for configuration sections (Home Assistant's ``cv`` names).

Integrations use these in their schemas so every section reads and fails the same way::

    import linli.helpers.config_validation as cv

    SCHEMA = vol.Schema({vol.Required("entity_id"): cv.entity_ids, "for": cv.time_period})
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time as dt_time
from datetime import timedelta
from typing import Any, TypeVar

import voluptuous as vol

from linli.const import MATCH_ALL
from linli.state import valid_entity_id
from linli.util.dt import parse_duration

_T = TypeVar("_T")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SLUG = re.compile(r"^[a-z0-9_]+$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def ensure_list(value: _T | list[_T] | None) -> list[_T]:
    """Wrap a single value in a list; None becomes an empty list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def string(value: Any) -> str:
    """Coerce a scalar to str; refuse mappings, lists and None."""
    if value is None:
        raise vol.Invalid("string value is None")
    if isinstance(value, dict | list):
        raise vol.Invalid("expected a string, not a mapping or list")
    return str(value)


def boolean(value: Any) -> bool:
    """Accept true/false, yes/no, on/off, 1/0 (like YAML 1.1 and Home Assistant)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.lower().strip()
        if text in ("1", "true", "yes", "on", "enable"):
            return True
        if text in ("0", "false", "no", "off", "disable"):
            return False
    elif isinstance(value, int | float):
        return bool(value)
    raise vol.Invalid(f"invalid boolean value {value!r}")


positive_int = vol.All(vol.Coerce(int), vol.Range(min=0))
positive_float = vol.All(vol.Coerce(float), vol.Range(min=0))
port = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))


def slug(value: Any) -> str:
    """A lower-case identifier of letters, digits and underscores."""
    text = string(value)
    if not _SLUG.match(text):
        raise vol.Invalid(f"invalid slug {text!r}: use lower-case letters, digits and _")
    return text


def entity_id(value: Any) -> str:
    """A valid ``domain.object_id`` (lower-cased first)."""
    text = string(value).strip().lower()
    if not valid_entity_id(text):
        raise vol.Invalid(f"invalid entity ID {text!r}")
    return text


def entity_ids(value: Any) -> list[str]:
    """One entity id, a comma-separated string of them, or a list."""
    if value is None:
        raise vol.Invalid("entity IDs cannot be None")
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    return [entity_id(item) for item in ensure_list(value)]


def entity_ids_or_match_all(value: Any) -> list[str] | str:
    """Like :func:`entity_ids`, or ``"all"``/``"*"`` for every entity."""
    if isinstance(value, str) and value.strip().lower() in ("all", MATCH_ALL):
        return MATCH_ALL
    return entity_ids(value)


def entity_domain(domain: str | tuple[str, ...]) -> Callable[[Any], str]:
    """An entity id in one of the given domains."""
    domains = (domain,) if isinstance(domain, str) else domain

    def validate(value: Any) -> str:
        eid = entity_id(value)
        if eid.partition(".")[0] not in domains:
            raise vol.Invalid(f"entity {eid} is not in domain {' or '.join(domains)}")
        return eid

    return validate


def time_period(value: Any) -> timedelta:
    """A duration: ``"01:30:00"``, ``"00:05"``, seconds, or ``{hours: 1, minutes: 30}``."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, dict):
        allowed = {"days", "hours", "minutes", "seconds", "milliseconds"}
        unknown = set(value) - allowed
        if unknown:
            raise vol.Invalid(f"unknown duration key {sorted(unknown)[0]!r}")
        try:
            return timedelta(**{k: float(v) for k, v in value.items()})
        except (TypeError, ValueError) as err:
            raise vol.Invalid(f"invalid duration {value!r}") from err
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise vol.Invalid(f"invalid duration {value!r}")
    try:
        return parse_duration(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from err


positive_time_period = vol.All(
    time_period, vol.Range(min=timedelta(0), msg="the duration must not be negative")
)


def time(value: Any) -> dt_time:
    """A time of day, ``HH:MM`` or ``HH:MM:SS``."""
    if isinstance(value, dt_time):
        return value
    if isinstance(value, int):  # YAML 1.1 reads 12:30 unquoted as a sexagesimal number
        raise vol.Invalid("write times in quotes, e.g. '12:30'")
    match = _TIME.match(string(value).strip())
    if match is None:
        raise vol.Invalid(f"invalid time {value!r}: use HH:MM or HH:MM:SS")
    hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        return dt_time(hour, minute, second)
    except ValueError as err:
        raise vol.Invalid(f"invalid time {value!r}: {err}") from err


def weekdays(value: Any) -> list[str]:
    """One weekday or a list of them (``mon`` … ``sun``)."""
    days = [string(day).lower() for day in ensure_list(value)]
    for day in days:
        if day not in WEEKDAYS:
            raise vol.Invalid(f"invalid weekday {day!r}: use one of {', '.join(WEEKDAYS)}")
    return days
