"""Selectors: their options, the values they accept, and the table that makes a type one entry."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from linli.blueprint.selectors import (
    SELECTORS,
    SelectorType,
    UnknownSelectorError,
    check_value,
    options_schema,
    validate_selector,
)

REQUIRED_TYPES = (
    "entity",
    "area",
    "device",
    "number",
    "text",
    "boolean",
    "duration",
    "time",
    "select",
    "template",
    "object",
    "action",
    "trigger",
    "condition",
    "target",
)


def ok(selector: dict[str, Any], value: Any) -> None:
    check_value(validate_selector(selector), value)


def why(selector: dict[str, Any], value: Any) -> str:
    with pytest.raises(vol.Invalid) as caught:
        check_value(validate_selector(selector), value)
    return str(caught.value.msg)


def test_home_assistant_selector_types_are_known() -> None:
    assert set(REQUIRED_TYPES) <= set(SELECTORS)


def test_options_are_normalised_with_home_assistant_defaults() -> None:
    assert validate_selector({"entity": None}) == {"entity": {"multiple": False, "reorder": False}}
    assert validate_selector({"entity": {"filter": {"domain": "light"}}})["entity"]["filter"] == [
        {"domain": ["light"]}
    ]
    assert validate_selector({"number": {"min": 0, "max": 10}})["number"] == {
        "min": 0.0,
        "max": 10.0,
        "step": 1,
        "mode": "slider",
    }
    assert validate_selector({"number": {}})["number"]["mode"] == "box"


@pytest.mark.parametrize(
    ("selector", "path", "message"),
    [
        (
            {"number": {"mode": "slider"}},
            ["number", "mode"],
            "min and max are required in slider mode",
        ),
        ({"number": {"mode": "dial"}}, ["number", "mode"], "value must be one of"),
        ({"text": {"type": "colour"}}, ["text", "type"], "value must be one of"),
        ({"select": {}}, ["select", "options"], "required key not provided"),
        ({"entity": {"filter": {"domian": "light"}}}, ["entity", "filter", 0, "domian"], "extra"),
    ],
)
def test_bad_options_are_located(selector: dict[str, Any], path: list[Any], message: str) -> None:
    with pytest.raises(vol.Invalid) as caught:
        validate_selector(selector)
    error = caught.value
    if isinstance(error, vol.MultipleInvalid):
        error = error.errors[0]
    assert error.path == path
    assert message in error.msg


def test_unknown_type_names_it_and_lists_the_known_ones() -> None:
    with pytest.raises(UnknownSelectorError) as caught:
        validate_selector({"entitiy": {}})
    assert caught.value.path == ["entitiy"]
    assert caught.value.msg.startswith(
        "unknown selector type 'entitiy' (did you mean 'entity'?); known types: action, area,"
    )
    assert caught.value.msg.endswith(", ".join(SELECTORS))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "a selector has exactly one type; found: none"),
        ({"text": {}, "number": {}}, "a selector has exactly one type; found: text, number"),
        ("entity", "a selector is a mapping of one type to its options"),
    ],
)
def test_a_selector_has_exactly_one_type(config: Any, message: str) -> None:
    with pytest.raises(UnknownSelectorError, match=message):
        validate_selector(config)


@pytest.mark.parametrize(
    ("selector", "value"),
    [
        ({"entity": {}}, "light.hall"),
        ({"entity": {"filter": {"domain": "binary_sensor"}}}, "binary_sensor.hall_motion"),
        ({"entity": {"domain": "light"}}, "light.hall"),
        (
            {"entity": {"multiple": True, "filter": [{"domain": "light"}, {"domain": "switch"}]}},
            ["light.a", "switch.b"],
        ),
        ({"entity": {"multiple": True}}, []),
        ({"area": {}}, "building_3"),
        ({"area": {"multiple": True}}, ["building_3", "building_4"]),
        ({"device": {}}, "4f2c9a"),
        ({"number": {"min": 0, "max": 10}}, 10),
        ({"number": {}}, "2.5"),
        ({"text": {}}, "hello"),
        ({"text": {"multiline": True, "multiple": True}}, ["a", "b"]),
        ({"boolean": {}}, True),
        ({"boolean": {}}, "off"),
        ({"duration": {"enable_day": True}}, {"days": 1, "hours": 2}),
        ({"duration": {}}, "00:05:00"),
        ({"duration": {}}, 90),
        ({"time": {}}, "07:30"),
        ({"select": {"options": ["a", "b"]}}, "b"),
        ({"select": {"options": [{"label": "A", "value": "a"}]}}, "a"),
        ({"select": {"options": ["a"], "custom_value": True}}, "z"),
        ({"select": {"options": ["a", "b"], "multiple": True}}, ["a", "b"]),
        ({"template": {}}, "{{ states('sensor.x') }}"),
        ({"object": {}}, {"any": ["thing"]}),
        ({"action": {}}, [{"action": "light.turn_on"}]),
        ({"action": {}}, {"delay": 5}),
        ({"trigger": {}}, [{"trigger": "state", "entity_id": "sensor.x"}]),
        ({"condition": {}}, ["{{ is_state('sun.sun', 'below_horizon') }}"]),
        ({"target": {}}, {"entity_id": "light.hall", "area_id": ["building_3"]}),
        ({"target": {"entity": {"domain": "light"}}}, {"entity_id": ["light.a", "light.b"]}),
        ({"target": {}}, {}),
        ({"color_rgb": {}}, [255, 128, 0]),
        ({"date": {}}, "2026-03-01"),
        ({"constant": {"value": "on"}}, "on"),
        ({"location": {}}, {"latitude": 28.2, "longitude": 112.9}),
        # A template stands in for a plain value; it is rendered where it is used.
        ({"number": {"max": 10}}, "{{ states('input_number.wait') }}"),
        ({"entity": {"multiple": True}}, "{{ area_entities('hall') }}"),
    ],
)
def test_values_that_suit_the_selector(selector: dict[str, Any], value: Any) -> None:
    ok(selector, value)


@pytest.mark.parametrize(
    ("selector", "value", "message"),
    [
        ({"entity": {}}, "hall light", "invalid entity ID 'hall light'"),
        ({"entity": {}}, None, "no value given"),
        ({"number": {}}, None, "no value given"),
        (
            {"entity": {"filter": {"domain": "binary_sensor"}}},
            "light.hall",
            "light.hall is not in domain binary_sensor",
        ),
        ({"entity": {"domain": ["light", "switch"]}}, "fan.x", "fan.x is not in domain light or"),
        (
            {"entity": {"multiple": True}},
            "light.hall",
            "expected a list (the selector has multiple: true), got 'light.hall'",
        ),
        (
            {"entity": {"multiple": True, "filter": {"domain": "light"}}},
            ["light.a", "switch.b"],
            "item 2: switch.b is not in domain light",
        ),
        ({"entity": {}}, ["light.a"], "expected one value, got a list"),
        ({"entity": {"include_entities": ["light.a"]}}, "light.b", "light.b is not one of light.a"),
        ({"entity": {"exclude_entities": ["light.a"]}}, "light.a", "light.a is excluded"),
        ({"area": {}}, 5, "expected an area id, got 5"),
        ({"number": {"min": 0, "max": 10}}, 11, "11 is above the maximum 10"),
        ({"number": {"min": 1}}, 0, "0 is below the minimum 1"),
        ({"number": {}}, "soon", "expected a number, got 'soon'"),
        ({"number": {}}, True, "expected a number, got True"),
        ({"text": {}}, {"a": 1}, "expected text, got a mapping"),
        ({"boolean": {}}, "maybe", "invalid boolean value 'maybe'"),
        ({"duration": {}}, {"fortnights": 1}, "unknown duration key 'fortnights'"),
        ({"duration": {"allow_negative": False}}, -5, "must not be negative"),
        ({"time": {}}, "7 o'clock", "invalid time"),
        ({"select": {"options": ["a", "b"]}}, "c", "'c' is not one of 'a', 'b'"),
        ({"select": {"options": [{"label": "A", "value": "a"}]}}, "A", "'A' is not one of 'a'"),
        ({"template": {}}, ["x"], "expected a template string, got a list"),
        ({"action": {}}, ["light.turn_on"], "action 1 must be a mapping, got 'light.turn_on'"),
        ({"trigger": {}}, "{{ true }}", "trigger 1 must be a mapping"),
        ({"target": {}}, "light.hall", "expected a mapping of entity_id, device_id"),
        ({"target": {}}, {"entity": "light.hall"}, "unknown target key 'entity'"),
        (
            {"target": {"entity": {"domain": "light"}}},
            {"entity_id": "switch.x"},
            "switch.x is not in domain light",
        ),
        ({"color_rgb": {}}, [300, 0, 0], "expected [red, green, blue] of 0..255"),
        ({"date": {}}, "1 March", "expected a date (YYYY-MM-DD), got '1 March'"),
        ({"constant": {"value": "on"}}, "off", "expected 'on', got 'off'"),
    ],
)
def test_values_that_do_not_suit_say_why(
    selector: dict[str, Any], value: Any, message: str
) -> None:
    assert message in why(selector, value)


def test_a_new_selector_type_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    def plate(_options: Any, value: Any) -> None:
        if not str(value).startswith("湘"):
            raise vol.Invalid("not a Hunan plate")

    monkeypatch.setitem(SELECTORS, "plate", SelectorType(options_schema(), plate))
    ok({"plate": None}, "湘A12345")
    assert why({"plate": {}}, "京A12345") == "not a Hunan plate"
