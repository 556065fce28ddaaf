"""Conditions: validate condition configs and build checkers that record into a trace.

Home Assistant's conditions (a superset of the YAML): ``state`` (with ``attribute``, ``for``,
``match``), ``numeric_state`` (``above``/``below`` as numbers or entity ids, ``attribute``,
``value_template``), ``template``, ``time`` (``after``/``before`` across midnight, ``weekday``,
in the hub's time zone), ``trigger`` (``id``) and ``and``/``or``/``not``. Shorthands: a bare
template string is a template condition, and ``{or: [...]}`` (likewise ``and``/``not``) a
logical one. Every condition may carry ``alias`` and ``enabled`` (a disabled one is skipped:
it neither passes nor fails its parent).

A checker is a plain function safe to call on the loop: ``checker(variables, trace)``. It
never raises: a condition that cannot be evaluated (an unknown entity, a template error) is
false, and the trace shows why. As in Home Assistant, such an error inside ``or`` does not
hide a branch that is true, and ``not`` of an error is an error (false), not true.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from datetime import time as dt_time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

import voluptuous as vol

import linli.helpers.config_validation as cv
from linli.exceptions import LinliError
from linli.template import Template
from linli.template import attach as _attach
from linli.template import is_template_string as _is_template_text
from linli.template import template as _template

if TYPE_CHECKING:
    from linli.helpers.trace import Trace
    from linli.hub import Hub
    from linli.state import State

__all__ = [
    "CONDITION_SCHEMA",
    "ConditionChecker",
    "ConditionError",
    "async_conditions_from_config",
    "async_from_config",
    "conditions_from_config",
    "from_config",
    "valid_conditions",
]

_LOGGER = logging.getLogger(__name__)

ConditionChecker = Callable[[Mapping[str, Any], "Trace | None"], bool]
"""``checker(variables, trace)``: True when the condition holds; never raises."""

CONF_CONDITION: Final = "condition"
CONF_CONDITIONS: Final = "conditions"
CONF_ALIAS: Final = "alias"
CONF_ENABLED: Final = "enabled"
CONF_ENTITY_ID: Final = "entity_id"
CONF_STATE: Final = "state"
CONF_ATTRIBUTE: Final = "attribute"
CONF_FOR: Final = "for"
CONF_MATCH: Final = "match"
CONF_ABOVE: Final = "above"
CONF_BELOW: Final = "below"
CONF_VALUE_TEMPLATE: Final = "value_template"
CONF_AFTER: Final = "after"
CONF_BEFORE: Final = "before"
CONF_WEEKDAY: Final = "weekday"
CONF_ID: Final = "id"

_LOGICAL: Final = ("and", "or", "not")
_UNAVAILABLE: Final = frozenset(("unavailable", "unknown"))
# Home Assistant compares a state condition with the state of these helper entities.
_INPUT_ENTITY_ID: Final = re.compile(
    r"^input_(?:select|text|number|boolean|datetime)\.(?!.+__)(?!_)[\da-z_]+(?<!_)$"
)


class ConditionError(LinliError):
    """A condition could not be evaluated (it counts as false; the trace shows why)."""


# ---------------------------------------------------------------------------- templates


def is_template_string(value: Any) -> bool:
    """Return whether ``value`` is a string with template markup."""
    return isinstance(value, str) and _is_template_text(value)


def template(value: Any) -> Template:
    """Validate a template string (its syntax is checked now)."""
    return _template(value)


def template_complex(value: Any) -> Any:
    """Validate a structure whose strings may be templates.

    Only strings with template markup become templates; plain strings stay strings, so a
    value such as ``"0123"`` reaches a service as written (Home Assistant would parse it).
    """
    if isinstance(value, list):
        return [template_complex(item) for item in value]
    if isinstance(value, Mapping):
        return {
            (_template(key) if is_template_string(key) else key): template_complex(item)
            for key, item in value.items()
        }
    if is_template_string(value):
        return _template(value)
    return value


def is_template(value: Any) -> bool:
    """Return whether ``value`` is a validated template object."""
    return isinstance(value, Template)


def contains_template(value: Any) -> bool:
    """Return whether a validated structure holds a template anywhere."""
    if isinstance(value, Mapping):
        return any(contains_template(key) or contains_template(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_template(item) for item in value)
    return isinstance(value, Template)


def attach(hub: Hub, config: Any) -> None:
    """Give the templates inside ``config`` the hub (they are made without one)."""
    _attach(hub, config)


def render_bool(tpl: Any, variables: Mapping[str, Any]) -> bool:
    """Render ``tpl`` and read the result as Home Assistant does: true only for "true"."""
    value = tpl.async_render(variables, parse_result=False)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def time_period_template(value: Any) -> Any:
    """A duration, a template, or a mapping of numbers and templates."""
    if is_template_string(value):
        return template(value)
    if isinstance(value, dict) and any(is_template_string(item) for item in value.values()):
        return {k: template(v) if is_template_string(v) else v for k, v in value.items()}
    return cv.positive_time_period(value)


def render_time_period(value: Any, variables: Mapping[str, Any]) -> timedelta:
    """Return the duration ``value`` stands for, rendering its templates first."""
    if isinstance(value, timedelta):
        return value
    if is_template(value):
        value = value.async_render(variables)
    elif isinstance(value, Mapping):
        value = {
            key: item.async_render(variables) if is_template(item) else item
            for key, item in value.items()
        }
    try:
        return cv.positive_time_period(value)  # type: ignore[no-any-return]
    except vol.Invalid as err:
        raise ConditionError(f"invalid duration {value!r}: {err.msg}") from err


# ---------------------------------------------------------------------------- schemas


def _state_value(value: Any) -> Any:
    if isinstance(value, dict | list) or value is None:
        raise vol.Invalid("expected a state value")
    return value


def _check_state_values(config: dict[str, Any]) -> dict[str, Any]:
    if CONF_ATTRIBUTE not in config and any(isinstance(v, bool) for v in config[CONF_STATE]):
        # YAML 1.1 reads on/off/yes/no as booleans; a state is always a string.
        raise vol.Invalid(
            "write states such as 'on' and 'off' in quotes (YAML reads them as true/false)",
            path=[CONF_STATE],
        )
    return config


def _has_bound(config: dict[str, Any]) -> dict[str, Any]:
    if CONF_ABOVE not in config and CONF_BELOW not in config:
        raise vol.Invalid("numeric_state needs 'above', 'below' or both")
    return config


def _has_time(config: dict[str, Any]) -> dict[str, Any]:
    if not any(key in config for key in (CONF_AFTER, CONF_BEFORE, CONF_WEEKDAY)):
        raise vol.Invalid("time needs 'after', 'before' or 'weekday'")
    return config


_number_or_entity = vol.Any(vol.Coerce(float), cv.entity_id)
_time_or_entity = vol.Any(cv.time, cv.entity_id)

_BASE: Final[dict[Any, Any]] = {
    vol.Optional(CONF_ALIAS): cv.string,
    vol.Optional(CONF_ENABLED): cv.boolean,
}

STATE_CONDITION_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            **_BASE,
            vol.Required(CONF_CONDITION): "state",
            vol.Required(CONF_ENTITY_ID): cv.entity_ids,
            vol.Required(CONF_STATE): vol.All(cv.ensure_list, [_state_value]),
            vol.Optional(CONF_ATTRIBUTE): cv.string,
            vol.Optional(CONF_FOR): time_period_template,
            vol.Optional(CONF_MATCH): vol.In(("all", "any")),
        }
    ),
    _check_state_values,
)

NUMERIC_STATE_CONDITION_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            **_BASE,
            vol.Required(CONF_CONDITION): "numeric_state",
            vol.Required(CONF_ENTITY_ID): cv.entity_ids,
            vol.Optional(CONF_ATTRIBUTE): cv.string,
            vol.Optional(CONF_VALUE_TEMPLATE): template,
            vol.Optional(CONF_ABOVE): _number_or_entity,
            vol.Optional(CONF_BELOW): _number_or_entity,
        }
    ),
    _has_bound,
)

TEMPLATE_CONDITION_SCHEMA: Final = vol.Schema(
    {
        **_BASE,
        vol.Required(CONF_CONDITION): "template",
        vol.Required(CONF_VALUE_TEMPLATE): template,
    }
)

TIME_CONDITION_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            **_BASE,
            vol.Required(CONF_CONDITION): "time",
            vol.Optional(CONF_AFTER): _time_or_entity,
            vol.Optional(CONF_BEFORE): _time_or_entity,
            vol.Optional(CONF_WEEKDAY): cv.weekdays,
        }
    ),
    _has_time,
)

TRIGGER_CONDITION_SCHEMA: Final = vol.Schema(
    {
        **_BASE,
        vol.Required(CONF_CONDITION): "trigger",
        vol.Required(CONF_ID): vol.All(cv.ensure_list, [cv.string]),
    }
)


def _nested_conditions(value: Any) -> list[dict[str, Any]]:
    # Late-bound: valid_conditions is defined below.
    return valid_conditions(value)


def _logical_schema(kind: str) -> vol.Schema:
    return vol.Schema(
        {
            **_BASE,
            vol.Required(CONF_CONDITION): kind,
            vol.Required(CONF_CONDITIONS): _nested_conditions,
        }
    )


_SCHEMAS: Final[dict[str, Callable[[Any], Any]]] = {
    "state": STATE_CONDITION_SCHEMA,
    "numeric_state": NUMERIC_STATE_CONDITION_SCHEMA,
    "template": TEMPLATE_CONDITION_SCHEMA,
    "time": TIME_CONDITION_SCHEMA,
    "trigger": TRIGGER_CONDITION_SCHEMA,
    **{kind: _logical_schema(kind) for kind in _LOGICAL},
}


def _expand_shorthand(value: Any) -> Any:
    """Turn the shorthands into full configs: a template string, ``{or: [...]}``."""
    if isinstance(value, str):
        return {CONF_CONDITION: "template", CONF_VALUE_TEMPLATE: value}
    if not isinstance(value, dict):
        raise vol.Invalid("expected a condition (a mapping, or a template string)")
    kind = value.get(CONF_CONDITION)
    if kind is None:
        for key in _LOGICAL:
            if key in value:
                rest = {k: v for k, v in value.items() if k != key}
                return {**rest, CONF_CONDITION: key, CONF_CONDITIONS: value[key]}
        raise vol.Invalid("required key not provided", path=[CONF_CONDITION])
    if is_template_string(kind):
        rest = {k: v for k, v in value.items() if k != CONF_CONDITION}
        return {**rest, CONF_CONDITION: "template", CONF_VALUE_TEMPLATE: kind}
    return value


def CONDITION_SCHEMA(value: Any) -> dict[str, Any]:  # noqa: N802 - a schema constant by contract
    """Validate one condition config (shorthands included) into its full form."""
    config = _expand_shorthand(value)
    kind = config[CONF_CONDITION]
    schema = _SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        known = ", ".join(sorted(_SCHEMAS))
        raise vol.Invalid(f"unknown condition {kind!r} (known: {known})", path=[CONF_CONDITION])
    return schema(config)  # type: ignore[no-any-return]


def valid_conditions(value: Any) -> list[dict[str, Any]]:
    """Validate a condition or a list of conditions (a voluptuous validator)."""
    return vol.Schema([CONDITION_SCHEMA])(cv.ensure_list(value))  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- checkers


class _Condition:
    """A built condition: evaluates itself and records the result at its trace path."""

    __slots__ = ("alias", "enabled", "hub", "path")

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        self.hub = hub
        self.path = path
        self.alias: str | None = config.get(CONF_ALIAS)
        self.enabled: bool = config.get(CONF_ENABLED, True)

    def test(
        self, variables: Mapping[str, Any], trace: Trace | None, info: dict[str, Any] | None
    ) -> bool:
        """Return whether the condition holds; raise ConditionError when it cannot tell.

        ``info`` (given while tracing) collects what the trace should show.
        """
        raise NotImplementedError

    def evaluate(self, variables: Mapping[str, Any], trace: Trace | None) -> bool | None:
        """Return the result (None: disabled) and trace it; raise ConditionError on failure."""
        if not self.enabled:
            if trace is not None:
                trace.add_step(self.path, result={"enabled": False})
            return None
        if trace is None:
            try:
                return self.test(variables, None, None)
            except ConditionError:
                raise
            except Exception as err:
                raise ConditionError(_describe(err)) from err
        # Recorded first, so the steps of nested conditions follow their parent's.
        step = trace.add_step(self.path)
        info: dict[str, Any] = {}
        try:
            result = self.test(variables, trace, info)
        except Exception as err:
            error = err if isinstance(err, ConditionError) else ConditionError(_describe(err))
            step["error"] = str(error)
            if info:
                step["result"] = info
            if error is err:
                raise
            raise error from err
        step["result"] = {"result": result, **info}
        return result

    def __call__(self, variables: Mapping[str, Any], trace: Trace | None = None) -> bool:
        """Check the condition: True when it holds or is disabled; never raises."""
        try:
            return self.evaluate(variables, trace) is not False
        except ConditionError as err:
            _LOGGER.debug("Condition %s failed: %s", self.path, err)
            return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"


def _describe(err: BaseException) -> str:
    text = str(err)
    return text if isinstance(err, LinliError) and text else f"{type(err).__name__}: {text}"


class _And(_Condition):
    __slots__ = ("children",)

    def __init__(
        self, hub: Hub, config: Mapping[str, Any], path: str, children: list[_Condition]
    ) -> None:
        super().__init__(hub, config, path)
        self.children = children

    # A child evaluating to ``_decisive`` settles the result as ``_settled``; when none
    # does, the result is ``_otherwise``. and: (False → False, else True); or: (True →
    # True, else False); not: (True → False, else True). Errors count only when undecided.
    _decisive = False
    _settled = False
    _otherwise = True

    def test(
        self, variables: Mapping[str, Any], trace: Trace | None, info: dict[str, Any] | None
    ) -> bool:
        errors: list[str] = []
        for child in self.children:
            try:
                if child.evaluate(variables, trace) is self._decisive:
                    return self._settled
            except ConditionError as err:
                errors.append(f"{child.path}: {err}")
        if errors:
            raise ConditionError("; ".join(errors))
        return self._otherwise


class _Or(_And):
    __slots__ = ()
    _decisive = True
    _settled = True
    _otherwise = False


class _Not(_And):
    __slots__ = ()
    _decisive = True
    _settled = False
    _otherwise = True


class _All(_And):
    """A list of conditions that must all hold; each recorded at ``<path>/<index>``."""

    __slots__ = ()

    def __call__(self, variables: Mapping[str, Any], trace: Trace | None = None) -> bool:
        # A child never raises from __call__; an error makes it false.
        return all(child(variables, trace) for child in self.children)


class _Template(_Condition):
    __slots__ = ("template",)

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.template = config[CONF_VALUE_TEMPLATE]

    def test(
        self, variables: Mapping[str, Any], trace: Trace | None, info: dict[str, Any] | None
    ) -> bool:
        return render_bool(self.template, variables)


class _Trigger(_Condition):
    __slots__ = ("ids",)

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.ids = frozenset(str(item) for item in config[CONF_ID])

    def test(
        self, variables: Mapping[str, Any], trace: Trace | None, info: dict[str, Any] | None
    ) -> bool:
        trigger = variables.get("trigger")
        trigger_id = trigger.get("id") if isinstance(trigger, Mapping) else None
        if info is not None:
            info["trigger_id"] = trigger_id
        return trigger_id is not None and str(trigger_id) in self.ids


def _get_state(hub: Hub, entity_id: str) -> State:
    state = hub.states.get(entity_id)
    if state is None:
        raise ConditionError(f"unknown entity {entity_id}")
    return state


class _State(_Condition):
    __slots__ = ("attribute", "entity_ids", "for_", "match_any", "values")

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.entity_ids: list[str] = config[CONF_ENTITY_ID]
        self.attribute: str | None = config.get(CONF_ATTRIBUTE)
        self.values: list[Any] = list(config[CONF_STATE])
        self.for_: Any = config.get(CONF_FOR)
        self.match_any = config.get(CONF_MATCH, "all") == "any"

    def test(
        self, variables: Mapping[str, Any], trace: Trace | None, info: dict[str, Any] | None
    ) -> bool:
        for entity_id in self.entity_ids:
            matched = self._test_one(entity_id, variables, info)
            if matched is self.match_any:
                return self.match_any
        return not self.match_any

    def _test_one(
        self, entity_id: str, variables: Mapping[str, Any], info: dict[str, Any] | None
    ) -> bool:
        state = _get_state(self.hub, entity_id)
        if self.attribute is None:
            value: Any = state.state
            since = state.last_changed_timestamp
        else:
            if self.attribute not in state.attributes:
                raise ConditionError(f"attribute '{self.attribute}' of {entity_id} does not exist")
            value = state.attributes[self.attribute]
            # An attribute change moves last_updated only.
            since = state.last_updated_timestamp
        if info is not None:
            info.setdefault("state", {})[entity_id] = value
            info["wanted_state"] = self.values
        if not any(self._same(value, wanted) for wanted in self.values):
            return False
        if self.for_ is None:
            return True
        duration = render_time_period(self.for_, variables)
        if info is not None:
            info["for"] = duration.total_seconds()
        return self.hub.clock.time() - since >= duration.total_seconds()

    def _same(self, value: Any, wanted: Any) -> bool:
        if isinstance(wanted, str) and _INPUT_ENTITY_ID.match(wanted):
            other = self.hub.states.get(wanted)
            if other is not None:
                wanted = other.state
        if value == wanted:
            return True
        # 255 in YAML and "255" as a state are the same value.
        return not isinstance(wanted, bool) and str(value) == str(wanted)


def _to_float(value: Any, what: str) -> float:
    if value is None or (isinstance(value, str) and value in _UNAVAILABLE):
        raise ConditionError(f"{what} is {value if value is not None else 'missing'}")
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise ConditionError(f"{what} is not numeric: {value!r}") from err


class _NumericState(_Condition):
    __slots__ = ("above", "attribute", "below", "entity_ids", "value_template")

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.entity_ids: list[str] = config[CONF_ENTITY_ID]
        self.attribute: str | None = config.get(CONF_ATTRIBUTE)
        self.value_template: Any = config.get(CONF_VALUE_TEMPLATE)
        self.above: float | str | None = config.get(CONF_ABOVE)
        self.below: float | str | None = config.get(CONF_BELOW)

    def _bound(self, bound: float | str | None, name: str) -> float | None:
        if bound is None or isinstance(bound, float):
            return bound
        state = _get_state(self.hub, bound)
        return _to_float(state.state, f"'{name}' entity {bound}")

    def test(
        self, variables: Mapping[str, Any], trace: Trace | None, info: dict[str, Any] | None
    ) -> bool:
        above = self._bound(self.above, CONF_ABOVE)
        below = self._bound(self.below, CONF_BELOW)
        if info is not None:
            if above is not None:
                info["wanted_state_above"] = above
            if below is not None:
                info["wanted_state_below"] = below
        for entity_id in self.entity_ids:
            state = _get_state(self.hub, entity_id)
            if self.value_template is not None:
                raw = self.value_template.async_render({**variables, "state": state})
                what = f"value_template for {entity_id}"
            elif self.attribute is not None:
                raw = state.attributes.get(self.attribute)
                what = f"attribute '{self.attribute}' of {entity_id}"
            else:
                raw = state.state
                what = f"state of {entity_id}"
            value = _to_float(raw, what)
            if info is not None:
                info.setdefault("state", {})[entity_id] = value
            if above is not None and not value > above:
                return False
            if below is not None and not value < below:
                return False
        return True


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class _Time(_Condition):
    __slots__ = ("after", "before", "weekdays")

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self.after: dt_time | str | None = config.get(CONF_AFTER)
        self.before: dt_time | str | None = config.get(CONF_BEFORE)
        weekdays = config.get(CONF_WEEKDAY)
        self.weekdays = (
            None if weekdays is None else frozenset(cv.WEEKDAYS.index(day) for day in weekdays)
        )

    def _time_of(self, value: dt_time | str | None, zone: ZoneInfo) -> dt_time | None:
        if value is None or isinstance(value, dt_time):
            return value
        # An entity holding a time of day ("07:30") or a moment (a timestamp sensor).
        state = _get_state(self.hub, value)
        text = state.state
        try:
            return cv.time(text)
        except vol.Invalid:
            pass
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as err:
            raise ConditionError(f"state of {value} is not a time: {text!r}") from err
        if moment.tzinfo is None:
            return moment.time()
        return moment.astimezone(zone).time().replace(tzinfo=None)

    def test(
        self, variables: Mapping[str, Any], trace: Trace | None, info: dict[str, Any] | None
    ) -> bool:
        zone = _zone(self.hub.config.time_zone)
        now = self.hub.clock.utcnow().astimezone(zone)
        after = self._time_of(self.after, zone)
        before = self._time_of(self.before, zone)
        if info is not None:
            info["now"] = now.isoformat()
            if after is not None:
                info["after"] = after.isoformat()
            if before is not None:
                info["before"] = before.isoformat()
        current = now.time().replace(tzinfo=None)
        if after is not None and before is not None and before <= after:
            # Across midnight: 22:00–06:00 holds from 22:00 until 06:00 the next morning.
            if before <= current < after:
                return False
        else:
            if after is not None and current < after:
                return False
            if before is not None and current >= before:
                return False
        return self.weekdays is None or now.weekday() in self.weekdays


_BUILDERS: Final[dict[str, type[_Condition]]] = {
    "state": _State,
    "numeric_state": _NumericState,
    "template": _Template,
    "time": _Time,
    "trigger": _Trigger,
}
_LOGICAL_BUILDERS: Final[dict[str, type[_And]]] = {"and": _And, "or": _Or, "not": _Not}


def _build(hub: Hub, config: Mapping[str, Any], path: str) -> _Condition:
    kind = config[CONF_CONDITION]
    logical = _LOGICAL_BUILDERS.get(kind)
    if logical is not None:
        children = [
            _build(hub, child, f"{path}/{CONF_CONDITIONS}/{index}")
            for index, child in enumerate(config[CONF_CONDITIONS])
        ]
        return logical(hub, config, path, children)
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise LinliError(f"unknown condition {kind!r}")
    return builder(hub, config, path)


def from_config(hub: Hub, config: Mapping[str, Any], path: str = "condition") -> ConditionChecker:
    """Build a checker for one validated condition, recorded in traces at ``path``."""
    attach(hub, config)
    return _build(hub, config, path)


def conditions_from_config(
    hub: Hub, configs: Sequence[Mapping[str, Any]], path: str = "condition"
) -> ConditionChecker:
    """Build one checker for a list of validated conditions that must all hold.

    Each is recorded at ``<path>/<index>`` (``condition/0``, ``condition/1`` … for an
    automation's conditions); the first that fails ends the check.
    """
    attach(hub, list(configs))
    children = [_build(hub, config, f"{path}/{index}") for index, config in enumerate(configs)]
    return _All(hub, {}, path, children)


async def async_from_config(
    hub: Hub, config: Mapping[str, Any], *, path: str = "condition"
) -> ConditionChecker:
    """Build a checker for one validated condition (see :func:`from_config`)."""
    return from_config(hub, config, path)


async def async_conditions_from_config(
    hub: Hub, configs: Sequence[Mapping[str, Any]], *, path: str = "condition"
) -> ConditionChecker:
    """Build one checker for a list of conditions (see :func:`conditions_from_config`)."""
    return conditions_from_config(hub, configs, path)
