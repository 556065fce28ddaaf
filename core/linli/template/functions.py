"""The template helpers that are not about states: numbers, time, text, JSON and registries.

They follow Home Assistant's semantics: conversions such as ``float``, ``int`` or
``as_timestamp`` take a default returned on bad input and, without one, fail the render with
a message naming the helper and the input. Helpers that need the hub take it first; the
environment binds it, so the hub itself never reaches a template.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import voluptuous as vol

from linli.helpers.config_validation import boolean
from linli.state import valid_entity_id
from linli.template.scope import TemplateError, current, require_full, track_time
from linli.util.dt import parse_duration, utc_from_timestamp
from linli.util.json import json_encoder_default, json_loads

if TYPE_CHECKING:
    from linli.hub import Hub
    from linli.registry import Registries


class _NoDefault:
    def __repr__(self) -> str:
        return "<no default>"


NO_DEFAULT: Final = _NoDefault()
"""Marks "no default given": bad input then fails the render."""


def _no_default(name: str, value: Any) -> TemplateError:
    text = repr(value)
    if len(text) > 60:
        text = text[:59] + "…"
    return TemplateError(f"{name} got invalid input {text} and no default was given")


def _need_hub(hub: Hub | None, name: str) -> Hub:
    if hub is None:
        raise TemplateError(f"'{name}' needs a hub; this template is not attached to one")
    return hub


# ---------------------------------------------------------------------- numbers
def to_float(value: Any, default: Any = NO_DEFAULT) -> Any:
    """``float``: convert to a float, or return ``default``."""
    try:
        return float(value)
    except (ValueError, TypeError, OverflowError):
        if default is NO_DEFAULT:
            raise _no_default("float", value) from None
        return default


def to_int(value: Any, default: Any = NO_DEFAULT, base: int = 10) -> Any:
    """``int``: convert to an int (``"3.7"`` → 3), or return ``default``."""
    try:
        if isinstance(value, str) and base != 10:
            return int(value, base)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return int(float(value))
        return int(value)
    except (ValueError, TypeError, OverflowError):
        if default is NO_DEFAULT:
            raise _no_default("int", value) from None
        return default


def to_bool(value: Any, default: Any = NO_DEFAULT) -> Any:
    """``bool``: true/false, yes/no, on/off, 1/0 and numbers, or return ``default``."""
    try:
        return boolean(value)
    except vol.Invalid:
        if default is NO_DEFAULT:
            raise _no_default("bool", value) from None
        return default


def is_number(value: Any) -> bool:
    """Return whether ``value`` converts to a finite float."""
    try:
        number = float(value)
    except (ValueError, TypeError, OverflowError):
        return False
    return math.isfinite(number)


def iif(value: Any, if_true: Any = True, if_false: Any = False, if_none: Any = NO_DEFAULT) -> Any:
    """Inline if: ``if_true`` when ``value`` is truthy, else ``if_false`` (``if_none`` for None)."""
    if value is None and if_none is not NO_DEFAULT:
        return if_none
    return if_true if value else if_false


def round_value(
    value: Any, precision: int = 0, method: str = "common", default: Any = NO_DEFAULT
) -> Any:
    """``round``: round to ``precision`` digits (``common``, ``ceil``, ``floor`` or ``half``)."""
    if not isinstance(precision, int) or not -20 <= precision <= 20:
        raise TemplateError(
            f"round precision must be a whole number from -20 to 20, not {precision!r}"
        )
    try:
        number = float(value)
        multiplier = 10.0**precision
        if method == "ceil":
            number = math.ceil(number * multiplier) / multiplier
        elif method == "floor":
            number = math.floor(number * multiplier) / multiplier
        elif method == "half":
            number = round(number * 2) / 2
        else:
            number = round(number, precision)
        return int(number) if precision == 0 else number
    except (ValueError, TypeError, OverflowError):
        if default is NO_DEFAULT:
            raise _no_default("round", value) from None
        return default


def average(*args: Any, default: Any = NO_DEFAULT) -> Any:
    """``average(list)`` or ``average(a, b, …)``: the mean, or ``default`` when there is none."""
    if not args:
        raise TemplateError("average expected at least 1 argument, got 0")
    if isinstance(args[0], Iterable) and not isinstance(args[0], str):
        values: Iterable[Any] = args[0]
        if len(args) > 1 and default is NO_DEFAULT:
            default = args[1]
    elif len(args) == 1:
        raise TemplateError(f"average expected a list, not {type(args[0]).__name__}")
    else:
        values = args
    try:
        return statistics.fmean(values)
    except (TypeError, ValueError, statistics.StatisticsError):
        if default is NO_DEFAULT:
            raise _no_default("average", args) from None
        return default


# ---------------------------------------------------------------------- time
@lru_cache(maxsize=16)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_zone(hub: Hub | None) -> tzinfo:
    """Return the hub's time zone (UTC without a hub)."""
    return UTC if hub is None else _zone(hub.config.time_zone)


def now(hub: Hub | None) -> datetime:
    """``now()``: the hub clock's time in the community's time zone."""
    hub = _need_hub(hub, "now")
    track_time()
    return hub.clock.utcnow().astimezone(local_zone(hub))


def utcnow(hub: Hub | None) -> datetime:
    """``utcnow()``: the hub clock's time in UTC."""
    hub = _need_hub(hub, "utcnow")
    track_time()
    return hub.clock.utcnow()


_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")


def today_at(hub: Hub | None, value: Any = "00:00") -> datetime:
    """``today_at("HH:MM[:SS]")``: that time today, in the community's time zone."""
    match = _TIME_OF_DAY.match(value.strip()) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError(value)
        hour, minute, second = (int(part) if part else 0 for part in match.groups()[:3])
        wanted = time(hour, minute, second, int((match.group(4) or "0").ljust(6, "0")))
    except ValueError:
        raise TemplateError(f"today_at got invalid time {value!r}: use HH:MM or HH:MM:SS") from None
    today = now(hub).date()
    return datetime.combine(today, wanted, tzinfo=local_zone(hub))


def _parse_datetime(value: str) -> datetime | None:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def as_datetime(value: Any, default: Any = NO_DEFAULT) -> Any:
    """``as_datetime``: an ISO string, a timestamp or a date as a datetime, or ``default``."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return utc_from_timestamp(float(value))
        except (ValueError, OverflowError, OSError):
            pass
    if isinstance(value, str):
        parsed = _parse_datetime(value)
        if parsed is not None:
            return parsed
    if default is NO_DEFAULT:
        raise _no_default("as_datetime", value)
    return default


def _aware(hub: Hub | None, value: datetime) -> datetime:
    # A naive time in a template means the community's local time, as in Home Assistant.
    return value.replace(tzinfo=local_zone(hub)) if value.tzinfo is None else value


def as_timestamp(hub: Hub | None, value: Any, default: Any = NO_DEFAULT) -> Any:
    """``as_timestamp``: a datetime or date/time string as a POSIX timestamp, or ``default``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    parsed = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        parsed = _parse_datetime(value)
    if parsed is None:
        if default is NO_DEFAULT:
            raise _no_default("as_timestamp", value)
        return default
    return _aware(hub, parsed).timestamp()


def as_local(hub: Hub | None, value: Any) -> datetime:
    """``as_local``: a datetime (or what ``as_datetime`` accepts) in the community's time zone."""
    parsed = as_datetime(value)
    return _aware(hub, parsed).astimezone(local_zone(hub))


def strptime(value: Any, fmt: Any, default: Any = NO_DEFAULT) -> Any:
    """``strptime(string, format)``: parse a date/time, or return ``default``."""
    try:
        return datetime.strptime(value, fmt)
    except (ValueError, TypeError, AttributeError):
        if default is NO_DEFAULT:
            raise _no_default("strptime", value) from None
        return default


def make_timedelta(
    days: float = 0,
    seconds: float = 0,
    microseconds: float = 0,
    milliseconds: float = 0,
    minutes: float = 0,
    hours: float = 0,
    weeks: float = 0,
) -> timedelta:
    """``timedelta(hours=1, minutes=30)``: a duration."""
    return timedelta(days, seconds, microseconds, milliseconds, minutes, hours, weeks)


def as_timedelta(value: Any) -> timedelta | None:
    """``as_timedelta("01:30:00")``: a duration from text, or None."""
    try:
        return parse_duration(value)
    except (ValueError, TypeError, OverflowError):
        return None


def timestamp_custom(
    hub: Hub | None,
    value: Any,
    fmt: str = "%Y-%m-%d %H:%M:%S",
    local: bool = True,
    default: Any = NO_DEFAULT,
) -> Any:
    """``timestamp_custom(format, local=True)``: format a POSIX timestamp."""
    try:
        moment = utc_from_timestamp(float(value))
        if local:
            moment = moment.astimezone(local_zone(hub))
        return moment.strftime(fmt)
    except (ValueError, TypeError, OverflowError, OSError):
        if default is NO_DEFAULT:
            raise _no_default("timestamp_custom", value) from None
        return default


def timestamp_local(hub: Hub | None, value: Any, default: Any = NO_DEFAULT) -> Any:
    """``timestamp_local``: a POSIX timestamp as local ISO time."""
    try:
        return utc_from_timestamp(float(value)).astimezone(local_zone(hub)).isoformat()
    except (ValueError, TypeError, OverflowError, OSError):
        if default is NO_DEFAULT:
            raise _no_default("timestamp_local", value) from None
        return default


def timestamp_utc(value: Any, default: Any = NO_DEFAULT) -> Any:
    """``timestamp_utc``: a POSIX timestamp as UTC ISO time."""
    try:
        return utc_from_timestamp(float(value)).isoformat()
    except (ValueError, TypeError, OverflowError, OSError):
        if default is NO_DEFAULT:
            raise _no_default("timestamp_utc", value) from None
        return default


_UNITS: Final = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


def _duration_text(seconds: float, precision: int) -> str:
    """Return e.g. "2 hours" or, with precision 2, "2 hours 5 minutes" (zero units skipped)."""
    remaining = int(abs(seconds))
    parts: list[str] = []
    counted = 0
    for unit, size in _UNITS:
        amount, remaining = divmod(remaining, size)
        if amount or counted:
            counted += 1
            if amount:
                parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
            if counted >= precision:
                break
    return " ".join(parts) or "0 seconds"


def relative_time(hub: Hub | None, value: Any) -> Any:
    """``relative_time(dt)``: how long ago ``dt`` was ("2 hours"); other values unchanged."""
    if not isinstance(value, datetime):
        return value
    moment = now(hub)
    then = _aware(hub, value)
    if then > moment:
        return value
    return _duration_text((moment - then).total_seconds(), 1)


def time_since(hub: Hub | None, value: Any, precision: int = 1) -> Any:
    """``time_since(dt, precision=1)``: how long ago ``dt`` was, in up to ``precision`` units."""
    if not isinstance(value, datetime):
        return value
    moment = now(hub)
    then = _aware(hub, value)
    if then > moment:
        return value
    return _duration_text((moment - then).total_seconds(), max(1, min(int(precision), 6)))


def time_until(hub: Hub | None, value: Any, precision: int = 1) -> Any:
    """``time_until(dt, precision=1)``: how long until ``dt``, in up to ``precision`` units."""
    if not isinstance(value, datetime):
        return value
    moment = now(hub)
    then = _aware(hub, value)
    if then < moment:
        return value
    return _duration_text((then - moment).total_seconds(), max(1, min(int(precision), 6)))


# ---------------------------------------------------------------------- text and JSON
@lru_cache(maxsize=128)
def _regex(pattern: str, ignorecase: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignorecase else 0)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def regex_match(value: Any, find: str = "", ignorecase: bool = False) -> bool:
    """Return whether ``find`` matches at the start of ``value``."""
    return _regex(find, ignorecase).match(_text(value)) is not None


def regex_search(value: Any, find: str = "", ignorecase: bool = False) -> bool:
    """Return whether ``find`` matches anywhere in ``value``."""
    return _regex(find, ignorecase).search(_text(value)) is not None


def regex_replace(
    value: Any = "", find: str = "", replace: str = "", ignorecase: bool = False
) -> str:
    """Replace every match of ``find`` in ``value`` by ``replace`` (``\\1`` refers to groups)."""
    budget = current().budget
    text = _text(value)
    built = [len(text)]

    def expand(match: re.Match[str]) -> str:
        piece = match.expand(replace)
        built[0] += len(piece)
        # Checked per match: an empty pattern and a long replacement multiply the text.
        budget.check_size(built[0], "regex_replace result")
        return piece

    result = _regex(find, ignorecase).sub(expand, text)
    budget.charge(len(result))
    return result


def regex_findall(value: Any, find: str = "", ignorecase: bool = False) -> list[Any]:
    """Return every match of ``find`` in ``value``."""
    return _regex(find, ignorecase).findall(_text(value))


def regex_findall_index(
    value: Any, find: str = "", index: int = 0, ignorecase: bool = False
) -> Any:
    """Return match number ``index`` of ``find`` in ``value``."""
    return regex_findall(value, find, ignorecase)[index]


def from_json(value: Any, default: Any = NO_DEFAULT) -> Any:
    """``from_json``: parse JSON text, or return ``default``."""
    try:
        return json_loads(value)
    except (orjson.JSONDecodeError, TypeError):
        if default is NO_DEFAULT:
            raise _no_default("from_json", value) from None
        return default


def to_json(
    value: Any, ensure_ascii: bool = False, pretty_print: bool = False, sort_keys: bool = False
) -> str:
    """``to_json``: serialise ``value`` (states, datetimes and sets included)."""
    if ensure_ascii:
        return json.dumps(
            value,
            ensure_ascii=True,
            indent=2 if pretty_print else None,
            sort_keys=sort_keys,
            default=json_encoder_default,
        )
    option = orjson.OPT_NON_STR_KEYS
    if pretty_print:
        option |= orjson.OPT_INDENT_2
    if sort_keys:
        option |= orjson.OPT_SORT_KEYS
    return orjson.dumps(value, default=json_encoder_default, option=option).decode()


def slugify(value: Any, separator: str = "_") -> str:
    """``slugify``: lower-case ascii letters and digits joined by ``separator``.

    Characters without an ascii form (Chinese) are dropped; an empty result is ``"unknown"``.
    """
    text = unicodedata.normalize("NFKD", _text(value)).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", text.lower())
    return separator.join(words) if words else "unknown"


# ---------------------------------------------------------------------- registries
def _registries(hub: Hub | None, name: str) -> Registries:
    hub = _need_hub(hub, name)
    require_full(name)
    try:
        return hub.registries
    except RuntimeError:
        raise TemplateError(f"'{name}' needs the registries, which are not loaded yet") from None


def _entity_area(regs: Registries, entity_id: str) -> str | None:
    if entity_id in regs.entities:
        return regs.entities.effective_area_id(entity_id)
    return None


def _area_by_name(hub: Hub, regs: Registries, lookup: str) -> str | None:
    parts = [part.strip().casefold() for part in lookup.split("/")]
    language = hub.config.language
    matches: list[str] = []
    for entry in regs.areas:
        if len(parts) == 1:
            names = {entry.name.casefold(), *(name.casefold() for name in entry.names.values())}
            if parts[0] in names:
                matches.append(entry.id)
            continue
        chain = [*regs.areas.ancestors(entry.id), entry][-len(parts) :]
        if [area.display_name(language).casefold() for area in chain] == parts:
            matches.append(entry.id)
    # Names repeat across buildings ("12层"): an ambiguous name finds nothing rather than a guess.
    return matches[0] if len(matches) == 1 else None


def resolve_area(hub: Hub, regs: Registries, lookup: Any) -> str | None:
    """Return the area id of an area id, entity id, device id, name or name path."""
    if not isinstance(lookup, str) or not lookup.strip():
        return None
    text = lookup.strip()
    if text in regs.areas:
        return text
    if valid_entity_id(text):
        return _entity_area(regs, text)
    device = regs.devices.async_get(text)
    if device is not None:
        return device.area_id
    return _area_by_name(hub, regs, text)


def areas(hub: Hub | None) -> list[str]:
    """``areas()``: every area id."""
    return [entry.id for entry in _registries(hub, "areas").areas]


def area_id(hub: Hub | None, lookup: Any) -> str | None:
    """``area_id(name | entity_id | device_id)``: the area id, or None.

    A name may be a path such as ``"3号楼 / 12层"`` where the last name alone is ambiguous.
    """
    regs = _registries(hub, "area_id")
    return resolve_area(_need_hub(hub, "area_id"), regs, lookup)


def area_name(hub: Hub | None, lookup: Any) -> str | None:
    """``area_name(area_id | entity_id | device_id)``: the name in the community's language."""
    regs = _registries(hub, "area_name")
    found = resolve_area(_need_hub(hub, "area_name"), regs, lookup)
    return None if found is None else regs.areas.display_name(found)


def area_path(hub: Hub | None, lookup: Any) -> str | None:
    """``area_path(area_id | entity_id | device_id)``: e.g. ``"幸福里 / 3号楼 / 12层"``."""
    regs = _registries(hub, "area_path")
    found = resolve_area(_need_hub(hub, "area_path"), regs, lookup)
    return None if found is None else regs.areas.path_name(found)


def area_entities(hub: Hub | None, lookup: Any, recursive: bool = False) -> list[str]:
    """``area_entities(area, recursive=false)``: entity ids in the area (and below it)."""
    regs = _registries(hub, "area_entities")
    found = resolve_area(_need_hub(hub, "area_entities"), regs, lookup)
    if found is None:
        return []
    return [entry.entity_id for entry in regs.entities.entities_in_area(found, recursive)]


def area_devices(hub: Hub | None, lookup: Any, recursive: bool = False) -> list[str]:
    """``area_devices(area, recursive=false)``: device ids in the area (and below it)."""
    regs = _registries(hub, "area_devices")
    found = resolve_area(_need_hub(hub, "area_devices"), regs, lookup)
    if found is None:
        return []
    wanted = regs.areas.descendant_ids(found) if recursive else {found}
    return [device.id for device in regs.devices if device.area_id in wanted]


def _resolve_device(regs: Registries, lookup: Any) -> str | None:
    if not isinstance(lookup, str) or not lookup.strip():
        return None
    text = lookup.strip()
    if regs.devices.async_get(text) is not None:
        return text
    entry = regs.entities.async_get(text)
    if entry is not None:
        return entry.device_id
    wanted = text.casefold()
    matches = [d.id for d in regs.devices if (d.display_name or "").casefold() == wanted]
    return matches[0] if len(matches) == 1 else None


_DEVICE_FIELDS: Final = frozenset(
    {
        "id",
        "integration",
        "identifiers",
        "connections",
        "manufacturer",
        "model",
        "name",
        "name_by_user",
        "display_name",
        "sw_version",
        "hw_version",
        "serial_number",
        "area_id",
        "via_device_id",
        "disabled_by",
    }
)


def device_id(hub: Hub | None, lookup: Any) -> str | None:
    """``device_id(entity_id | device name)``: the device id, or None."""
    return _resolve_device(_registries(hub, "device_id"), lookup)


def device_name(hub: Hub | None, lookup: Any) -> str | None:
    """``device_name(device_id | entity_id)``: the user's or the integration's device name."""
    regs = _registries(hub, "device_name")
    found = _resolve_device(regs, lookup)
    device = None if found is None else regs.devices.async_get(found)
    return None if device is None else device.display_name


def device_attr(hub: Hub | None, lookup: Any, name: Any) -> Any:
    """``device_attr(device_id | entity_id, name)``: one field of the device, or None."""
    regs = _registries(hub, "device_attr")
    found = _resolve_device(regs, lookup)
    device = None if found is None else regs.devices.async_get(found)
    if device is None or name not in _DEVICE_FIELDS:
        return None
    return getattr(device, name)


def is_device_attr(hub: Hub | None, lookup: Any, name: Any, value: Any) -> bool:
    """``is_device_attr(device_id | entity_id, name, value)``."""
    return bool(device_attr(hub, lookup, name) == value)


def device_entities(hub: Hub | None, lookup: Any) -> list[str]:
    """``device_entities(device_id)``: the device's entity ids."""
    regs = _registries(hub, "device_entities")
    found = _resolve_device(regs, lookup)
    if found is None:
        return []
    return [entry.entity_id for entry in regs.entities.entities_for_device(found)]
