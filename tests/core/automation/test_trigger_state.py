"""The state trigger: from/to matching as in Home Assistant, attributes, and ``for:``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import voluptuous as vol

from linli.clock import FakeClock
from linli.const import EVENT_STATE_CHANGED
from linli.context import Context
from linli.helpers.trigger import TRIGGER_SCHEMA
from linli.hub import Hub

Attach = Callable[..., Awaitable[Any]]
"""The ``attach`` fixture (conftest.py): ``await attach(hub, triggers)`` → (fired, detach)."""


async def test_fires_when_the_state_changes_to_the_wanted_value(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("binary_sensor.door", "off")
    fired, _ = await attach(
        hub,
        {"platform": "state", "entity_id": "binary_sensor.door", "to": "on", "id": "opened"},
    )
    context = Context(user_id="resident")
    hub.states.async_set("binary_sensor.door", "on", context=context)
    hub.states.async_set("binary_sensor.door", "on", {"battery": 90})  # attribute only
    hub.states.async_set("binary_sensor.door", "off")

    assert len(fired) == 1
    trigger = fired.triggers[0]
    assert trigger["platform"] == "state"
    assert trigger["id"] == "opened"
    assert trigger["idx"] == "0"
    assert trigger["entity_id"] == "binary_sensor.door"
    assert trigger["from_state"].state == "off"
    assert trigger["to_state"].state == "on"
    assert trigger["for"] is None
    assert trigger["description"] == "state of binary_sensor.door"
    assert fired.contexts == [context]


async def test_only_entity_id_fires_on_attribute_changes_too(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("sensor.lift", "idle", {"floor": 1})
    everything, _ = await attach(hub, {"platform": "state", "entity_id": "sensor.lift"})
    values_only, _ = await attach(
        hub, {"platform": "state", "entity_id": "sensor.lift", "to": None}
    )

    hub.states.async_set("sensor.lift", "idle", {"floor": 2})
    hub.states.async_set("sensor.lift", "moving", {"floor": 2})

    assert [t["to_state"].attributes["floor"] for t in everything.triggers] == [2, 2]
    assert [t["to_state"].state for t in values_only.triggers] == ["moving"]


async def test_from_to_lists_and_negations(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("lock.gate", "locked")
    listed, _ = await attach(
        hub,
        {
            "platform": "state",
            "entity_id": "lock.gate",
            "from": ["locked", "jammed"],
            "to": "unlocked",
        },
    )
    negated, _ = await attach(
        hub,
        {
            "platform": "state",
            "entity_id": "lock.gate",
            "not_from": "unavailable",
            "not_to": ["jammed"],
        },
    )

    for value in ("unlocked", "jammed", "unlocked", "unavailable", "unlocked", "locked"):
        hub.states.async_set("lock.gate", value)

    assert [(t["from_state"].state, t["to_state"].state) for t in listed.triggers] == [
        ("locked", "unlocked"),
        ("jammed", "unlocked"),
    ]
    assert [(t["from_state"].state, t["to_state"].state) for t in negated.triggers] == [
        ("locked", "unlocked"),
        ("jammed", "unlocked"),
        ("unlocked", "unavailable"),
        ("unlocked", "locked"),
    ]


async def test_attribute_trigger_ignores_other_attributes(hub: Hub, attach: Attach) -> None:
    hub.states.async_set("climate.hall", "heat", {"temperature": 20, "fan": "low"})
    fired, _ = await attach(
        hub,
        {"platform": "state", "entity_id": "climate.hall", "attribute": "temperature", "to": 22},
    )
    hub.states.async_set("climate.hall", "heat", {"temperature": 20, "fan": "high"})
    hub.states.async_set("climate.hall", "heat", {"temperature": 22, "fan": "high"})
    hub.states.async_set("climate.hall", "cool", {"temperature": 22, "fan": "high"})

    assert len(fired) == 1
    assert fired.triggers[0]["attribute"] == "temperature"


async def test_for_fires_once_the_state_has_held(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    hub.states.async_set("binary_sensor.door", "off")
    fired, _ = await attach(
        hub,
        {"platform": "state", "entity_id": "binary_sensor.door", "to": "on", "for": "00:05:00"},
    )
    hub.states.async_set("binary_sensor.door", "on")
    clock.advance(240)
    hub.states.async_set("binary_sensor.door", "on", {"battery": 80})  # attributes do not count
    clock.advance(59)
    assert len(fired) == 0
    clock.advance(1)

    assert len(fired) == 1
    trigger = fired.triggers[0]
    assert trigger["for"] == timedelta(minutes=5)
    assert trigger["late"] is False
    assert trigger["to_state"].state == "on"


async def test_for_is_cancelled_when_the_state_changes_away(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    hub.states.async_set("binary_sensor.door", "off")
    fired, _ = await attach(
        hub,
        {"platform": "state", "entity_id": "binary_sensor.door", "to": "on", "for": 300},
    )
    hub.states.async_set("binary_sensor.door", "on")
    clock.advance(200)
    hub.states.async_set("binary_sensor.door", "off")
    clock.advance(200)
    hub.states.async_set("binary_sensor.door", "on")
    clock.advance(299)
    assert len(fired) == 0
    clock.advance(1)
    assert len(fired) == 1


async def test_for_with_only_from_holds_until_the_old_value_returns(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    hub.states.async_set("person.wang", "home")
    fired, _ = await attach(
        hub, {"platform": "state", "entity_id": "person.wang", "from": "home", "for": 60}
    )
    hub.states.async_set("person.wang", "gate")
    clock.advance(30)
    hub.states.async_set("person.wang", "street")  # still away from home: keeps running
    clock.advance(30)
    assert [t["to_state"].state for t in fired.triggers] == ["gate"]

    hub.states.async_set("person.wang", "home")
    hub.states.async_set("person.wang", "gate")
    clock.advance(30)
    hub.states.async_set("person.wang", "home")
    clock.advance(60)
    assert len(fired) == 1


async def test_each_entity_has_its_own_for_timer(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    fired, _ = await attach(
        hub,
        {"platform": "state", "entity_id": ["light.a", "light.b"], "to": "on", "for": 10},
    )
    hub.states.async_set("light.a", "on")
    clock.advance(5)
    hub.states.async_set("light.b", "on")
    clock.advance(5)
    hub.states.async_set("light.b", "off")
    clock.advance(10)
    assert [t["entity_id"] for t in fired.triggers] == ["light.a"]


async def test_detaching_stops_firing_and_cancels_timers(
    hub: Hub, clock: FakeClock, attach: Attach
) -> None:
    fired, detach = await attach(
        hub,
        [
            {"platform": "state", "entity_id": "light.a", "to": "on"},
            {"platform": "state", "entity_id": "light.b", "to": "on", "for": 10},
        ],
    )
    hub.states.async_set("light.b", "on")
    detach()
    hub.states.async_set("light.a", "on")
    clock.advance(20)
    assert len(fired) == 0
    assert hub.pending_timers == 0
    assert EVENT_STATE_CHANGED not in hub.bus.async_listeners()


async def test_trigger_keyword_enabled_and_variables(hub: Hub, attach: Attach) -> None:
    fired, _ = await attach(
        hub,
        [
            {"trigger": "state", "entity_id": "light.a", "to": "on", "alias": "Light A on"},
            {"platform": "state", "entity_id": "light.a", "enabled": False},
        ],
    )
    hub.states.async_set("light.a", "on")
    assert len(fired) == 1
    assert fired.triggers[0]["platform"] == "state"
    assert fired.triggers[0]["alias"] == "Light A on"
    assert fired.triggers[0]["id"] == "0"


def test_unquoted_on_is_refused_with_a_hint() -> None:
    with pytest.raises(vol.Invalid, match="in quotes"):
        TRIGGER_SCHEMA({"platform": "state", "entity_id": "light.a", "to": True})
    with pytest.raises(vol.Invalid, match="not both"):
        TRIGGER_SCHEMA({"platform": "state", "entity_id": "light.a", "to": "on", "not_to": "off"})
    with pytest.raises(vol.Invalid):
        TRIGGER_SCHEMA({"platform": "state", "entity_id": "not an entity"})
    assert TRIGGER_SCHEMA({"platform": "state", "entity_id": "light.a", "to": 5})["to"] == ["5"]


# ------------------------------------------------------------------ for: across a restart

NO_EXIT = {
    "platform": "state",
    "entity_id": "binary_sensor.front_door",
    "to": "off",
    "for": {"hours": 24},
}
PREFIX = "automation.elder.trigger"


async def _start_holding(hub_factory: Any, config_dir: Any, attach: Attach) -> Hub:
    hub = await hub_factory(config_dir)
    hub.states.async_set("binary_sensor.front_door", "on")
    await attach(hub, NO_EXIT, deadline_prefix=PREFIX)
    hub.states.async_set("binary_sensor.front_door", "off")
    return hub


async def test_for_fires_at_its_time_after_a_restart(
    hub_factory: Any, clock: FakeClock, attach: Attach, tmp_path: Any
) -> None:
    first = await _start_holding(hub_factory, tmp_path / "c", attach)
    clock.advance(timedelta(hours=20))
    await first.async_stop()

    second = await hub_factory(tmp_path / "c")
    fired, _ = await attach(second, NO_EXIT, deadline_prefix=PREFIX)
    # The door sensor reports again after the restart: the same value continues the hold.
    second.states.async_set("binary_sensor.front_door", "off")
    clock.advance(timedelta(hours=3, minutes=59))
    assert len(fired) == 0
    clock.advance(timedelta(minutes=1))

    assert len(fired) == 1
    trigger = fired.triggers[0]
    assert trigger["late"] is False
    assert trigger["for"] == timedelta(hours=24)
    assert trigger["to_state"].state == "off"
    assert trigger["from_state"].state == "on"


async def test_for_that_fell_due_while_down_fires_at_once_late(
    hub_factory: Any, clock: FakeClock, attach: Attach, tmp_path: Any
) -> None:
    first = await _start_holding(hub_factory, tmp_path / "c", attach)
    clock.advance(timedelta(hours=20))
    await first.async_stop()
    clock.advance(timedelta(hours=10))  # the server was off for ten hours

    second = await hub_factory(tmp_path / "c")
    fired, _ = await attach(second, NO_EXIT, deadline_prefix=PREFIX)
    await second.async_block_till_done()

    assert len(fired) == 1
    assert fired.triggers[0]["late"] is True
    assert fired.triggers[0]["entity_id"] == "binary_sensor.front_door"


@pytest.mark.parametrize("when", ["before attaching", "after attaching"])
async def test_a_change_away_cancels_a_restored_for(
    hub_factory: Any, clock: FakeClock, attach: Attach, tmp_path: Any, when: str
) -> None:
    first = await _start_holding(hub_factory, tmp_path / "c", attach)
    clock.advance(timedelta(hours=20))
    await first.async_stop()

    second = await hub_factory(tmp_path / "c")
    if when == "before attaching":
        second.states.async_set("binary_sensor.front_door", "on")
    fired, _ = await attach(second, NO_EXIT, deadline_prefix=PREFIX)
    if when == "after attaching":
        second.states.async_set("binary_sensor.front_door", "on")
    clock.advance(timedelta(hours=10))
    await second.async_block_till_done()
    assert len(fired) == 0
    await second.async_stop()

    # Forgotten for good: a third run has nothing to take over.
    third = await hub_factory(tmp_path / "c")
    fired, _ = await attach(third, NO_EXIT, deadline_prefix=PREFIX)
    await third.async_block_till_done()
    assert len(fired) == 0


async def test_a_changed_trigger_does_not_take_over_the_old_for(
    hub_factory: Any, clock: FakeClock, attach: Attach, tmp_path: Any
) -> None:
    first = await _start_holding(hub_factory, tmp_path / "c", attach)
    clock.advance(timedelta(hours=20))
    await first.async_stop()
    clock.advance(timedelta(hours=10))

    second = await hub_factory(tmp_path / "c")
    fired, _ = await attach(second, {**NO_EXIT, "for": {"hours": 48}}, deadline_prefix=PREFIX)
    await second.async_block_till_done()
    assert len(fired) == 0
