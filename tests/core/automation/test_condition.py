"""Conditions: each kind, the logical ones, shorthands, errors in the trace, validation."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from linli.clock import FakeClock
from linli.helpers.condition import (
    CONDITION_SCHEMA,
    async_conditions_from_config,
    async_from_config,
    valid_conditions,
)
from linli.helpers.trace import Trace
from linli.hub import Hub


async def check(
    hub: Hub, config: Any, variables: dict[str, Any] | None = None, trace: Trace | None = None
) -> bool:
    checker = await async_from_config(hub, CONDITION_SCHEMA(config))
    return checker(variables or {}, trace)


def new_trace(hub: Hub) -> Trace:
    return Trace(hub, "test", "automation")


# ---------------------------------------------------------------------------- state


async def test_state_matches_one_of_the_states(hub: Hub) -> None:
    hub.states.async_set("lock.gate", "locked")
    assert await check(hub, {"condition": "state", "entity_id": "lock.gate", "state": "locked"})
    assert await check(
        hub, {"condition": "state", "entity_id": "lock.gate", "state": ["open", "locked"]}
    )
    assert not await check(hub, {"condition": "state", "entity_id": "lock.gate", "state": "open"})


async def test_state_of_several_entities_all_or_any(hub: Hub) -> None:
    hub.states.async_set("light.a", "on")
    hub.states.async_set("light.b", "off")
    both = {"condition": "state", "entity_id": ["light.a", "light.b"], "state": "on"}
    assert not await check(hub, both)
    assert await check(hub, {**both, "match": "any"})
    hub.states.async_set("light.b", "on")
    assert await check(hub, both)


async def test_state_of_an_attribute_compares_its_value(hub: Hub) -> None:
    hub.states.async_set("sensor.door", "closed", {"battery": 15, "tamper": True})
    base = {"condition": "state", "entity_id": "sensor.door"}
    assert await check(hub, {**base, "attribute": "battery", "state": 15})
    assert await check(hub, {**base, "attribute": "battery", "state": "15"})
    assert await check(hub, {**base, "attribute": "tamper", "state": True})
    assert not await check(hub, {**base, "attribute": "battery", "state": 16})
    # A missing attribute is an error: false, and the trace says why.
    trace = new_trace(hub)
    assert not await check(hub, {**base, "attribute": "nope", "state": 1}, trace=trace)
    assert "attribute 'nope' of sensor.door does not exist" in trace.steps[0]["error"]


async def test_state_for_holds_only_once_the_state_has_lasted(hub: Hub, clock: FakeClock) -> None:
    hub.states.async_set("binary_sensor.door", "on")
    config = {
        "condition": "state",
        "entity_id": "binary_sensor.door",
        "state": "on",
        "for": {"minutes": 5},
    }
    assert not await check(hub, config)
    clock.advance(299)
    assert not await check(hub, config)
    clock.advance(1)
    assert await check(hub, config)
    # An attribute change does not restart the state's time.
    hub.states.async_set("binary_sensor.door", "on", {"battery": 80})
    assert await check(hub, config)
    hub.states.async_set("binary_sensor.door", "off")
    hub.states.async_set("binary_sensor.door", "on")
    assert not await check(hub, config)


async def test_state_compares_with_an_input_helper(hub: Hub) -> None:
    hub.states.async_set("input_select.mode", "night")
    hub.states.async_set("sensor.mode", "night")
    assert await check(
        hub, {"condition": "state", "entity_id": "sensor.mode", "state": "input_select.mode"}
    )


async def test_unknown_entity_is_false_with_the_error_traced(hub: Hub) -> None:
    trace = new_trace(hub)
    assert not await check(
        hub, {"condition": "state", "entity_id": "lock.nowhere", "state": "on"}, trace=trace
    )
    assert trace.steps == [
        {
            "path": "condition",
            "timestamp": trace.steps[0]["timestamp"],
            "error": "unknown entity lock.nowhere",
        }
    ]


def test_unquoted_on_is_refused_for_a_state() -> None:
    with pytest.raises(vol.Invalid, match="in quotes"):
        CONDITION_SCHEMA({"condition": "state", "entity_id": "light.a", "state": True})


# ---------------------------------------------------------------------------- numeric_state


async def test_numeric_state_above_below_and_between(hub: Hub) -> None:
    hub.states.async_set("sensor.temp", "21.5")
    base = {"condition": "numeric_state", "entity_id": "sensor.temp"}
    assert await check(hub, {**base, "above": 20})
    assert not await check(hub, {**base, "above": 21.5})  # strictly above
    assert await check(hub, {**base, "below": "22"})
    assert await check(hub, {**base, "above": 20, "below": 22})
    assert not await check(hub, {**base, "above": 22, "below": 30})


async def test_numeric_state_bounds_from_entities_and_attributes(hub: Hub) -> None:
    hub.states.async_set("sensor.level", "0", {"depth": 0.8})
    hub.states.async_set("input_number.alarm_depth", "0.5")
    config = {
        "condition": "numeric_state",
        "entity_id": "sensor.level",
        "attribute": "depth",
        "above": "input_number.alarm_depth",
    }
    assert await check(hub, config)
    hub.states.async_set("input_number.alarm_depth", "1.0")
    assert not await check(hub, config)


async def test_numeric_state_of_a_non_number_is_an_error(hub: Hub) -> None:
    hub.states.async_set("sensor.temp", "unavailable")
    trace = new_trace(hub)
    config = {"condition": "numeric_state", "entity_id": "sensor.temp", "above": 1}
    assert not await check(hub, config, trace=trace)
    assert trace.steps[0]["error"] == "state of sensor.temp is unavailable"
    hub.states.async_set("sensor.temp", "warm")
    assert not await check(hub, config)


def test_numeric_state_needs_a_bound() -> None:
    with pytest.raises(vol.Invalid, match="needs 'above', 'below' or both"):
        CONDITION_SCHEMA({"condition": "numeric_state", "entity_id": "sensor.t"})


# ---------------------------------------------------------------------------- time


async def test_time_between_in_the_hub_time_zone(hub: Hub, clock: FakeClock) -> None:
    # The clock starts at 08:00 UTC, which is 16:00 in Asia/Shanghai (the default).
    hub.config.time_zone = "Asia/Shanghai"
    assert await check(hub, {"condition": "time", "after": "15:00", "before": "17:00"})
    assert not await check(hub, {"condition": "time", "after": "07:00", "before": "09:00"})
    hub.config.time_zone = "UTC"
    assert await check(hub, {"condition": "time", "after": "07:00", "before": "09:00"})


async def test_time_across_midnight(hub: Hub, clock: FakeClock) -> None:
    hub.config.time_zone = "UTC"
    night = {"condition": "time", "after": "22:00", "before": "06:00"}
    assert not await check(hub, night)  # 08:00
    clock.set("2026-03-01T23:30:00+00:00")
    assert await check(hub, night)
    clock.set("2026-03-02T05:59:59+00:00")
    assert await check(hub, night)
    clock.set("2026-03-02T06:00:00+00:00")
    assert not await check(hub, night)


async def test_time_only_after_or_before_and_weekday(hub: Hub, clock: FakeClock) -> None:
    hub.config.time_zone = "UTC"  # 2026-03-01 is a Sunday
    assert await check(hub, {"condition": "time", "after": "08:00"})
    assert not await check(hub, {"condition": "time", "before": "08:00"})
    assert await check(hub, {"condition": "time", "weekday": "sun"})
    assert not await check(hub, {"condition": "time", "weekday": ["mon", "tue"]})
    clock.set("2026-03-02T08:00:00+00:00")
    assert await check(hub, {"condition": "time", "after": "07:00", "weekday": ["mon", "tue"]})


async def test_time_from_an_entity(hub: Hub) -> None:
    hub.config.time_zone = "UTC"
    hub.states.async_set("input_datetime.quiet_from", "07:30:00")
    hub.states.async_set("sensor.next_bus", "2026-03-01T18:00:00+08:00")  # 10:00 UTC
    assert await check(hub, {"condition": "time", "after": "input_datetime.quiet_from"})
    assert await check(hub, {"condition": "time", "before": "sensor.next_bus"})
    hub.states.async_set("sensor.next_bus", "soon")
    trace = new_trace(hub)
    assert not await check(hub, {"condition": "time", "before": "sensor.next_bus"}, trace=trace)
    assert "is not a time" in trace.steps[0]["error"]


# ---------------------------------------------------------------------------- trigger


async def test_trigger_condition_matches_the_trigger_id(hub: Hub) -> None:
    config = {"condition": "trigger", "id": ["door", 2]}
    assert await check(hub, config, {"trigger": {"id": "door"}})
    assert await check(hub, config, {"trigger": {"id": "2"}})
    assert not await check(hub, config, {"trigger": {"id": "window"}})
    assert not await check(hub, config, {})


# ---------------------------------------------------------------------------- logical


async def test_and_or_not_nested_with_shorthands_and_paths(hub: Hub) -> None:
    hub.states.async_set("light.a", "on")
    hub.states.async_set("light.b", "off")
    config = {
        "or": [
            {"condition": "state", "entity_id": "light.a", "state": "off"},
            {
                "and": [
                    {"condition": "state", "entity_id": "light.a", "state": "on"},
                    {"not": [{"condition": "state", "entity_id": "light.b", "state": "on"}]},
                ]
            },
        ]
    }
    trace = new_trace(hub)
    assert await check(hub, config, trace=trace)
    assert [(step["path"], step["result"]["result"]) for step in trace.steps] == [
        ("condition", True),
        ("condition/conditions/0", False),
        ("condition/conditions/1", True),
        ("condition/conditions/1/conditions/0", True),
        ("condition/conditions/1/conditions/1", True),
        ("condition/conditions/1/conditions/1/conditions/0", False),
    ]
    hub.states.async_set("light.b", "on")
    assert not await check(hub, config)


async def test_errors_inside_logical_conditions_follow_home_assistant(hub: Hub) -> None:
    hub.states.async_set("light.a", "on")
    broken = {"condition": "state", "entity_id": "light.gone", "state": "on"}
    true = {"condition": "state", "entity_id": "light.a", "state": "on"}
    false = {"condition": "state", "entity_id": "light.a", "state": "off"}
    assert await check(hub, {"or": [broken, true]})  # an error does not hide a true branch
    assert not await check(hub, {"or": [broken, false]})
    assert not await check(hub, {"and": [true, broken]})
    trace = new_trace(hub)
    assert not await check(hub, {"not": [broken]}, trace=trace)  # not(error) is no pass
    assert "unknown entity light.gone" in trace.steps[0]["error"]


async def test_disabled_conditions_are_skipped(hub: Hub) -> None:
    hub.states.async_set("light.a", "on")
    off = {"condition": "state", "entity_id": "light.a", "state": "off", "enabled": False}
    trace = new_trace(hub)
    assert await check(hub, off, trace=trace)
    assert trace.steps[0]["result"] == {"enabled": False}
    assert await check(
        hub, {"and": [off, {"condition": "state", "entity_id": "light.a", "state": "on"}]}
    )
    assert not await check(hub, {"or": [off]})


async def test_a_list_of_conditions_is_traced_by_index(hub: Hub) -> None:
    hub.states.async_set("light.a", "on")
    checker = await async_conditions_from_config(
        hub,
        valid_conditions(
            [
                {"condition": "state", "entity_id": "light.a", "state": "on"},
                {"condition": "state", "entity_id": "light.a", "state": "off"},
                {"condition": "state", "entity_id": "light.a", "state": "on"},
            ]
        ),
    )
    trace = new_trace(hub)
    assert not checker({}, trace)
    # The first false one ends the check.
    assert [step["path"] for step in trace.steps] == ["condition/0", "condition/1"]
    empty = await async_conditions_from_config(hub, [])
    assert empty({}, None)


def test_validation_reports_unknown_kinds_and_shapes() -> None:
    with pytest.raises(vol.Invalid, match="unknown condition 'sun'"):
        valid_conditions([{"condition": "sun", "after": "sunset"}])
    with pytest.raises(vol.Invalid, match="required key not provided"):
        valid_conditions([{"entity_id": "light.a"}])
    with pytest.raises(vol.Invalid, match="needs 'after', 'before' or 'weekday'"):
        valid_conditions({"condition": "time"})
    with pytest.raises(vol.Invalid, match="invalid weekday"):
        valid_conditions({"condition": "time", "weekday": "someday"})
    assert valid_conditions({"or": []}) == [{"condition": "or", "conditions": []}]


# ---------------------------------------------------------------------------- templates


async def test_template_condition_and_its_shorthands(hub: Hub) -> None:
    hub.states.async_set("sensor.temp", "31")
    hot = "{{ states('sensor.temp') | float > 30 }}"
    assert await check(hub, {"condition": "template", "value_template": hot})
    assert await check(hub, hot)
    assert await check(hub, {"condition": hot})
    assert await check(hub, "{{ who == '李奶奶' }}", {"who": "李奶奶"})
    hub.states.async_set("sensor.temp", "29")
    assert not await check(hub, hot)
    # Only a result reading "true" passes, as in Home Assistant.
    assert not await check(hub, "{{ 1 }}")
    assert await check(hub, "{{ 'TRUE' }}")


async def test_a_template_error_is_false_and_traced(hub: Hub) -> None:
    trace = new_trace(hub)
    assert not await check(hub, "{{ 1 / 0 }}", trace=trace)
    assert "division by zero" in trace.steps[0]["error"]
    assert not await check(hub, {"not": ["{{ undefined_function() }}"]})


def test_a_template_with_bad_syntax_is_refused() -> None:
    with pytest.raises(vol.Invalid, match="invalid template"):
        valid_conditions("{{ 1 + }}")


async def test_numeric_state_value_template_sees_the_state(hub: Hub) -> None:
    hub.states.async_set("sensor.water", "12", {"unit": "cm"})
    config = {
        "condition": "numeric_state",
        "entity_id": "sensor.water",
        "value_template": "{{ state.state | float * 10 }}",
        "above": 100,
    }
    assert await check(hub, config)
    hub.states.async_set("sensor.water", "9")
    assert not await check(hub, config)


async def test_state_for_may_be_a_template(hub: Hub, clock: FakeClock) -> None:
    hub.states.async_set("binary_sensor.door", "on")
    config = {
        "condition": "state",
        "entity_id": "binary_sensor.door",
        "state": "on",
        "for": {"minutes": "{{ minutes }}"},
    }
    clock.advance(120)
    assert await check(hub, config, {"minutes": 2})
    assert not await check(hub, config, {"minutes": 3})
