"""State tracking helpers: shared listener, per-entity dispatch, matching, removal, errors."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from linli.bus import Event, current_owner
from linli.callback import callback
from linli.const import EVENT_STATE_CHANGED, MATCH_ALL
from linli.helpers import event as event_helpers
from linli.helpers.event import (
    async_track_state_added_domain,
    async_track_state_change,
    async_track_state_change_event,
)
from linli.hub import Hub
from linli.state import State


def state_listeners(hub: Hub) -> int:
    """How many bus listeners ``state_changed`` has."""
    return hub.bus.async_listeners().get(EVENT_STATE_CHANGED, 0)


class Recorder:
    """A ``@callback`` action that records the entity id of every event it gets."""

    def __init__(self) -> None:
        self.entity_ids: list[str] = []
        self.events: list[Event[Any]] = []
        callback(self)

    def __call__(self, event: Event[Any]) -> None:
        self.events.append(event)
        self.entity_ids.append(event.data["entity_id"])


# ------------------------------------------------------------------ async_track_state_change_event


async def test_tracker_fires_only_for_its_entities(hub: Hub) -> None:
    kitchen, hall = Recorder(), Recorder()
    async_track_state_change_event(hub, "light.kitchen", kitchen)
    async_track_state_change_event(hub, ["light.hall", "light.porch"], hall)

    hub.states.async_set("light.kitchen", "on")
    hub.states.async_set("light.hall", "on")
    hub.states.async_set("light.porch", "on")
    hub.states.async_set("light.attic", "on")
    hub.states.async_set("light.kitchen", "off")

    assert kitchen.entity_ids == ["light.kitchen", "light.kitchen"]
    assert hall.entity_ids == ["light.hall", "light.porch"]
    first, second = kitchen.events
    assert first.data["old_state"] is None
    assert first.data["new_state"].state == "on"
    assert second.data["old_state"].state == "on"
    assert second.data["new_state"].state == "off"


async def test_entity_ids_are_lower_cased_and_deduplicated(hub: Hub) -> None:
    seen = Recorder()
    async_track_state_change_event(hub, ["Light.Kitchen", "light.kitchen"], seen)
    hub.states.async_set("light.kitchen", "on")
    assert seen.entity_ids == ["light.kitchen"]


async def test_all_trackers_share_one_bus_listener(hub: Hub) -> None:
    baseline = state_listeners(hub)
    removers = [
        async_track_state_change_event(hub, f"light.room{idx}", Recorder()) for idx in range(5)
    ]
    removers.append(async_track_state_change(hub, "light.room0", callback(lambda *args: None)))
    assert state_listeners(hub) == baseline + 1
    for remove in removers:
        remove()
    assert state_listeners(hub) == baseline


async def test_event_filter_rejects_untracked_entities(hub: Hub) -> None:
    async_track_state_change_event(hub, "light.kitchen", Recorder())
    tracker = hub.data[event_helpers._ENTITY_TRACKER]
    untracked: Event[Any] = Event(EVENT_STATE_CHANGED, {"entity_id": "light.attic"})
    tracked: Event[Any] = Event(EVENT_STATE_CHANGED, {"entity_id": "light.kitchen"})
    assert tracker._filter(untracked) is False
    assert tracker._filter(tracked) is True


async def test_untracked_events_never_reach_dispatch(hub: Hub, caplog: Any) -> None:
    # A tracked entity's action reads old_state/new_state: an untracked event without them
    # would raise in dispatch if it got that far.
    async_track_state_change(hub, "light.kitchen", callback(lambda *args: None))
    hub.bus.async_fire(EVENT_STATE_CHANGED, {"entity_id": "light.attic"})
    assert "Error" not in caplog.text


async def test_remove_one_tracker_keeps_the_others(hub: Hub) -> None:
    first, second = Recorder(), Recorder()
    remove_first = async_track_state_change_event(hub, "light.kitchen", first)
    async_track_state_change_event(hub, "light.kitchen", second)

    hub.states.async_set("light.kitchen", "on")
    remove_first()
    remove_first()  # removing twice is harmless
    hub.states.async_set("light.kitchen", "off")

    assert first.entity_ids == ["light.kitchen"]
    assert second.entity_ids == ["light.kitchen", "light.kitchen"]


async def test_removing_last_tracker_removes_bus_listener_and_tracking_restarts(hub: Hub) -> None:
    baseline = state_listeners(hub)
    seen = Recorder()
    remove = async_track_state_change_event(hub, ["light.kitchen", "light.hall"], seen)
    assert state_listeners(hub) == baseline + 1

    remove()
    assert state_listeners(hub) == baseline
    hub.states.async_set("light.kitchen", "on")
    assert seen.entity_ids == []

    again = Recorder()
    remove_again = async_track_state_change_event(hub, "light.kitchen", again)
    assert state_listeners(hub) == baseline + 1
    hub.states.async_set("light.kitchen", "off")
    assert again.entity_ids == ["light.kitchen"]
    remove_again()
    assert state_listeners(hub) == baseline


async def test_no_entity_ids_tracks_nothing(hub: Hub) -> None:
    baseline = state_listeners(hub)
    remove = async_track_state_change_event(hub, [], Recorder())
    assert state_listeners(hub) == baseline
    remove()


async def test_action_may_remove_itself_while_dispatched(hub: Hub) -> None:
    calls: list[str] = []
    removers: list[Any] = []

    @callback
    def once(event: Event[Any]) -> None:
        calls.append("once")
        removers[0]()

    @callback
    def always(event: Event[Any]) -> None:
        calls.append("always")

    removers.append(async_track_state_change_event(hub, "light.kitchen", once))
    async_track_state_change_event(hub, "light.kitchen", always)
    hub.states.async_set("light.kitchen", "on")
    hub.states.async_set("light.kitchen", "off")
    assert calls == ["once", "always", "always"]


async def test_error_in_one_action_is_logged_and_others_run(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Recorder()

    @callback
    def broken(event: Event[Any]) -> None:
        raise RuntimeError("boom")

    token = current_owner.set("demo_integration")
    try:
        async_track_state_change_event(hub, "light.kitchen", broken)
    finally:
        current_owner.reset(token)
    async_track_state_change_event(hub, "light.kitchen", seen)

    with caplog.at_level(logging.ERROR):
        hub.states.async_set("light.kitchen", "on")

    assert seen.entity_ids == ["light.kitchen"]
    record = next(r for r in caplog.records if r.exc_info)
    assert "demo_integration" in record.getMessage()
    assert "broken" in record.getMessage()
    assert "light.kitchen" in record.getMessage()


async def test_coroutine_action_runs_as_tracked_task(hub: Hub) -> None:
    seen: list[str] = []

    async def action(event: Event[Any]) -> None:
        seen.append(event.data["new_state"].state)

    async_track_state_change_event(hub, "light.kitchen", action)
    hub.states.async_set("light.kitchen", "on")
    hub.states.async_set("light.kitchen", "off")
    assert seen == []  # not run inline
    await hub.async_block_till_done()
    assert seen == ["on", "off"]


async def test_coroutine_action_error_is_logged(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    seen = Recorder()

    async def failing(event: Event[Any]) -> None:
        raise ValueError("bad")

    async_track_state_change_event(hub, "light.kitchen", failing)
    async_track_state_change_event(hub, "light.kitchen", seen)
    with caplog.at_level(logging.ERROR):
        hub.states.async_set("light.kitchen", "on")
        await hub.async_block_till_done()
    assert seen.entity_ids == ["light.kitchen"]
    assert any("failing" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_plain_function_action_is_refused(hub: Hub) -> None:
    def blocking(event: Event[Any]) -> None:
        """Not a callback, not a coroutine."""

    with pytest.raises(TypeError, match="@callback"):
        async_track_state_change_event(hub, "light.kitchen", blocking)
    with pytest.raises(TypeError, match="@callback"):
        async_track_state_change(hub, "light.kitchen", blocking)  # type: ignore[arg-type]


# ------------------------------------------------------------------ async_track_state_change


class ChangeRecorder:
    """A ``@callback`` action for async_track_state_change recording (id, old, new)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, str | None]] = []
        callback(self)

    def __call__(self, entity_id: str, old: State | None, new: State | None) -> None:
        self.calls.append((entity_id, old.state if old else None, new.state if new else None))


async def test_track_state_change_from_to(hub: Hub) -> None:
    seen = ChangeRecorder()
    async_track_state_change(hub, "light.kitchen", seen, from_state="off", to_state="on")

    hub.states.async_set("light.kitchen", "on")  # new entity: old is None, not "off"
    hub.states.async_set("light.kitchen", "off")
    hub.states.async_set("light.kitchen", "on")  # matches
    hub.states.async_set("light.kitchen", "on", {"brightness": 10})  # on → on
    hub.states.async_set("light.hall", "off")
    hub.states.async_set("light.hall", "on")  # other entity

    assert seen.calls == [("light.kitchen", "off", "on")]


async def test_track_state_change_from_only_and_to_only(hub: Hub) -> None:
    from_off, to_on = ChangeRecorder(), ChangeRecorder()
    async_track_state_change(hub, "light.kitchen", from_off, from_state="off")
    async_track_state_change(hub, "light.kitchen", to_on, to_state="on")

    hub.states.async_set("light.kitchen", "off")
    hub.states.async_set("light.kitchen", "dim")
    hub.states.async_set("light.kitchen", "on")

    assert from_off.calls == [("light.kitchen", "off", "dim")]
    assert to_on.calls == [("light.kitchen", "dim", "on")]


async def test_track_state_change_value_lists_and_any(hub: Hub) -> None:
    some, anything, match_all = ChangeRecorder(), ChangeRecorder(), ChangeRecorder()
    async_track_state_change(hub, "lock.door", some, ["locked", "jammed"], ("unlocked",))
    async_track_state_change(hub, "lock.door", anything)
    async_track_state_change(hub, "lock.door", match_all, MATCH_ALL, MATCH_ALL)

    hub.states.async_set("lock.door", "locked")
    hub.states.async_set("lock.door", "unlocked")
    hub.states.async_set("lock.door", "jammed")
    hub.states.async_set("lock.door", "unlocked")

    assert some.calls == [("lock.door", "locked", "unlocked"), ("lock.door", "jammed", "unlocked")]
    expected = [
        ("lock.door", None, "locked"),
        ("lock.door", "locked", "unlocked"),
        ("lock.door", "unlocked", "jammed"),
        ("lock.door", "jammed", "unlocked"),
    ]
    assert anything.calls == expected
    assert match_all.calls == expected


async def test_track_state_change_removal_has_new_state_none(hub: Hub) -> None:
    seen = ChangeRecorder()
    async_track_state_change(hub, "sensor.gate", seen, from_state="open")
    hub.states.async_set("sensor.gate", "open")
    hub.states.async_remove("sensor.gate")
    assert seen.calls == [("sensor.gate", "open", None)]


async def test_track_state_change_match_all_entities(hub: Hub) -> None:
    baseline = state_listeners(hub)
    seen = ChangeRecorder()
    remove = async_track_state_change(hub, MATCH_ALL, seen, to_state="on")
    hub.states.async_set("light.a", "on")
    hub.states.async_set("switch.b", "on")
    hub.states.async_set("switch.b", "off")
    remove()
    hub.states.async_set("light.c", "on")
    assert seen.calls == [("light.a", None, "on"), ("switch.b", None, "on")]
    assert state_listeners(hub) == baseline


async def test_track_state_change_coroutine_action(hub: Hub) -> None:
    calls: list[tuple[str, str | None]] = []

    async def action(entity_id: str, old: State | None, new: State | None) -> None:
        calls.append((entity_id, new.state if new else None))

    remove = async_track_state_change(hub, ["light.kitchen"], action, to_state="on")
    hub.states.async_set("light.kitchen", "on")
    hub.states.async_set("light.kitchen", "off")
    await hub.async_block_till_done()
    assert calls == [("light.kitchen", "on")]
    remove()


async def test_track_state_change_error_isolated(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    seen = ChangeRecorder()

    @callback
    def broken(entity_id: str, old: State | None, new: State | None) -> None:
        raise RuntimeError("boom")

    async_track_state_change(hub, "light.kitchen", broken)
    async_track_state_change(hub, "light.kitchen", seen)
    with caplog.at_level(logging.ERROR):
        hub.states.async_set("light.kitchen", "on")
    assert seen.calls == [("light.kitchen", None, "on")]
    assert any("broken" in r.getMessage() and r.exc_info for r in caplog.records)


# ------------------------------------------------------------------ async_track_state_added_domain


async def test_state_added_domain(hub: Hub) -> None:
    baseline = state_listeners(hub)
    lights = Recorder()
    remove = async_track_state_added_domain(hub, ["light", "switch"], lights)
    assert state_listeners(hub) == baseline + 1

    hub.states.async_set("light.kitchen", "on")  # added
    hub.states.async_set("light.kitchen", "off")  # changed, not added
    hub.states.async_set("sensor.temp", "21")  # other domain
    hub.states.async_set("switch.pump", "off")  # added
    hub.states.async_remove("light.kitchen")  # removed
    hub.states.async_set("light.kitchen", "on")  # added again

    assert lights.entity_ids == ["light.kitchen", "switch.pump", "light.kitchen"]
    remove()
    assert state_listeners(hub) == baseline


async def test_state_added_domain_coroutine_and_errors(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    added: list[str] = []

    async def action(event: Event[Any]) -> None:
        added.append(event.data["entity_id"])

    @callback
    def broken(event: Event[Any]) -> None:
        raise RuntimeError("boom")

    async_track_state_added_domain(hub, "sensor", broken)
    async_track_state_added_domain(hub, "sensor", action)
    with caplog.at_level(logging.ERROR):
        hub.states.async_set("sensor.temp", "21")
        await hub.async_block_till_done()
    assert added == ["sensor.temp"]
    assert any("broken" in r.getMessage() for r in caplog.records)


async def test_domain_and_entity_trackers_are_independent(hub: Hub) -> None:
    baseline = state_listeners(hub)
    remove_domain = async_track_state_added_domain(hub, "light", Recorder())
    remove_entity = async_track_state_change_event(hub, "light.kitchen", Recorder())
    assert state_listeners(hub) == baseline + 2
    remove_domain()
    assert state_listeners(hub) == baseline + 1
    remove_entity()
    assert state_listeners(hub) == baseline
