"""Template triggers (re-rendered by what they read) and templates inside other triggers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from linli.clock import FakeClock
from linli.const import EVENT_STATE_CHANGED
from linli.hub import Hub

Attach = Callable[..., Awaitable[Any]]
"""The ``attach`` fixture (conftest.py): ``await attach(hub, triggers)`` → (fired, detach)."""


def template_trigger(source: str, **extra: Any) -> dict[str, Any]:
    return {"platform": "template", "value_template": source, **extra}


async def test_fires_when_the_result_turns_true(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("sensor.water_level", "40")
    hub.states.async_set("input_number.limit", "80")
    fired, _ = await attach(
        hub,
        template_trigger(
            "{{ states('sensor.water_level') | float(0)"
            " > states('input_number.limit') | float(0) }}"
        ),
    )
    hub.states.async_set("sensor.water_level", "90")  # true
    hub.states.async_set("sensor.water_level", "95")  # still true: nothing new
    hub.states.async_set("input_number.limit", "99")  # false, because the limit moved
    hub.states.async_set("input_number.limit", "50")  # true again
    assert len(fired) == 2
    first, second = fired.triggers
    assert first["platform"] == "template"
    assert first["entity_id"] == "sensor.water_level"
    assert first["to_state"].state == "90"
    assert first["description"] == "template"
    assert second["entity_id"] == "input_number.limit"


async def test_true_when_attached_must_turn_false_first(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("binary_sensor.smoke", "on")
    fired, _ = await attach(hub, template_trigger("{{ is_state('binary_sensor.smoke', 'on') }}"))
    hub.states.async_set("binary_sensor.smoke", "on", {"level": 2})
    assert len(fired) == 0
    hub.states.async_set("binary_sensor.smoke", "off")
    hub.states.async_set("binary_sensor.smoke", "on")
    assert len(fired) == 1


async def test_follows_the_entities_the_last_render_read(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("input_boolean.night", "off")
    hub.states.async_set("binary_sensor.front", "off")
    hub.states.async_set("binary_sensor.back", "off")
    fired, _ = await attach(
        hub,
        template_trigger(
            "{% if is_state('input_boolean.night', 'on') %}"
            "{{ is_state('binary_sensor.back', 'on') }}"
            "{% else %}{{ is_state('binary_sensor.front', 'on') }}{% endif %}"
        ),
    )
    hub.states.async_set("binary_sensor.back", "on")  # not read by the day branch
    assert len(fired) == 0
    hub.states.async_set("binary_sensor.back", "off")
    hub.states.async_set("input_boolean.night", "on")
    hub.states.async_set("binary_sensor.back", "on")  # read now
    assert [t["entity_id"] for t in fired.triggers] == ["binary_sensor.back"]


async def test_a_template_over_a_domain_sees_new_entities(hub: Hub, attach: Attach) -> None:
    fired, detach = await attach(
        hub,
        template_trigger(
            "{{ states.light | selectattr('state', 'eq', 'on') | list | count >= 2 }}"
        ),
    )
    hub.states.async_set("light.a", "on")
    hub.states.async_set("switch.x", "on")
    hub.states.async_set("light.b", "on")
    assert [t["entity_id"] for t in fired.triggers] == ["light.b"]
    detach()
    assert EVENT_STATE_CHANGED not in hub.bus.async_listeners()


async def test_a_template_reading_the_clock_is_rendered_every_minute(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    clock.set(datetime(2026, 3, 1, 23, 58, 30, tzinfo=shanghai))
    fired, detach = await attach(hub, template_trigger("{{ now().hour == 0 }}"))
    clock.advance(timedelta(minutes=3))
    assert len(fired) == 1
    assert fired.triggers[0]["entity_id"] is None
    detach()
    assert hub.pending_timers == 0


async def test_for_held_and_interrupted(hub: Hub, clock: FakeClock, attach: Attach) -> None:
    hub.states.async_set("sensor.noise", "40")
    fired, _ = await attach(
        hub,
        template_trigger("{{ states('sensor.noise') | int(0) > 70 }}", **{"for": "00:10:00"}),
    )
    hub.states.async_set("sensor.noise", "80")
    clock.advance(300)
    hub.states.async_set("sensor.noise", "60")
    clock.advance(600)
    assert len(fired) == 0
    hub.states.async_set("sensor.noise", "85")
    clock.advance(300)
    hub.states.async_set("sensor.noise", "90")  # still true: the timer goes on
    clock.advance(300)
    assert len(fired) == 1
    assert fired.triggers[0]["for"] == timedelta(minutes=10)
    assert fired.triggers[0]["late"] is False


async def test_a_render_error_is_false_and_logged(
    hub: Hub, attach: Attach, caplog: pytest.LogCaptureFixture
) -> None:
    fired, _ = await attach(hub, template_trigger("{{ states('sensor.a') | int > 1 }}"))
    hub.states.async_set("sensor.a", "not a number")
    assert len(fired) == 0
    assert "Error rendering the template trigger of test" in caplog.text


async def test_for_as_a_template_and_trigger_variables(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    hub.states.async_set("input_number.minutes", "2")
    fired, _ = await attach(
        hub,
        {
            "platform": "state",
            "entity_id": "binary_sensor.door",
            "to": "on",
            "for": {"minutes": "{{ states('input_number.minutes') | int + extra }}"},
            "variables": {
                "door": "{{ trigger.entity_id.split('.')[1] }}",
                "building": "{{ block }}",
            },
        },
        variables={"extra": 1, "block": "3号楼"},
    )
    hub.states.async_set("binary_sensor.door", "on")
    clock.advance(179)
    assert len(fired) == 0
    clock.advance(1)
    assert len(fired) == 1
    run = fired.runs[0]
    assert run["trigger"]["for"] == timedelta(minutes=3)
    assert run["door"] == "door"
    assert run["building"] == "3号楼"


async def test_numeric_state_value_template(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("sensor.meter", "ok", {"reading": "12.5 kWh"})
    fired, _ = await attach(
        hub,
        {
            "platform": "numeric_state",
            "entity_id": "sensor.meter",
            "value_template": "{{ state.attributes.reading.split(' ')[0] | float }}",
            "above": 20,
        },
    )
    hub.states.async_set("sensor.meter", "ok", {"reading": "25 kWh"})
    assert len(fired) == 1


async def test_enabled_as_a_template(hub: Hub, attach: Attach) -> None:
    fired, _ = await attach(
        hub,
        [
            {"platform": "state", "entity_id": "light.a", "enabled": "{{ use_a }}"},
            {"platform": "state", "entity_id": "light.b", "enabled": "{{ not use_a }}"},
        ],
        variables={"use_a": False},
    )
    hub.states.async_set("light.a", "on")
    hub.states.async_set("light.b", "on")
    assert [t["entity_id"] for t in fired.triggers] == ["light.b"]


async def test_for_across_a_restart(
    hub_factory: Any, clock: FakeClock, attach: Attach, tmp_path: Any
) -> None:
    trigger = template_trigger("{{ is_state('lock.gate', 'unlocked') }}", **{"for": 600})
    first = await hub_factory(tmp_path / "c")
    first.states.async_set("lock.gate", "locked")
    await attach(first, trigger, deadline_prefix="t")
    first.states.async_set("lock.gate", "unlocked")
    clock.advance(300)
    await first.async_stop()
    clock.advance(600)

    second = await hub_factory(tmp_path / "c")
    fired, _ = await attach(second, trigger, deadline_prefix="t")
    await second.async_block_till_done()
    assert len(fired) == 1
    assert fired.triggers[0]["late"] is True
    assert fired.triggers[0]["entity_id"] == "lock.gate"


async def test_a_restored_for_is_dropped_when_the_template_is_false(
    hub_factory: Any, clock: FakeClock, attach: Attach, tmp_path: Any
) -> None:
    trigger = template_trigger("{{ is_state('lock.gate', 'unlocked') }}", **{"for": 600})
    first = await hub_factory(tmp_path / "c")
    first.states.async_set("lock.gate", "locked")
    await attach(first, trigger, deadline_prefix="t")
    first.states.async_set("lock.gate", "unlocked")
    await first.async_stop()

    second = await hub_factory(tmp_path / "c")
    second.states.async_set("lock.gate", "locked")  # known, and false
    fired, _ = await attach(second, trigger, deadline_prefix="t")
    clock.advance(1200)
    await second.async_block_till_done()
    assert len(fired) == 0
