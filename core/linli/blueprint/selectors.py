"""Selectors: the kinds of value a blueprint input takes, in Home Assistant's selector schema.

An input declares ``selector: {<type>: <options>}``, e.g. ``selector: {entity: {filter:
{domain: binary_sensor}}}``. Each type is one entry of :data:`SELECTORS`: a schema for its
options and a check for a value chosen for it. Adding a type is adding an entry.

Value checks only look at the value itself: whether an entity exists, or has the filtered
device class or integration, needs a running hub and is not checked here. A template string
(``"{{ … }}"``) is accepted for any selector of plain values, since Home Assistant blueprints
often pass templates through to fields that render them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import voluptuous as vol

import linli.helpers.config_validation as cv

__all__ = [
    "SELECTORS",
    "SelectorType",
    "UnknownSelectorError",
    "check_value",
    "is_template_string",
    "options_schema",
    "selector_type",
    "validate_selector",
]

ValueCheck = Callable[[Mapping[str, Any], Any], None]
"""Raise :class:`vol.Invalid` saying why a value does not suit a selector with these options."""


@dataclass(frozen=True, slots=True)
class SelectorType:
    """One kind of selector: how its options are written and what a value for it must be."""

    options: Callable[[Any], Any]
    """Validates and normalises the options (``None`` means no options)."""
    check: ValueCheck
    templates: bool = True
    """Whether a template string stands in for a value (it is rendered where it is used)."""


class UnknownSelectorError(vol.Invalid):
    """A selector names no known type, or more than one; ``path`` holds the offending key."""


def is_template_string(value: Any) -> bool:
    """Return whether ``value`` is a string holding Jinja2 template markup."""
    return isinstance(value, str) and any(mark in value for mark in ("{{", "{%", "{#"))


# --- option schemas -----------------------------------------------------------------------


def _none_to_empty(value: Any) -> Any:
    return {} if value is None else value


def options_schema(
    schema: Mapping[Any, Any] | None = None, *after: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """Build a selector type's options schema: a mapping, empty when omitted.

    ``schema`` gives its keys (``read_only`` is always allowed); each of ``after`` then checks
    the options as a whole.
    """
    return vol.All(
        _none_to_empty, vol.Schema({vol.Optional("read_only"): bool, **(schema or {})}), *after
    )


_strings = vol.All(cv.ensure_list, [str])

ENTITY_FILTER: Final = vol.Schema(
    {
        vol.Optional("integration"): str,
        vol.Optional("domain"): _strings,
        vol.Optional("device_class"): _strings,
        vol.Optional("supported_features"): [_strings],
    }
)
DEVICE_FILTER: Final = vol.Schema(
    {
        vol.Optional("integration"): str,
        vol.Optional("manufacturer"): str,
        vol.Optional("model"): str,
        vol.Optional("model_id"): str,
    }
)
_entity_filters = vol.All(cv.ensure_list, [ENTITY_FILTER])
_device_filters = vol.All(cv.ensure_list, [DEVICE_FILTER])
_multiple = {vol.Optional("multiple", default=False): cv.boolean}
# The area, floor and target selectors narrow what they offer by these filters.
_narrowed = {vol.Optional("entity"): _entity_filters, vol.Optional("device"): _device_filters}


def _number_mode(options: dict[str, Any]) -> dict[str, Any]:
    # Home Assistant's rule: a slider needs both ends; with both and no mode, it is a slider.
    has_range = "min" in options and "max" in options
    options.setdefault("mode", "slider" if has_range else "box")
    if options["mode"] == "slider" and not has_range:
        raise vol.Invalid("min and max are required in slider mode", path=["mode"])
    return options


def _select_option(value: Any) -> Any:
    if isinstance(value, Mapping):
        return vol.Schema({vol.Required("value"): cv.string, vol.Required("label"): cv.string})(
            value
        )
    return cv.string(value)


_TEXT_TYPES: Final = (
    "color",
    "date",
    "datetime-local",
    "email",
    "month",
    "number",
    "password",
    "search",
    "tel",
    "text",
    "time",
    "url",
    "week",
)


# --- value checks -------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value if not isinstance(value, str) else str(value))


def _each(options: Mapping[str, Any], value: Any, check_one: Callable[[Any], None]) -> None:
    """Check one value, or each of a list when the selector has ``multiple: true``."""
    if not options.get("multiple"):
        if isinstance(value, list):
            raise vol.Invalid("expected one value, got a list (the selector has no multiple: true)")
        check_one(value)
        return
    if is_template_string(value):
        return
    if not isinstance(value, list):
        raise vol.Invalid(
            f"expected a list (the selector has multiple: true), got {_describe(value)}"
        )
    for index, item in enumerate(value):
        try:
            check_one(item)
        except vol.Invalid as err:
            raise vol.Invalid(f"item {index + 1}: {err.msg}") from err


def _string_id(what: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise vol.Invalid(f"expected {what}, got {_describe(value)}")

    return check


def _ids(what: str) -> ValueCheck:
    one = _string_id(what)
    return lambda options, value: _each(options, value, one)


def _domains(filters: Any) -> set[str] | None:
    """The domains a list of entity filters allows, or None when any domain will do."""
    allowed: set[str] = set()
    for entity_filter in filters or ():
        if not entity_filter.get("domain"):
            return None
        allowed.update(entity_filter["domain"])
    return allowed or None


def _entity_id_in(domains: set[str] | None, value: Any) -> None:
    if is_template_string(value):
        return
    entity_id = cv.entity_id(value)
    domain = entity_id.partition(".")[0]
    if domains and domain not in domains:
        raise vol.Invalid(f"{entity_id} is not in domain {' or '.join(sorted(domains))}")


def _entity(options: Mapping[str, Any], value: Any) -> None:
    legacy = set(options.get("domain") or ())
    filtered = _domains(options.get("filter"))
    include = options.get("include_entities")
    exclude = options.get("exclude_entities") or ()

    def one(item: Any) -> None:
        _entity_id_in(legacy or None, item)
        _entity_id_in(filtered, item)
        if is_template_string(item):
            return
        entity_id = cv.entity_id(item)
        if include and entity_id not in include:
            raise vol.Invalid(f"{entity_id} is not one of {', '.join(include)}")
        if entity_id in exclude:
            raise vol.Invalid(f"{entity_id} is excluded by the selector")

    _each(options, value, one)


_TARGET_KEYS: Final = ("entity_id", "device_id", "area_id", "floor_id", "label_id")


def _target(options: Mapping[str, Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise vol.Invalid(
            f"expected a mapping of {', '.join(_TARGET_KEYS)}, got {_describe(value)}"
        )
    domains = _domains(options.get("entity"))
    for key, ids in value.items():
        if key not in _TARGET_KEYS:
            raise vol.Invalid(f"unknown target key {key!r}; use {', '.join(_TARGET_KEYS)}")
        if is_template_string(ids):
            continue
        for item in cv.ensure_list(ids):
            if key == "entity_id":
                _entity_id_in(domains, item)
            else:
                _string_id(f"{key} strings")(item)


def _number(options: Mapping[str, Any], value: Any) -> None:
    if isinstance(value, bool):
        raise vol.Invalid(f"expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise vol.Invalid(f"expected a number, got {_describe(value)}") from None
    if "min" in options and number < options["min"]:
        raise vol.Invalid(f"{value} is below the minimum {options['min']:g}")
    if "max" in options and number > options["max"]:
        raise vol.Invalid(f"{value} is above the maximum {options['max']:g}")


def _text_value(value: Any) -> None:
    if value is None or isinstance(value, bool | Mapping | list):
        raise vol.Invalid(f"expected text, got {_describe(value)}")


def _boolean(_options: Mapping[str, Any], value: Any) -> None:
    cv.boolean(value)


def _duration(options: Mapping[str, Any], value: Any) -> None:
    period = cv.time_period(value)
    if options.get("allow_negative") is False and period.total_seconds() < 0:
        raise vol.Invalid("the duration must not be negative")


def _time(_options: Mapping[str, Any], value: Any) -> None:
    cv.time(value)


def _iso(parse: Callable[[str], Any], what: str) -> ValueCheck:
    def check(_options: Mapping[str, Any], value: Any) -> None:
        try:
            parse(str(value))
        except ValueError:
            raise vol.Invalid(f"expected {what}, got {_describe(value)}") from None

    return check


def _select(options: Mapping[str, Any], value: Any) -> None:
    choices = [
        option["value"] if isinstance(option, Mapping) else option for option in options["options"]
    ]

    def one(item: Any) -> None:
        if item is None or isinstance(item, Mapping | list):
            raise vol.Invalid(f"expected one of the options, got {_describe(item)}")
        if not options.get("custom_value") and str(item) not in choices:
            raise vol.Invalid(f"{str(item)!r} is not one of {', '.join(map(repr, choices))}")

    _each(options, value, one)


def _constant(options: Mapping[str, Any], value: Any) -> None:
    if value != options["value"]:
        raise vol.Invalid(f"expected {options['value']!r}, got {_describe(value)}")


def _color_rgb(_options: Mapping[str, Any], value: Any) -> None:
    if not (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        raise vol.Invalid(f"expected [red, green, blue] of 0..255, got {_describe(value)}")


def _location(_options: Mapping[str, Any], value: Any) -> None:
    vol.Schema(
        {
            vol.Required("latitude"): vol.Coerce(float),
            vol.Required("longitude"): vol.Coerce(float),
            vol.Optional("radius"): vol.Coerce(float),
        }
    )(value)


def _template(_options: Mapping[str, Any], value: Any) -> None:
    if value is None or isinstance(value, Mapping | list):
        raise vol.Invalid(f"expected a template string, got {_describe(value)}")


def _sequence_of(what: str, allow_text: bool = False) -> ValueCheck:
    """A list of ``what`` configs, or a single one (as automations accept)."""

    def check(_options: Mapping[str, Any], value: Any) -> None:
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(item, Mapping) or (allow_text and isinstance(item, str)):
                continue
            raise vol.Invalid(f"{what} {index + 1} must be a mapping, got {_describe(item)}")

    return check


def _anything(_options: Mapping[str, Any], _value: Any) -> None:
    return None


# --- the table ----------------------------------------------------------------------------

SELECTORS: Final[dict[str, SelectorType]] = {
    "action": SelectorType(options_schema(), _sequence_of("action"), templates=False),
    "area": SelectorType(options_schema({**_narrowed, **_multiple}), _ids("an area id")),
    "attribute": SelectorType(
        options_schema(
            {vol.Required("entity_id"): cv.entity_id, vol.Optional("hide_attributes"): [str]}
        ),
        _ids("an attribute name"),
    ),
    "boolean": SelectorType(options_schema(), _boolean),
    "color_rgb": SelectorType(options_schema(), _color_rgb),
    "color_temp": SelectorType(
        options_schema(
            {
                vol.Optional("unit", default="mired"): vol.In(("kelvin", "mired")),
                vol.Optional("min"): vol.Coerce(float),
                vol.Optional("max"): vol.Coerce(float),
                vol.Optional("min_mireds"): vol.Coerce(float),
                vol.Optional("max_mireds"): vol.Coerce(float),
            }
        ),
        _number,
    ),
    "condition": SelectorType(
        options_schema(), _sequence_of("condition", allow_text=True), templates=False
    ),
    "constant": SelectorType(
        options_schema(
            {
                vol.Required("value"): vol.Any(str, int, bool),
                vol.Optional("label"): str,
                vol.Optional("translation_key"): str,
            }
        ),
        _constant,
    ),
    "date": SelectorType(options_schema(), _iso(date.fromisoformat, "a date (YYYY-MM-DD)")),
    "datetime": SelectorType(
        options_schema(), _iso(datetime.fromisoformat, "a date and time (YYYY-MM-DD HH:MM:SS)")
    ),
    "device": SelectorType(
        options_schema(
            {
                vol.Optional("integration"): str,
                vol.Optional("manufacturer"): str,
                vol.Optional("model"): str,
                vol.Optional("entity"): _entity_filters,
                vol.Optional("filter"): _device_filters,
                **_multiple,
            }
        ),
        _ids("a device id"),
    ),
    "duration": SelectorType(
        options_schema(
            {
                vol.Optional("enable_day"): cv.boolean,
                vol.Optional("enable_millisecond"): cv.boolean,
                vol.Optional("allow_negative"): cv.boolean,
            }
        ),
        _duration,
    ),
    "entity": SelectorType(
        options_schema(
            {
                vol.Optional("integration"): str,
                vol.Optional("domain"): _strings,
                vol.Optional("device_class"): _strings,
                vol.Optional("include_entities"): [cv.entity_id],
                vol.Optional("exclude_entities"): [cv.entity_id],
                vol.Optional("filter"): _entity_filters,
                vol.Optional("reorder", default=False): cv.boolean,
                **_multiple,
            }
        ),
        _entity,
    ),
    "floor": SelectorType(options_schema({**_narrowed, **_multiple}), _ids("a floor id")),
    "icon": SelectorType(options_schema({vol.Optional("placeholder"): str}), _ids("an icon name")),
    "label": SelectorType(options_schema(_multiple), _ids("a label id")),
    "location": SelectorType(
        options_schema({vol.Optional("radius"): bool, vol.Optional("icon"): str}), _location
    ),
    "number": SelectorType(
        options_schema(
            {
                vol.Optional("min"): vol.Coerce(float),
                vol.Optional("max"): vol.Coerce(float),
                vol.Optional("step", default=1): vol.Any(
                    "any", vol.All(vol.Coerce(float), vol.Range(min=1e-3))
                ),
                vol.Optional("unit_of_measurement"): str,
                vol.Optional("mode"): vol.In(("box", "slider")),
                vol.Optional("translation_key"): str,
            },
            _number_mode,
        ),
        _number,
    ),
    "object": SelectorType(
        options_schema(
            {
                vol.Optional("fields"): {
                    str: {
                        vol.Required("selector"): dict,
                        vol.Optional("required"): bool,
                        vol.Optional("label"): str,
                    }
                },
                vol.Optional("label_field"): str,
                vol.Optional("description_field"): str,
                vol.Optional("translation_key"): str,
                vol.Optional("multiple", default=False): bool,
            }
        ),
        _anything,
        templates=False,
    ),
    "select": SelectorType(
        options_schema(
            {
                vol.Required("options"): [_select_option],
                vol.Optional("custom_value", default=False): cv.boolean,
                vol.Optional("mode"): vol.In(("list", "dropdown")),
                vol.Optional("translation_key"): str,
                vol.Optional("sort", default=False): cv.boolean,
                **_multiple,
            }
        ),
        _select,
    ),
    "state": SelectorType(
        options_schema(
            {
                vol.Optional("entity_id"): cv.entity_id,
                vol.Optional("hide_states"): [str],
                **_multiple,
            }
        ),
        lambda options, value: _each(options, value, _text_value),
    ),
    "target": SelectorType(options_schema(_narrowed), _target),
    "template": SelectorType(options_schema(), _template),
    "text": SelectorType(
        options_schema(
            {
                vol.Optional("multiline", default=False): bool,
                vol.Optional("prefix"): str,
                vol.Optional("suffix"): str,
                vol.Optional("type"): vol.In(_TEXT_TYPES),
                vol.Optional("autocomplete"): str,
                vol.Optional("multiple", default=False): bool,
            }
        ),
        lambda options, value: _each(options, value, _text_value),
    ),
    "time": SelectorType(options_schema(), _time),
    "trigger": SelectorType(options_schema(), _sequence_of("trigger"), templates=False),
}
"""Every known selector type, by the name written in ``selector: {<type>: …}``."""


# --- public helpers -----------------------------------------------------------------------


def selector_type(selector: Mapping[str, Any]) -> str:
    """Return the type of a validated selector (its only key)."""
    return next(iter(selector))


def validate_selector(config: Any) -> dict[str, Any]:
    """Validate ``{type: options}``; return it with the options normalised.

    Raises :class:`UnknownSelectorError` (its ``path`` names the offending key, if any) when
    the type is missing, unknown or not alone, and :class:`vol.Invalid` with a path of
    ``[type, option, …]`` when an option is wrong.
    """
    if not isinstance(config, Mapping):
        raise UnknownSelectorError(
            f"a selector is a mapping of one type to its options, e.g. 'entity: {{}}', "
            f"not {_describe(config)}"
        )
    if len(config) != 1:
        found = ", ".join(map(str, config)) or "none"
        raise UnknownSelectorError(f"a selector has exactly one type; found: {found}")
    kind = selector_type(config)
    spec = SELECTORS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        message = f"unknown selector type {kind!r}"
        close = difflib.get_close_matches(str(kind), SELECTORS, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        message += f"; known types: {', '.join(SELECTORS)}"
        raise UnknownSelectorError(message, path=[kind])
    try:
        options = spec.options(config[kind])
    except vol.Invalid as err:
        err.prepend([kind])
        raise
    return {kind: options}


def check_value(selector: Mapping[str, Any], value: Any) -> None:
    """Raise :class:`vol.Invalid` saying why ``value`` cannot be chosen for a validated selector."""
    kind = selector_type(selector)
    spec = SELECTORS[kind]
    if value is None and kind != "object":
        raise vol.Invalid("no value given")
    if spec.templates and is_template_string(value):
        return
    spec.check(selector[kind], value)
