"""Templates: helpers, result parsing, render info, validators and the sandbox's limits."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol

import linli.template as template_module
from linli.bus import Event
from linli.callback import callback
from linli.clock import FakeClock
from linli.const import EVENT_STATE_CHANGED
from linli.hub import Hub, HubState
from linli.template import (
    MAX_TEMPLATE_OUTPUT,
    RenderInfo,
    Template,
    TemplateError,
    attach,
    dynamic_template,
    is_template_string,
    render_complex,
    template,
    template_complex,
)
from linli.template import environment as environment_module
from linli.template.environment import get_environment

SHANGHAI = ZoneInfo("Asia/Shanghai")


def render(hub: Hub | None, source: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
    return Template(source, hub).async_render(variables, **kw)


def text(hub: Hub | None, source: str, variables: dict[str, Any] | None = None) -> Any:
    return Template(source, hub).async_render(variables, parse_result=False)


@pytest.fixture
async def sensors(hub: Hub) -> Hub:
    hub.states.async_set(
        "sensor.gate_temp",
        "21.456",
        {"unit_of_measurement": "°C", "friendly_name": "Gate temperature", "display_precision": 1},
    )
    hub.states.async_set("sensor.humidity", "unavailable")
    hub.states.async_set("light.hall", "on", {"brightness": 200})
    hub.states.async_set("light.porch", "off")
    hub.states.async_set("group.lights", "on", {"entity_id": ["light.hall", "light.porch"]})
    return hub


# ---------------------------------------------------------------------- basics
def test_is_template_string() -> None:
    assert is_template_string("{{ x }}")
    assert is_template_string("a {% if x %}b{% endif %}")
    assert is_template_string("{# note #}")
    assert not is_template_string("plain { text }")
    assert not is_template_string("")


async def test_static_template_renders_without_jinja(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_jinja(_hub: Hub | None) -> None:
        raise AssertionError("a static template touched Jinja")

    monkeypatch.setattr(template_module, "get_environment", no_jinja)
    assert Template("  hello there ", hub).is_static
    assert render(hub, "  hello there ") == "hello there"
    assert render(hub, "42") == 42
    assert render(hub, "42", parse_result=False) == "42"
    info = Template("on", hub).async_render_to_info()
    assert (info.result, info.exception, info.entities) == ("on", None, set())


async def test_equality_hash_repr_and_source() -> None:
    first, second = Template("{{ 1 }}"), Template(" {{ 1 }} ")
    assert first == second
    assert hash(first) == hash(second)
    assert first != Template("{{ 2 }}")
    assert first != "{{ 1 }}"
    assert repr(first) == "Template('{{ 1 }}')"
    assert first.source == first.template == "{{ 1 }}"
    with pytest.raises(TypeError, match="must be a string"):
        Template(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("42", 42),
        ("-5", -5),
        ("+5", 5),
        ("1.0", 1.0),
        (".5", 0.5),
        ("0", 0),
        ("True", True),
        ("False", False),
        ("None", None),
        ("[1, 2]", [1, 2]),
        ("{'a': 1}", {"a": 1}),
        ("(1, 2)", (1, 2)),
        ("  7  ", 7),
        ("on", "on"),
        ("true", "true"),
        ("none", "none"),
        ("0123", "0123"),
        ("00", "00"),
        ("1e3", "1e3"),
        ("0x10", "0x10"),
        ("1_000", "1_000"),
        ("'quoted'", "'quoted'"),
        ("1+2j", "1+2j"),
        ("[1, 2", "[1, 2"),
        ("", ""),
    ],
)
async def test_parse_result(hub: Hub, output: str, expected: Any) -> None:
    result = render(hub, "{{ value }}", {"value": output})
    assert result == expected
    assert type(result) is type(expected)
    assert render(hub, "{{ value }}", {"value": output}, parse_result=False) == output.strip()


async def test_parsed_results_are_not_shared(hub: Hub) -> None:
    tmpl = Template("{{ [1, 2] }}", hub)
    first = tmpl.async_render()
    first.append(3)
    assert tmpl.async_render() == [1, 2]


async def test_undefined_variables_are_lenient(hub: Hub) -> None:
    assert render(hub, "<{{ missing }}>") == "<>"
    assert render(hub, "{{ missing is defined }}") is False
    with pytest.raises(TemplateError, match="'missing' is undefined"):
        render(hub, "{{ missing.attribute }}")


async def test_render_needs_the_loop_when_it_has_a_hub(hub: Hub) -> None:
    tmpl = Template("{{ 1 + 1 }}", hub)
    assert tmpl.async_render() == 2

    def outside() -> Any:
        return tmpl.async_render()

    with pytest.raises(RuntimeError, match="event loop"):
        await hub.async_add_executor_job(outside)


def test_templates_without_a_hub_render_pure_jinja() -> None:
    assert render(None, "{{ 'x' | float(3) + 1 }}") == 4.0
    with pytest.raises(TemplateError, match="'states' needs a hub"):
        render(None, "{{ states('sensor.x') }}")
    with pytest.raises(TemplateError, match="'now' needs a hub"):
        render(None, "{{ now() }}")


async def test_one_environment_per_hub_with_a_compiled_cache(
    hub_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = await hub_factory(), await hub_factory()
    environment = get_environment(first)
    assert get_environment(first) is environment
    assert get_environment(second) is not environment
    compiled = environment.template_for("{{ 1 }}")
    assert environment.template_for("{{ 1 }}") is compiled

    monkeypatch.setattr(environment_module, "COMPILED_CACHE_SIZE", 2)
    environment.template_for("{{ 2 }}")
    environment.template_for("{{ 3 }}")
    assert environment.template_for("{{ 1 }}") is not compiled


# ---------------------------------------------------------------------- states
async def test_states_function_and_attribute_access(sensors: Hub) -> None:
    hub = sensors
    assert render(hub, "{{ states('sensor.gate_temp') }}") == 21.456
    assert render(hub, "{{ states('Sensor.Gate_Temp') }}") == 21.456
    assert render(hub, "{{ states('sensor.gate_temp', rounded=True) }}") == 21.5
    assert render(hub, "{{ states('sensor.gate_temp', with_unit=True) }}") == "21.456 °C"
    assert render(hub, "{{ states('sensor.missing') }}") == "unknown"
    assert render(hub, "{{ states('not an id') }}") == "unknown"
    assert render(hub, "{{ 'light.hall' | states }}") == "on"
    state = "states.sensor.gate_temp"
    assert render(hub, f"{{{{ {state}.state }}}}") == 21.456
    assert render(hub, f"{{{{ {state}['state'] }}}}") == 21.456
    assert render(hub, f"{{{{ {state}.attributes.friendly_name }}}}") == "Gate temperature"
    assert render(hub, f"{{{{ {state}.name }}}}") == "Gate temperature"
    assert render(hub, f"{{{{ {state}.entity_id }}}}") == "sensor.gate_temp"
    assert render(hub, f"{{{{ {state}.domain }}}}/{{{{ {state}.object_id }}}}") == (
        "sensor/gate_temp"
    )
    assert render(hub, f"{{{{ {state}.state_with_unit }}}}") == "21.456 °C"
    changed = render(hub, f"{{{{ {state}.last_changed.isoformat() }}}}")
    assert changed == "2026-03-01T08:00:00+00:00"
    assert render(hub, f"{{{{ {state}.last_updated == {state}.last_changed }}}}") is True
    assert render(hub, f"{{{{ {state}.context is defined }}}}") is False
    assert render(hub, "{{ states.light.porch.name }}") == "porch"


async def test_missing_states_are_undefined(sensors: Hub) -> None:
    hub = sensors
    assert render(hub, "{{ states.sensor.missing is defined }}") is False
    assert render(hub, "<{{ states.sensor.missing.state }}>") == "<>"
    assert render(hub, "{{ states.sensor.missing.state == 'on' }}") is False
    assert render(hub, "{{ states.Sensor is defined }}") is False
    assert render(hub, "{{ states.sensor.gate_temp is defined }}") is True


async def test_iterating_states(sensors: Hub) -> None:
    hub = sensors
    everything = "{{ states | map(attribute='entity_id') | join(',') }}"
    assert render(hub, everything) == (
        "group.lights,light.hall,light.porch,sensor.gate_temp,sensor.humidity"
    )
    lights = "{% for s in states.light %}{{ s.entity_id }}={{ s.state }};{% endfor %}"
    assert render(hub, lights) == "light.hall=on;light.porch=off;"
    assert render(hub, "{{ states | count }} {{ states.light | count }}") == "5 2"
    assert render(hub, "{{ states.climate | list }}") == []


async def test_state_helpers(sensors: Hub) -> None:
    hub = sensors
    assert render(hub, "{{ is_state('light.hall', 'on') }}") is True
    assert render(hub, "{{ is_state('light.hall', ['off', 'on']) }}") is True
    assert render(hub, "{{ is_state('light.hall', 'off') }}") is False
    assert render(hub, "{{ is_state('light.missing', 'on') }}") is False
    assert render(hub, "{{ 'light.hall' is is_state('on') }}") is True
    assert render(hub, "{{ state_attr('light.hall', 'brightness') }}") == 200
    assert render(hub, "{{ state_attr('light.hall', 'nothing') }}") is None
    assert render(hub, "{{ state_attr('light.missing', 'brightness') }}") is None
    assert render(hub, "{{ 'light.hall' | state_attr('brightness') }}") == 200
    assert render(hub, "{{ is_state_attr('light.hall', 'brightness', 200) }}") is True
    assert render(hub, "{{ is_state_attr('light.hall', 'brightness', 100) }}") is False
    assert render(hub, "{{ is_state_attr('light.porch', 'brightness', None) }}") is False
    assert render(hub, "{{ has_value('light.hall') }}") is True
    assert render(hub, "{{ has_value('sensor.humidity') }}") is False
    assert render(hub, "{{ has_value('sensor.missing') }}") is False
    assert render(hub, "{{ 'light.hall' is has_value }}") is True


async def test_expand(sensors: Hub) -> None:
    hub = sensors
    ids = "| map(attribute='entity_id') | list"
    assert render(hub, f"{{{{ expand('group.lights') {ids} }}}}") == ["light.hall", "light.porch"]
    assert render(hub, f"{{{{ expand('light.porch', ['group.lights', 'x.y']) {ids} }}}}") == [
        "light.hall",
        "light.porch",
    ]
    assert render(hub, f"{{{{ expand(states.sensor) {ids} }}}}") == [
        "sensor.gate_temp",
        "sensor.humidity",
    ]
    assert render(hub, "{{ expand(states.light.hall)[0].state }}") == "on"
    # A group that contains itself ends.
    hub.states.async_set("group.loop", "on", {"entity_id": ["group.loop", "light.hall"]})
    assert render(hub, f"{{{{ 'group.loop' | expand {ids} }}}}") == ["light.hall"]


# ---------------------------------------------------------------------- render info
async def test_render_info_tracks_entities(sensors: Hub) -> None:
    info = Template(
        "{{ states('light.hall') }} {{ states.sensor.gate_temp.state }} "
        "{{ is_state('light.porch', 'on') }} {{ states.sensor.missing.state }}",
        sensors,
    ).async_render_to_info()
    assert info.exception is None
    assert info.result == "on 21.456 False"
    assert info.entities == {"light.hall", "sensor.gate_temp", "light.porch", "sensor.missing"}
    assert info.domains == set()
    assert info.all_states is False
    assert info.has_time is False
    assert info.matches("light.porch")
    assert not info.matches("light.attic")


async def test_render_info_tracks_domains_all_states_and_time(sensors: Hub) -> None:
    domain = Template(
        "{{ states.light | selectattr('state', 'eq', 'on') | list | count }}", sensors
    )
    info = domain.async_render_to_info()
    assert (info.result, info.domains, info.all_states) == (1, {"light"}, False)
    assert info.matches("light.attic")
    assert not info.matches("sensor.x")

    info = Template("{{ states | count }}", sensors).async_render_to_info()
    assert info.all_states
    assert info.matches("anything.at_all")

    info = Template("{{ expand('group.lights') | count }}", sensors).async_render_to_info()
    assert info.entities == {"group.lights", "light.hall", "light.porch"}

    info = Template("{{ now().hour }}", sensors).async_render_to_info()
    assert info.has_time
    assert info.entities == set()


async def test_render_info_holds_the_error(hub: Hub) -> None:
    info = Template("{{ states('light.x') }}{{ 1 / 0 }}", hub).async_render_to_info()
    assert isinstance(info, RenderInfo)
    assert info.result is None
    assert isinstance(info.exception, TemplateError)
    assert "ZeroDivisionError: division by zero" in str(info.exception)
    assert "{{ 1 / 0 }}" in str(info.exception)
    assert info.entities == {"light.x"}


# ---------------------------------------------------------------------- time
async def test_now_utcnow_follow_the_clock_and_time_zone(hub: Hub, clock: FakeClock) -> None:
    assert hub.config.time_zone == "Asia/Shanghai"
    assert text(hub, "{{ now().isoformat() }}") == "2026-03-01T16:00:00+08:00"
    assert text(hub, "{{ utcnow().isoformat() }}") == "2026-03-01T08:00:00+00:00"
    clock.advance(timedelta(hours=1, minutes=30))
    assert text(hub, "{{ now().isoformat() }}") == "2026-03-01T17:30:00+08:00"
    assert render(hub, "{{ now().hour }}:{{ now().minute }}") == "17:30"
    hub.config.time_zone = "UTC"
    assert text(hub, "{{ now().isoformat() }}") == "2026-03-01T09:30:00+00:00"


async def test_today_at(hub: Hub, clock: FakeClock) -> None:
    assert text(hub, "{{ today_at('10:30').isoformat() }}") == "2026-03-01T10:30:00+08:00"
    assert text(hub, "{{ today_at().isoformat() }}") == "2026-03-01T00:00:00+08:00"
    assert render(hub, "{{ now() > today_at('15:59:59') }}") is True
    clock.set("2026-03-01T17:00:00+00:00")  # 01:00 the next day in Shanghai
    assert text(hub, "{{ '06:00' | today_at }}") == "2026-03-02 06:00:00+08:00"
    with pytest.raises(TemplateError, match="today_at got invalid time '25:00'"):
        render(hub, "{{ today_at('25:00') }}")
    with pytest.raises(TemplateError, match="today_at got invalid time 'noon'"):
        render(hub, "{{ today_at('noon') }}")


async def test_datetime_conversions(hub: Hub) -> None:
    local_4pm = datetime(2026, 3, 1, 16, 0, tzinfo=SHANGHAI).timestamp()
    assert render(hub, "{{ as_timestamp(now()) }}") == local_4pm
    assert render(hub, "{{ as_timestamp('2026-03-01T08:00:00Z') }}") == local_4pm
    assert render(hub, "{{ as_timestamp('2026-03-01 16:00:00') }}") == local_4pm  # naive: local
    assert render(hub, "{{ as_timestamp('soon', 0) }}") == 0
    with pytest.raises(TemplateError, match="as_timestamp got invalid input 'soon'"):
        render(hub, "{{ as_timestamp('soon') }}")
    assert text(hub, "{{ as_datetime('2026-03-01T08:00:00+00:00').hour }}") == "8"
    assert text(hub, "{{ as_datetime(0).isoformat() }}") == "1970-01-01T00:00:00+00:00"
    assert render(hub, "{{ as_datetime('never', 'bad') }}") == "bad"
    assert render(hub, "{{ 'never' | as_datetime(None) }}") is None
    assert text(hub, "{{ as_local(utcnow()).isoformat() }}") == "2026-03-01T16:00:00+08:00"
    local = "{{ as_local('2026-03-01T00:00:00Z').isoformat() }}"
    assert text(hub, local) == "2026-03-01T08:00:00+08:00"
    parsed = "{{ strptime('01/03/2026 07:05', '%d/%m/%Y %H:%M').isoformat() }}"
    assert text(hub, parsed) == "2026-03-01T07:05:00"
    assert render(hub, "{{ strptime('x', '%Y', 'fallback') }}") == "fallback"
    with pytest.raises(TemplateError, match="strptime got invalid input 'x'"):
        render(hub, "{{ strptime('x', '%Y') }}")
    assert text(hub, "{{ (now() + timedelta(hours=2)).isoformat() }}") == (
        "2026-03-01T18:00:00+08:00"
    )
    assert render(hub, "{{ as_timedelta('01:30:00').total_seconds() }}") == 5400.0
    assert render(hub, "{{ as_timedelta('later') }}") is None
    assert render(hub, "{{ 0 | timestamp_custom('%H:%M') }}") == "08:00"
    assert render(hub, "{{ 0 | timestamp_custom('%H:%M', false) }}") == "00:00"
    assert render(hub, "{{ 0 | timestamp_utc }}") == "1970-01-01T00:00:00+00:00"
    assert render(hub, "{{ 0 | timestamp_local }}") == "1970-01-01T08:00:00+08:00"


async def test_relative_times(hub: Hub) -> None:
    assert render(hub, "{{ relative_time(now() - timedelta(hours=2, minutes=5)) }}") == "2 hours"
    assert render(hub, "{{ relative_time(now() - timedelta(seconds=1)) }}") == "1 second"
    since = "{{ time_since(now() - timedelta(days=1, minutes=5), precision=3) }}"
    assert render(hub, since) == "1 day 5 minutes"
    assert render(hub, "{{ time_until(now() + timedelta(days=3)) }}") == "3 days"
    assert render(hub, "{{ relative_time('not a time') }}") == "not a time"
    future = "{{ relative_time(now() + timedelta(hours=1)) == now() + timedelta(hours=1) }}"
    assert render(hub, future) is True


# ---------------------------------------------------------------------- numbers and text
async def test_number_conversions(hub: Hub) -> None:
    assert render(hub, "{{ '1.5' | float }}") == 1.5
    assert render(hub, "{{ 'x' | float(0) }}") == 0
    assert render(hub, "{{ float('x', 2) }}") == 2
    assert render(hub, "{{ '3.7' | int }}") == 3
    assert render(hub, "{{ int('ff', base=16) }}") == 255
    assert render(hub, "{{ 'x' | int(-1) }}") == -1
    assert render(hub, "{{ 'on' | bool }} {{ bool('off') }} {{ 'maybe' | bool('?') }}") == (
        "True False ?"
    )
    for source, name in (
        ("{{ 'x' | float }}", "float"),
        ("{{ int('x') }}", "int"),
        ("{{ 'maybe' | bool }}", "bool"),
        ("{{ 'x' | round }}", "round"),
        ("{{ average([]) }}", "average"),
    ):
        with pytest.raises(TemplateError, match=f"{name} got invalid input .* no default"):
            render(hub, source)


async def test_rounding_and_statistics(hub: Hub) -> None:
    assert render(hub, "{{ 2.5678 | round(2) }}") == 2.57
    assert render(hub, "{{ 2.5 | round }}") == 2
    assert render(hub, "{{ 2.121 | round(2, 'ceil') }}") == 2.13
    assert render(hub, "{{ 2.129 | round(2, 'floor') }}") == 2.12
    assert render(hub, "{{ 2.3 | round(method='half') }}") == 2
    assert render(hub, "{{ 2.3 | round(1, 'half') }}") == 2.5
    assert render(hub, "{{ 'x' | round(default=0) }}") == 0
    with pytest.raises(TemplateError, match="precision must be"):
        render(hub, "{{ 1 | round(10**9) }}")
    assert render(hub, "{{ average([1, 2, 3]) }} {{ average(1, 3) }} {{ [2, 4] | average }}") == (
        "2.0 2.0 3.0"
    )
    assert render(hub, "{{ average([], 0) }}") == 0
    assert render(hub, "{{ min(3, 1, 2) }} {{ max([3, 1, 2]) }} {{ [4, 5] | min }}") == "1 3 4"
    with pytest.raises(TemplateError, match="min expected at least 1 argument"):
        render(hub, "{{ min() }}")
    assert render(hub, "{{ is_number('1.5') }} {{ 'nan' | is_number }} {{ 'x' is is_number }}") == (
        "True False False"
    )
    assert render(hub, "{{ iif(1 > 0, 'yes', 'no') }} {{ iif(None, 1, 2, 3) }}") == "yes 3"
    assert render(hub, "{{ [] | iif('full', 'empty') }}") == "empty"
    assert render(hub, "{{ [[1], [2, 3]] | sum(start=[]) }}") == [1, 2, 3]
    assert render(hub, "{{ [1, 2, 3] | sum }}") == 6


async def test_regex_json_and_slugify(hub: Hub) -> None:
    assert render(hub, "{{ 'Gate 3' | regex_match('gate', ignorecase=True) }}") is True
    assert render(hub, "{{ 'Gate 3' | regex_match('3') }}") is False
    assert render(hub, "{{ 'Gate 3' | regex_search('\\\\d') }}") is True
    assert render(hub, "{{ 'Gate 3' is match('Gate') }} {{ 'Gate 3' is search('3$') }}") == (
        "True True"
    )
    assert render(hub, "{{ 'a1b22' | regex_replace('(\\\\d+)', '<\\\\1>') }}") == "a<1>b<22>"
    assert render(hub, "{{ 'a1b22' | regex_findall('\\\\d+') }}") == ["1", "22"]
    assert render(hub, "{{ 'a1b22' | regex_findall_index('\\\\d+', 1) }}") == 22
    assert render(hub, "{{ ('{\"a\": [1, 2]}' | from_json).a[1] }}") == 2
    assert render(hub, "{{ 'nope' | from_json('bad') }}") == "bad"
    with pytest.raises(TemplateError, match="from_json got invalid input 'nope'"):
        render(hub, "{{ 'nope' | from_json }}")
    assert render(hub, "{{ {'名': 1} | to_json }}", parse_result=False) == '{"名":1}'
    assert render(hub, "{{ {'名': 1} | to_json(ensure_ascii=True) }}", parse_result=False) == (
        '{"\\u540d": 1}'
    )
    assert render(hub, "{{ {'b': 1, 'a': 2} | to_json(sort_keys=True) }}", parse_result=False) == (
        '{"a":2,"b":1}'
    )
    hub.states.async_set("light.hall", "on", {"brightness": 3})
    as_json = render(hub, "{{ states.light.hall | to_json }}", parse_result=False)
    assert '"entity_id":"light.hall"' in as_json
    assert '"brightness":3' in as_json
    assert render(hub, "{{ 'Building 3 – East Gate!' | slugify }}") == "building_3_east_gate"
    assert render(hub, "{{ slugify('Gate 3', '-') }}") == "gate-3"
    assert render(hub, "{{ '号楼' | slugify }}") == "unknown"


# ---------------------------------------------------------------------- registries
@pytest.fixture
async def community(hub: Hub) -> dict[str, str]:
    areas = hub.registries.areas
    areas.async_create("building", "3号楼", id="b3", names={"zh-CN": "3号楼", "en": "Building 3"})
    areas.async_create("building", "5号楼", id="b5")
    areas.async_create("unit", "1单元", "b3", id="b3-u1")
    areas.async_create("floor", "12层", "b3-u1", id="b3-u1-f12", floor_number=12)
    areas.async_create("floor", "12层", "b5", id="b5-f12", floor_number=12)
    areas.async_create("room", "1201", "b3-u1-f12", id="b3-1201")
    camera = hub.registries.devices.async_get_or_create(
        "hikvision",
        identifiers=[("hikvision", "cam-1")],
        name="Gate camera",
        manufacturer="Hikvision",
        area_id="b3",
    )
    hub.registries.entities.async_get_or_create(
        "sensor", "hikvision", "cam-1-temp", suggested_object_id="gate_temp", device_id=camera.id
    )
    hub.registries.entities.async_get_or_create(
        "sensor", "demo", "room-temp", suggested_object_id="room_1201_temp", area_id="b3-1201"
    )
    return {"camera": camera.id}


async def test_area_helpers(hub: Hub, community: dict[str, str]) -> None:
    assert render(hub, "{{ area_name('b3') }}") == "3号楼"
    assert render(hub, "{{ area_name('sensor.gate_temp') }}") == "3号楼"
    assert render(hub, "{{ 'sensor.room_1201_temp' | area_name }}") == 1201
    assert render(hub, f"{{{{ area_name('{community['camera']}') }}}}") == "3号楼"
    assert render(hub, "{{ area_name('nowhere') }}") is None
    assert render(hub, "{{ area_path('sensor.room_1201_temp') }}") == (
        "Linli / 3号楼 / 1单元 / 12层 / 1201"
    )
    assert render(hub, "{{ area_id('Building 3') }}") == "b3"
    assert render(hub, "{{ area_id('3号楼') }}") == "b3"
    assert render(hub, "{{ area_id('sensor.gate_temp') }}") == "b3"
    assert render(hub, "{{ area_id('12层') }}") is None  # two buildings have one
    assert render(hub, "{{ area_id('3号楼 / 1单元 / 12层') }}") == "b3-u1-f12"
    assert render(hub, "{{ area_id('5号楼/12层') }}") == "b5-f12"
    assert render(hub, "{{ area_entities('b3') }}") == ["sensor.gate_temp"]
    assert render(hub, "{{ area_entities('3号楼', recursive=true) }}") == [
        "sensor.gate_temp",
        "sensor.room_1201_temp",
    ]
    assert render(hub, "{{ area_entities('nowhere') }}") == []
    assert render(hub, "{{ area_devices('b3') }}") == [community["camera"]]
    assert render(hub, "{{ area_devices('community') }}") == []
    assert render(hub, "{{ area_devices('community', true) }}") == [community["camera"]]
    assert "b3-1201" in render(hub, "{{ areas() }}")
    hub.config.language = "en"
    assert render(hub, "{{ area_name('sensor.gate_temp') }}") == "Building 3"


async def test_device_helpers(hub: Hub, community: dict[str, str]) -> None:
    camera = community["camera"]
    assert render(hub, "{{ device_id('sensor.gate_temp') }}") == camera
    assert render(hub, "{{ device_id('gate camera') }}") == camera
    assert render(hub, "{{ device_id('sensor.room_1201_temp') }}") is None
    assert render(hub, "{{ device_name('sensor.gate_temp') }}") == "Gate camera"
    assert render(hub, "{{ device_attr('sensor.gate_temp', 'manufacturer') }}") == "Hikvision"
    assert render(hub, f"{{{{ device_attr('{camera}', 'area_id') }}}}") == "b3"
    assert render(hub, f"{{{{ device_attr('{camera}', '__class__') }}}}") is None
    assert render(hub, f"{{{{ device_attr('{camera}', '_hub') }}}}") is None
    assert render(hub, f"{{{{ is_device_attr('{camera}', 'model', None) }}}}") is True
    assert render(hub, f"{{{{ device_entities('{camera}') }}}}") == ["sensor.gate_temp"]
    assert render(hub, "{{ device_entities('nothing') }}") == []


async def test_limited_templates_refuse_states_and_registries(
    sensors: Hub, community: dict[str, str]
) -> None:
    hub = sensors
    for source, name in (
        ("{{ states('light.hall') }}", "states"),
        ("{{ states.light.hall.state }}", "states"),
        ("{% for s in states %}{% endfor %}", "states"),
        ("{{ is_state('light.hall', 'on') }}", "is_state"),
        ("{{ 'light.hall' is has_value }}", "has_value"),
        ("{{ expand('group.lights') }}", "expand"),
        ("{{ area_name('b3') }}", "area_name"),
        ("{{ device_id('sensor.gate_temp') }}", "device_id"),
    ):
        with pytest.raises(TemplateError, match=f"'{name}' cannot be used in a limited template"):
            render(hub, source, limited=True)
    limited = render(hub, "{{ now().year }} {{ value | float * 2 }}", {"value": "2"}, limited=True)
    assert limited == "2026 4.0"
    assert render(hub, "{{ states('light.hall') }}") == "on"


# ---------------------------------------------------------------------- nested data
async def test_render_complex(hub: Hub) -> None:
    hub.states.async_set("light.hall", "on")
    late = Template("{{ states('light.hall') }}")
    data = {
        "title": "Hall is {{ states('light.hall') }}",
        "{{ 'key' ~ 1 }}": ["{{ 1 + 1 }}", "plain {text}", 3, None, late],
        "nested": {"deep": ("{{ n * 2 }}", True)},
        "static": Template("5"),
    }
    assert render_complex(data, {"n": 21}, hub) == {
        "title": "Hall is on",
        "key1": [2, "plain {text}", 3, None, "on"],
        "nested": {"deep": (42, True)},
        "static": 5,
    }
    assert late.hub is hub
    assert render_complex(["{{ 1 }}"], None, hub, parse_result=False) == ["1"]
    assert render_complex("no template", None, None) == "no template"
    assert render_complex(7) == 7


async def test_attach(hub: Hub) -> None:
    config = template_complex({"a": ["{{ 1 }}", {"b": "x"}], "{{ k }}": "y", "n": 3})
    templates = [config["a"][0], config["a"][1]["b"], *config]
    attach(hub, config)
    assert all(t.hub is hub for t in templates if isinstance(t, Template))
    assert config["a"][0].async_render() == 1


# ---------------------------------------------------------------------- validators
def test_template_validator() -> None:
    valid = template("{{ states('sensor.x') | float(0) > 3 }}")
    assert isinstance(valid, Template)
    assert valid.hub is None
    assert template(valid) is valid
    assert template("plain text").is_static
    with pytest.raises(vol.Invalid, match=r"expected a template string, not int"):
        template(5)
    with pytest.raises(vol.Invalid, match=r"expected a template string, not NoneType"):
        template(None)
    with pytest.raises(vol.Invalid, match=r"expected a template string, not dict"):
        template({"a": 1})


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ states('x' }}", r"unexpected '}', expected '\)' \(line 1, column 15\)"),
        ("{{ 1 + }}", r"unexpected 'end of print statement' \(line 1, column 8\)"),
        ("{% frobnicate %}", r"Encountered unknown tag 'frobnicate'.* \(line 1, column 4\)"),
        ("hello {{ name", r"unexpected end of template.* \(line 1, column 14\)"),
        ("{{ a $ b }}", r"unexpected char '\$' at 5 \(line 1, column 6\)"),
        (
            "line one\n  {{ x | nosuchfilter }}",
            r"No filter named 'nosuchfilter'.* \(line 2, column 10\)",
        ),
        ("{{ 1 }}\n{{ x is nosuchtest }}", r"No test named 'nosuchtest'.* \(line 2, column 9\)"),
        ("{% if x %}open", r"Unexpected end of template.*'endif'.*\(line 1"),
    ],
)
def test_template_validator_names_the_problem_and_place(source: str, message: str) -> None:
    with pytest.raises(vol.Invalid, match=r"^invalid template: " + message):
        template(source)
    with pytest.raises(TemplateError, match=message) as caught:
        Template(source).ensure_valid()
    assert caught.value.template == source
    assert caught.value.line is not None
    assert "Traceback" not in str(caught.value)


def test_unknown_tests_in_branches_fail_when_rendered() -> None:
    # Jinja defers these to the render, so that a branch never taken may use them.
    tmpl = template("{% if x %}{{ x is nosuchtest }}{% endif %}")
    assert tmpl.async_render({"x": 0}) == ""
    with pytest.raises(TemplateError, match="No test named 'nosuchtest'"):
        tmpl.async_render({"x": 1})


def test_validators_in_a_schema() -> None:
    schema = vol.Schema({"value_template": dynamic_template, "data": template_complex})
    checked = schema({"value_template": "{{ x > 1 }}", "data": {"msg": "hi", "n": 1}})
    assert isinstance(checked["value_template"], Template)
    assert isinstance(checked["data"]["msg"], Template)
    assert checked["data"]["n"] == 1
    with pytest.raises(vol.Invalid, match="plain text") as caught:
        schema({"value_template": "just text"})
    assert caught.value.path == ["value_template"]
    with pytest.raises(vol.Invalid, match="invalid template") as caught:
        schema({"value_template": "{{ x", "data": {}})
    assert caught.value.path == ["value_template"]
    with pytest.raises(vol.Invalid, match="invalid template"):
        schema({"value_template": "{{ x }}", "data": {"msg": ["{% if %}"]}})
    assert dynamic_template(Template("{{ 1 }}")).source == "{{ 1 }}"
    with pytest.raises(vol.Invalid, match="plain text"):
        dynamic_template(Template("static"))


def test_template_complex_keeps_the_structure() -> None:
    result = template_complex(
        {"message": "{{ x }}", "{{ key }}": "y", "plain": "text", "list": [1, "{{ 2 }}", None]}
    )
    assert result["message"] == Template("{{ x }}")
    assert result["plain"] == Template("text")
    assert result["list"][0] == 1
    assert result["list"][1] == Template("{{ 2 }}")
    assert result["list"][2] is None
    assert Template("{{ key }}") in result
    assert template_complex(3) == 3


# ---------------------------------------------------------------------- the sandbox
ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__dict__ }}",
    "{{ states.__class__ }}",
    "{{ states._hub }}",
    "{{ states.light._hub }}",
    "{{ states.light.hall._state }}",
    "{{ states.light.hall.attributes.__class__ }}",
    "{{ now.__closure__ }}",
    "{{ now.__globals__ }}",
    "{{ is_state.__globals__ }}",
    "{{ (states | list)[0]._state.context }}",
    "{{ 'a'.upper.__self__ }}",
    "{{ lipsum() }}",
    "{{ ''|attr('__class__') }}",
    "{{ [states] | map(attribute='_hub') | list }}",
    "{{ '{0.__class__}'.format('') }}",
    "{% macro m() %}{% endmacro %}{{ m._environment }}",
    "{% for x in range(1) %}{{ loop._iterator }}{% endfor %}",
    "{{ [1, 2].append(3) }}",
    "{{ {'a': 1}.update({'b': 2}) }}",
    "{{ states.light.hall.attributes.update({'x': 1}) }}",
    "{{ range(10**9) | list }}",
    "{{ range(100001) | list }}",
    "{{ 'a' * 10**9 }}",
    "{{ [0] * 10**9 }}",
    "{{ 10**9 * 'a' }}",
    "{{ 9**(9**9) }}",
    "{{ 2**(10**6) }}",
    "{{ (10**2000) * (10**2000) * (10**2000) * (10**2000) * (10**2000) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '%*d' % (999999999, 1) }}",
    "{{ '%999999999d' | format(1) }}",
    "{{ '{:999999999}'.format(1) }}",
    "{{ '{:{w}}'.format(1, w=999999999) }}",
    "{{ 'a'.center(999999999) }}",
    "{{ 'a'.ljust(999999999) }}",
    "{{ 'a'.zfill(999999999) }}",
    "{{ ('\t' * 1000).expandtabs(999999) }}",
    "{{ 'a' | center(999999999) }}",
    "{{ 'a\nb' | indent(999999999) }}",
    "{{ ('a' * 200000).replace('a', 'aaaaaa') }}",
    "{{ ('a' * 200000) | replace('a', 'aaaaaa') }}",
    "{{ ('a' * 200000) | regex_replace('', 'xyz') }}",
    "{{ ('x' * 100000).join(range(100000) | map('string')) }}",
    "{{ range(100000) | join('x' * 100000) }}",
    "{{ ['x' * 200000] * 1000 }}",
    "{{ (['x' * 200000] * 1000) | string }}",
    "{{ range(3) | batch(999999999, 0) | list }}",
    "{{ range(3) | slice(999999999) | list }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
    "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
    "{% set ns = namespace(n=3) %}{% for i in range(64) %}"
    "{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% for i in range(100000) %}{% set y = ('x' * 200000)[1:] %}{% endfor %}",
    "{% for i in range(100000) %}{% set y %}{{ 'x' * 200000 }}{% endset %}{% endfor %}",
    "{% for i in range(100000) %}{{ 'xxxxxxxxxx' }}{% endfor %}",
    "{% extends 'base.html' %}",
    "{% include '/etc/passwd' %}",
    "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}",
]


@pytest.mark.parametrize("source", ESCAPES)
async def test_sandbox_refuses_escapes_and_exhaustion_quickly(sensors: Hub, source: str) -> None:
    tmpl = Template(source, sensors)
    started = time.perf_counter()
    with pytest.raises(TemplateError) as caught:
        tmpl.async_render()
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert "Traceback" not in message
    assert "Error " in message


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 10**9 }}",
        "{{ ['x' * 200000] * 1000 }}",
        "{{ ('a' * 200000).replace('a', 'aaaaaa') }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "{% for i in range(100000) %}{% set y %}{{ 'x' * 200000 }}{% endset %}{% endfor %}",
    ],
)
async def test_exhaustion_attempts_stay_small_in_memory(hub: Hub, source: str) -> None:
    tmpl = Template(source, hub)
    tmpl.ensure_valid()
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError):
            tmpl.async_render()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024


async def test_sandbox_limits_leave_ordinary_templates_alone(sensors: Hub) -> None:
    hub = sensors
    assert render(hub, "{{ range(100000) | list | length }}") == 100000
    assert render(hub, "{{ 9**9**9 > 0 }}") is True  # Jinja's ** groups left: (9**9)**9
    assert render(hub, "{{ 2**64 }}") == 2**64
    assert render(hub, "{{ ('ab' * 1000) | length }}") == 2000
    assert render(hub, "{{ '%05.1f|%-4s|' % (3.14159, 'x') }}") == "003.1|x   |"
    assert render(hub, "{{ '{:>6}|{:08.2f}'.format('ab', 2.5) }}") == "ab|00002.50"
    assert render(hub, "{{ 'a,b'.replace(',', ';') }} {{ '-'.join(['x', 'y']) }}") == "a;b x-y"
    assert render(hub, "{{ 'abcdef'[1:3] }}{{ [1, 2, 3][::-1] }}") == "bc[3, 2, 1]"
    loops = "{% for i in range(3) %}{{ loop.index }}/{{ loop.length }} {% endfor %}"
    assert render(hub, loops) == "1/3 2/3 3/3"
    tree = (
        "{% for node in tree recursive %}{{ node.n }}"
        "{% if node.kids %}({{ loop(node.kids) }}){% endif %}{% endfor %}"
    )
    kids = {"tree": [{"n": 1, "kids": [{"n": 2, "kids": []}, {"n": 3, "kids": []}]}]}
    assert render(hub, tree, kids) == "1(23)"
    assert render(hub, "{% set d = dict(a=1) %}{{ d.a }}{{ d['a'] }}") == 11
    assert render(hub, "{% set ns = namespace(n=0) %}{% do [1] %}{{ ns.n }}") == 0
    many = "{% for i in range(1000) %}{% if i is even %}{% continue %}{% endif %}x{% endfor %}"
    assert len(render(hub, many)) == 500
    assert render(hub, "{{ 'x' ~ 1 ~ none }}") == "x1None"
    output = "{% for i in range(300) %}{{ 'x' * 1000 }}{% endfor %}"
    with pytest.raises(TemplateError, match=f"output is too long \\(over {MAX_TEMPLATE_OUTPUT}"):
        render(hub, output)


async def test_the_hub_is_never_reachable(hub: Hub) -> None:
    with pytest.raises(TemplateError, match="variable 'hub' holds the Hub"):
        render(hub, "{{ hub }}", {"hub": hub})
    for source in ("{{ box.hub }}", "{{ box['hub'].states }}", "{{ box.hub.bus }}"):
        with pytest.raises(TemplateError, match="may not use the Hub"):
            render(hub, source, {"box": {"hub": hub}})
    with pytest.raises(TemplateError, match="may not use the Hub"):
        render(hub, "{{ items | first }}", {"items": [hub]})
    with pytest.raises(TemplateError, match="may not use the Hub"):
        render(hub, "{% for x in items %}{% endfor %}", {"items": [hub]})
    with pytest.raises(TemplateError, match="may not use the StateMachine"):
        render(hub, "{{ box.machine }}", {"box": {"machine": hub.states}})
    with pytest.raises(TemplateError, match="may not use the AreaRegistry"):
        render(hub, "{{ box['areas'] }}", {"box": {"areas": hub.registries.areas}})


async def test_the_hub_keeps_running_after_failing_renders(sensors: Hub) -> None:
    hub = sensors
    seen: list[str] = []

    @callback
    def listener(event: Event[Any]) -> None:
        seen.append(event.data["entity_id"])

    hub.bus.async_listen(EVENT_STATE_CHANGED, listener)
    for source in [*ESCAPES[:10], "{{ 1 / 0 }}", "{{ 'x' | float }}", "{{ x.y.z }}", "{{ x"]:
        info = Template(source, hub).async_render_to_info()
        assert isinstance(info.exception, TemplateError)
    assert hub.state is HubState.running
    hub.states.async_set("light.hall", "off")
    hub.bus.async_fire("custom_event")
    await hub.async_block_till_done()
    assert seen == ["light.hall"]
    assert hub.states.get("light.hall") is not None
    assert render(hub, "{{ states('light.hall') }}") == "off"
    assert datetime.now(UTC).year >= 2024  # the real clock was not touched either
