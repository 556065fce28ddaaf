"""The numeric_state trigger: fires on crossing into the range, like Home Assistant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import voluptuous as vol

from linli.clock import FakeClock
from linli.helpers.trigger import TRIGGER_SCHEMA
from linli.hub import Hub

Attach = Callable[..., Awaitable[Any]]
"""The ``attach`` fixture (conftest.py): ``await attach(hub, triggers)`` → (fired, detach)."""


async def test_fires_on_entering_the_range_only(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("sensor.water_level", "10")
    fired, _ = await attach(
        hub,
        {"platform": "numeric_state", "entity_id": "sensor.water_level", "above": 50, "below": 90},
    )
    for value in ("60", "70", "95", "80", "40", "unavailable", "55"):
        hub.states.async_set("sensor.water_level", value)

    assert [t["to_state"].state for t in fired.triggers] == ["60", "80", "55"]
    trigger = fired.triggers[0]
    assert trigger["platform"] == "numeric_state"
    assert (trigger["above"], trigger["below"]) == (50.0, 90.0)
    assert trigger["from_state"].state == "10"
    assert trigger["description"] == "numeric state of sensor.water_level"


async def test_an_entity_inside_when_attached_must_leave_first(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("sensor.temp", "35")
    fired, _ = await attach(
        hub, {"platform": "numeric_state", "entity_id": "sensor.temp", "above": 30}
    )
    hub.states.async_set("sensor.temp", "36")
    assert len(fired) == 0
    hub.states.async_set("sensor.temp", "20")
    hub.states.async_set("sensor.temp", "31")
    assert len(fired) == 1


async def test_thresholds_from_entities_and_attribute_values(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("input_number.max_temp", "28")
    hub.states.async_set("climate.hall", "heat", {"current_temperature": 20})
    fired, _ = await attach(
        hub,
        {
            "platform": "numeric_state",
            "entity_id": "climate.hall",
            "attribute": "current_temperature",
            "above": "input_number.max_temp",
        },
    )
    hub.states.async_set("climate.hall", "heat", {"current_temperature": 27})
    hub.states.async_set("climate.hall", "heat", {"current_temperature": 29})
    assert len(fired) == 1
    hub.states.async_set("climate.hall", "heat", {"current_temperature": 20})
    hub.states.async_set("input_number.max_temp", "not a number")
    hub.states.async_set("climate.hall", "heat", {"current_temperature": 40})
    assert len(fired) == 1


async def test_for_held_and_interrupted(hub: Hub, clock: FakeClock, attach: Attach) -> None:
    hub.states.async_set("sensor.smoke", "0")
    fired, _ = await attach(
        hub,
        {"platform": "numeric_state", "entity_id": "sensor.smoke", "above": 100, "for": 30},
    )
    hub.states.async_set("sensor.smoke", "150")
    clock.advance(20)
    hub.states.async_set("sensor.smoke", "50")  # left the range: cancelled
    clock.advance(20)
    assert len(fired) == 0

    hub.states.async_set("sensor.smoke", "150")
    clock.advance(20)
    hub.states.async_set("sensor.smoke", "180")  # still inside: keeps running
    clock.advance(10)
    assert len(fired) == 1
    assert fired.triggers[0]["for"] == timedelta(seconds=30)
    assert fired.triggers[0]["late"] is False
    assert fired.triggers[0]["to_state"].state == "150"


def test_schema_checks_the_range() -> None:
    with pytest.raises(vol.Invalid, match="two triggers"):
        TRIGGER_SCHEMA(
            {"platform": "numeric_state", "entity_id": "sensor.a", "above": 5, "below": 1}
        )
    with pytest.raises(vol.Invalid, match="'above', 'below'"):
        TRIGGER_SCHEMA({"platform": "numeric_state", "entity_id": "sensor.a"})
    with pytest.raises(vol.Invalid, match="input_number"):
        TRIGGER_SCHEMA({"platform": "numeric_state", "entity_id": "sensor.a", "above": "light.x"})
    config = TRIGGER_SCHEMA({"platform": "numeric_state", "entity_id": "sensor.a", "below": "5"})
    assert config["below"] == 5.0


async def test_for_across_a_restart(
    hub_factory: Any, clock: FakeClock, attach: Attach, tmp_path: Any
) -> None:
    trigger = {"platform": "numeric_state", "entity_id": "sensor.co2", "above": 1000, "for": 3600}
    first = await hub_factory(tmp_path / "c")
    first.states.async_set("sensor.co2", "400")
    await attach(first, trigger, deadline_prefix="t")
    first.states.async_set("sensor.co2", "1500")
    clock.advance(1800)
    await first.async_stop()

    second = await hub_factory(tmp_path / "c")
    fired, _ = await attach(second, trigger, deadline_prefix="t")
    second.states.async_set("sensor.co2", "1600")  # back after the restart, still above
    clock.advance(1799)
    assert len(fired) == 0
    clock.advance(1)
    assert len(fired) == 1
    assert fired.triggers[0]["to_state"].state == "1500"
    assert fired.triggers[0]["late"] is False
    second.states.async_set("sensor.co2", "1700")  # inside already: no second firing
    assert len(fired) == 1
