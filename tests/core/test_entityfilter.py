"""Entity filters: Home Assistant's include/exclude precedence rules, one case at a time."""

from __future__ import annotations

import re

import pytest
import voluptuous as vol

from linli.helpers.entityfilter import (
    INCLUDE_EXCLUDE_BASE_FILTER_SCHEMA,
    INCLUDE_EXCLUDE_FILTER_SCHEMA,
    EntityFilter,
    _compile_globs,
    convert_include_exclude_filter,
)


def make(
    include: dict[str, list[str]] | None = None, exclude: dict[str, list[str]] | None = None
) -> EntityFilter:
    """Build a filter through the schema, as a configuration section would be."""
    config: dict[str, dict[str, list[str]]] = {}
    if include is not None:
        config["include"] = include
    if exclude is not None:
        config["exclude"] = exclude
    entity_filter = INCLUDE_EXCLUDE_FILTER_SCHEMA(config)
    assert isinstance(entity_filter, EntityFilter)
    return entity_filter


def check(entity_filter: EntityFilter, expected: dict[str, bool]) -> None:
    actual = {entity_id: entity_filter(entity_id) for entity_id in expected}
    assert actual == expected


# 1. No filter: all entities included.
def test_case_1_no_filter() -> None:
    entity_filter = make()
    assert entity_filter.empty_filter
    check(entity_filter, {"light.kitchen": True, "sensor.anything": True})


# 2. Only includes: listed entity, domain or glob → include; otherwise exclude.
def test_case_2_only_includes() -> None:
    entity_filter = make(
        include={
            "entities": ["switch.pump"],
            "domains": ["light"],
            "entity_globs": ["binary_sensor.*_door"],
        }
    )
    assert not entity_filter.empty_filter
    check(
        entity_filter,
        {
            "switch.pump": True,  # listed
            "light.kitchen": True,  # domain
            "binary_sensor.front_door": True,  # glob
            "switch.fan": False,
            "binary_sensor.front_window": False,
        },
    )


# 3. Only excludes: listed entity, domain or glob → exclude; otherwise include.
def test_case_3_only_excludes() -> None:
    entity_filter = make(
        exclude={
            "entities": ["sensor.date"],
            "domains": ["automation"],
            "entity_globs": ["sensor.weather_*"],
        }
    )
    check(
        entity_filter,
        {
            "sensor.date": False,  # listed
            "automation.wake_up": False,  # domain
            "sensor.weather_temperature": False,  # glob
            "sensor.energy": True,
            "light.kitchen": True,
        },
    )


# 4. Domain and/or glob includes (may also have excludes).
CASE_4 = {
    "include": {
        "domains": ["light", "sensor"],
        "entity_globs": ["binary_sensor.*_door", "sensor.weather_*"],
        "entities": ["switch.kept", "light.listed_both", "lock.front_debug"],
    },
    "exclude": {
        "domains": ["switch", "binary_sensor", "light"],
        "entity_globs": ["*_debug", "sensor.*_raw"],
        "entities": ["light.listed_both", "light.noisy", "sensor.weather_station"],
    },
}


def test_case_4_include_entities_win_over_every_exclude() -> None:
    entity_filter = make(**CASE_4)
    check(
        entity_filter,
        {
            "light.listed_both": True,  # in exclude entities too
            "switch.kept": True,  # its domain is excluded
            "lock.front_debug": True,  # matches an exclude glob
        },
    )


def test_case_4_exclude_entities_win_over_include_globs_and_domains() -> None:
    entity_filter = make(**CASE_4)
    check(
        entity_filter,
        {
            "light.noisy": False,  # included domain
            "sensor.weather_station": False,  # included glob
        },
    )


def test_case_4_include_glob_wins_over_exclude_glob_and_exclude_domain() -> None:
    entity_filter = make(**CASE_4)
    check(
        entity_filter,
        {
            "sensor.weather_temp_raw": True,  # also matches exclude glob sensor.*_raw
            "binary_sensor.front_door": True,  # domain binary_sensor is excluded
        },
    )


def test_case_4_exclude_glob_wins_over_include_domain() -> None:
    entity_filter = make(**CASE_4)
    check(entity_filter, {"light.hall_debug": False, "sensor.power_raw": False})


def test_case_4_include_domain_then_exclude_the_rest() -> None:
    entity_filter = make(**CASE_4)
    check(
        entity_filter,
        {
            "light.hall": True,  # included domain; also an excluded domain, which plays no part
            "sensor.power": True,
            "switch.other": False,  # excluded domain, not included
            "binary_sensor.front_window": False,
            "climate.living_room": False,  # matches nothing
        },
    )


def test_case_4_documented_example() -> None:
    """Home Assistant's documentation example: include domains and a glob, exclude one entity."""
    entity_filter = make(
        include={
            "domains": ["alarm_control_panel", "light"],
            "entity_globs": ["binary_sensor.*_occupancy"],
        },
        exclude={"entities": ["light.kitchen_light"]},
    )
    check(
        entity_filter,
        {
            "light.kitchen_light": False,
            "light.bedroom": True,
            "alarm_control_panel.home": True,
            "binary_sensor.hall_occupancy": True,
            "binary_sensor.hall_motion": False,
            "switch.fan": False,
        },
    )


# 5. Domain and/or glob excludes, includes list only entities.
def test_case_5_domain_or_glob_excludes() -> None:
    entity_filter = make(
        include={"entities": ["switch.kept", "sensor.cpu_debug", "light.both"]},
        exclude={
            "domains": ["switch"],
            "entity_globs": ["sensor.*_debug"],
            "entities": ["light.noisy", "light.both"],
        },
    )
    check(
        entity_filter,
        {
            "switch.kept": True,  # listed in include, though its domain is excluded
            "sensor.cpu_debug": True,  # listed in include, though it matches an exclude glob
            "light.both": True,  # include entities come first
            "light.noisy": False,  # listed in exclude
            "sensor.gpu_debug": False,  # exclude glob
            "switch.other": False,  # exclude domain
            "light.kitchen": True,  # otherwise: include
            "climate.living_room": True,
        },
    )


def test_case_5_glob_excludes_only() -> None:
    entity_filter = make(
        include={"entities": ["sensor.kept_raw"]}, exclude={"entity_globs": ["sensor.*_raw"]}
    )
    check(
        entity_filter,
        {"sensor.kept_raw": True, "sensor.power_raw": False, "sensor.power": True},
    )


# 6. Only entities on both sides: the include list decides.
def test_case_6_entities_only() -> None:
    entity_filter = make(
        include={"entities": ["light.a", "light.b"]},
        exclude={"entities": ["light.b", "light.c"]},
    )
    check(
        entity_filter,
        {
            "light.a": True,
            "light.b": True,  # the exclude list plays no part
            "light.c": False,
            "light.d": False,
        },
    )


def test_home_assistant_benchmark_config() -> None:
    entity_filter = convert_include_exclude_filter(
        {
            "include": {
                "domains": ["automation", "script", "group", "media_player", "custom_component"],
                "entity_globs": [
                    "binary_sensor.*_contact",
                    "binary_sensor.*_occupancy",
                    "binary_sensor.*_detected",
                    "binary_sensor.*_active",
                    "input_*",
                    "device_tracker.*_phone",
                    "switch.*_light",
                    "binary_sensor.*_charging",
                    "binary_sensor.*_lock",
                    "binary_sensor.*_connected",
                ],
                "entities": ["test.entity_1", "binary_sensor.garage_door_open"],
            },
            "exclude": {
                "domains": ["input_number"],
                "entity_globs": ["media_player.google_*", "group.all_*"],
                "entities": [],
            },
        }
    )
    check(
        entity_filter,
        {
            "automation.home_arrival": True,
            "script.shut_off_house": True,
            "binary_sensor.garage_door_open": True,
            "binary_sensor.front_door_lock": True,
            "binary_sensor.kitchen_motion_sensor_occupancy": True,
            "switch.desk_lamp": False,
            "switch.desk_light": True,
            "light.dining_room": False,
            "input_boolean.guest_staying_over": True,
            "input_number.volume": True,  # include glob input_* comes before exclude domain
            "media_player.google_home": False,  # exclude glob beats include domain
            "media_player.tv": True,
            "group.all_lights": False,
            "person.eleanor_fant": False,
            "sun.sun": False,
        },
    )


# ------------------------------------------------------------------ globs, schema, API


def test_glob_syntax() -> None:
    entity_filter = make(include={"entity_globs": ["sensor.t?mp", "light.*_lamp"]})
    check(
        entity_filter,
        {
            "sensor.temp": True,
            "sensor.tmp": False,  # ? is exactly one character
            "sensor.temp2": False,  # globs match the whole entity id
            "light.desk_lamp": True,
            "light._lamp": True,
            "light.lamp": False,
        },
    )


def test_globs_compile_into_one_regex() -> None:
    pattern = _compile_globs(["binary_sensor.*_door", "sensor.weather_*", "sensor.weather_*"])
    assert isinstance(pattern, re.Pattern)
    assert pattern.match("sensor.weather_x")
    assert pattern.match("binary_sensor.front_door")
    assert not pattern.match("binary_sensor.front_door_x")
    assert _compile_globs([]) is None


def test_schema_normalises() -> None:
    config = INCLUDE_EXCLUDE_BASE_FILTER_SCHEMA(
        {"include": {"domains": "light", "entities": "Light.Kitchen, light.hall"}}
    )
    assert config == {
        "include": {
            "domains": ["light"],
            "entity_globs": [],
            "entities": ["light.kitchen", "light.hall"],
        },
        "exclude": {"domains": [], "entity_globs": [], "entities": []},
    }


@pytest.mark.parametrize(
    "config",
    [
        {"include": {"entities": ["not an entity"]}},
        {"include": {"domains": [3]}},
        {"exclude": {"entity_globs": [""]}},
        {"exclude": {"colours": ["red"]}},
        {"both": {}},
    ],
)
def test_schema_rejects(config: dict[str, object]) -> None:
    with pytest.raises(vol.Invalid):
        INCLUDE_EXCLUDE_FILTER_SCHEMA(config)


def test_convert_accepts_partial_config_and_explicit_lists() -> None:
    entity_filter = convert_include_exclude_filter(
        {"include": {"entities": ["light.a"]}, "exclude": {"entities": ["light.b"]}}
    )
    assert entity_filter.explicitly_included("light.a")
    assert not entity_filter.explicitly_included("light.b")
    assert entity_filter.explicitly_excluded("light.b")
    assert entity_filter.config["include"]["domains"] == []
    assert "light.a" in repr(entity_filter)
