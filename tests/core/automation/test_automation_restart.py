"""Automations across a restart: ``for:`` and delays go on, or fire late, or are dropped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from linli.clock import FakeClock
from linli.helpers.deadlines import get_deadlines
from linli.helpers.trace import get_trace_store

StartHub = Callable[..., Awaitable[Any]]
"""The ``start_hub`` fixture (conftest.py): a hub set up from an automations.yaml."""

ELDER = """\
- id: elder_no_exit
  alias: 1201 老人 24 小时未出门
  triggers:
    - trigger: state
      entity_id: binary_sensor.room_1201_door
      to: "off"
      for: {hours: 24}
  actions:
    - action: test.record
"""
DOOR = "binary_sensor.room_1201_door"


async def _door_closed_for_twenty_hours(start_hub: StartHub, clock: FakeClock) -> Any:
    first = await start_hub(ELDER)
    first.hub.states.async_set(DOOR, "on")
    first.hub.states.async_set(DOOR, "off")  # hour 0: the door closes
    clock.advance(timedelta(hours=20))
    await first.hub.async_block_till_done()
    assert first.calls == []
    await first.hub.async_stop()
    return first


async def test_a_24_hour_rule_fires_at_hour_24_after_a_restart_at_hour_20(
    start_hub: StartHub, clock: FakeClock
) -> None:
    first = await _door_closed_for_twenty_hours(start_hub, clock)
    clock.advance(timedelta(minutes=5))  # the restart takes a few minutes

    second = await start_hub(config_dir=first.config_dir)
    second.hub.states.async_set(DOOR, "off")  # the sensor reports again: still closed
    clock.advance(timedelta(hours=3, minutes=54))
    await second.hub.async_block_till_done()
    assert second.calls == []
    clock.advance(timedelta(minutes=1))
    await second.hub.async_block_till_done()

    assert len(second.calls) == 1
    (trace,) = [t.as_dict() for t in get_trace_store(second.hub).get("elder_no_exit")]
    assert trace["script_execution"] == "finished"
    assert trace["trigger"]["late"] is False
    assert "late" not in trace
    assert trace["trigger"]["for"] == timedelta(hours=24)


async def test_a_deadline_missed_while_down_fires_at_start_marked_late(
    start_hub: StartHub, clock: FakeClock
) -> None:
    first = await _door_closed_for_twenty_hours(start_hub, clock)
    clock.advance(timedelta(hours=6))  # down past hour 24

    second = await start_hub(config_dir=first.config_dir)
    await second.hub.async_block_till_done()

    assert len(second.calls) == 1
    (trace,) = [t.as_dict() for t in get_trace_store(second.hub).get("elder_no_exit")]
    assert trace["late"] is True
    assert trace["trigger"]["late"] is True
    assert trace["trigger"]["entity_id"] == DOOR
    assert trace["script_execution"] == "finished"


async def test_the_door_opening_after_the_restart_cancels_the_rule(
    start_hub: StartHub, clock: FakeClock
) -> None:
    first = await _door_closed_for_twenty_hours(start_hub, clock)
    second = await start_hub(config_dir=first.config_dir)
    second.hub.states.async_set(DOOR, "on")
    clock.advance(timedelta(hours=10))
    await second.hub.async_block_till_done()
    assert second.calls == []
    assert get_deadlines(second.hub).pending() == []


async def test_a_removed_or_disabled_automation_drops_its_deadlines(
    start_hub: StartHub, clock: FakeClock
) -> None:
    first = await _door_closed_for_twenty_hours(start_hub, clock)
    first.write_automations(
        ELDER.replace("- id: elder_no_exit", "- id: elder_no_exit\n  initial_state: false")
    )
    second = await start_hub(config_dir=first.config_dir)
    clock.advance(timedelta(hours=10))
    await second.hub.async_block_till_done()
    assert second.calls == []
    await second.hub.async_stop()

    second.write_automations(ELDER)
    third = await start_hub(config_dir=first.config_dir)
    clock.advance(timedelta(hours=10))
    await third.hub.async_block_till_done()
    assert third.calls == []  # dropped for good while it was off


async def test_a_delay_goes_on_after_a_restart(start_hub: StartHub, clock: FakeClock) -> None:
    automations = """\
    - id: remind
      triggers: {trigger: event, event_type: visitor_arrived}
      actions:
        - delay: "01:00:00"
        - action: test.record
    """
    first = await start_hub(automations)
    first.hub.bus.async_fire("visitor_arrived")
    await first.hub.async_block_till_done()
    clock.advance(timedelta(minutes=30))
    await first.hub.async_stop()

    second = await start_hub(config_dir=first.config_dir)
    assert second.hub.states.get("automation.remind").attributes["current"] == 1
    clock.advance(timedelta(minutes=29))
    await second.hub.async_block_till_done()
    assert second.calls == []
    clock.advance(timedelta(minutes=1))
    await second.hub.async_block_till_done()
    assert len(second.calls) == 1


async def test_current_counts_down_when_a_resumed_run_ends(
    start_hub: StartHub, clock: FakeClock
) -> None:
    first = await start_hub(
        """        - id: remind
          triggers: {trigger: event, event_type: visitor_arrived}
          actions: {delay: 60}
        """
    )
    first.hub.bus.async_fire("visitor_arrived")
    await first.hub.async_block_till_done()
    await first.hub.async_stop()
    second = await start_hub(config_dir=first.config_dir)
    clock.advance(60)
    await second.hub.async_block_till_done()
    assert second.hub.states.get("automation.remind").attributes["current"] == 0
