"""Behaviour of states and the state machine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from linli.bus import Event
from linli.callback import callback
from linli.clock import FakeClock
from linli.const import EVENT_STATE_CHANGED, MAX_STATE_LENGTH
from linli.context import Context
from linli.exceptions import InvalidEntityIdError, InvalidStateError
from linli.hub import Hub
from linli.state import State, split_entity_id, valid_entity_id


def _collect(into: list[Event[Any]]) -> Callable[[Event[Any]], None]:
    @callback
    def listener(event: Event[Any]) -> None:
        into.append(event)

    return listener


@pytest.fixture
def changes(hub: Hub) -> list[Event[Any]]:
    """Every ``state_changed`` event fired on the hub from now on."""
    events: list[Event[Any]] = []
    hub.bus.async_listen(EVENT_STATE_CHANGED, _collect(events))
    return events


# --------------------------------------------------------------------------- entity ids


@pytest.mark.parametrize(
    "entity_id",
    [
        "light.kitchen",
        "sensor.building_3_gate",
        "binary_sensor.door_1",
        "a.b",
        "sensor.3",
        "3d_printer.x",
        "switch.a_b_c",
    ],
)
def test_valid_entity_ids(entity_id: str) -> None:
    assert valid_entity_id(entity_id)
    assert State(entity_id, "on").entity_id == entity_id


@pytest.mark.parametrize(
    "entity_id",
    [
        "",
        "light",
        "light.",
        ".kitchen",
        "Light.kitchen",
        "light.Kitchen",
        "light.kitchen.extra",
        "light..kitchen",
        "_light.kitchen",
        "light_.kitchen",
        "light._kitchen",
        "light.kitchen_",
        "light.kit__chen",
        "li__ght.kitchen",
        "light.kit chen",
        "light.kitchen-1",
        " light.kitchen",
        "light.kitchen ",
        "light.kitchen\n",
        "sensor.floor_３",  # full-width digit
        "sensor.floor_٣",  # Arabic-Indic digit
        "sensor.温度",
    ],
)
def test_invalid_entity_ids(entity_id: str) -> None:
    assert not valid_entity_id(entity_id)
    with pytest.raises(InvalidEntityIdError) as err:
        State(entity_id, "on")
    assert err.value.entity_id == entity_id
    assert isinstance(err.value, ValueError)


async def test_invalid_entity_id_is_not_stored_and_fires_nothing(
    hub: Hub, changes: list[Event[Any]]
) -> None:
    with pytest.raises(InvalidEntityIdError, match=r"Light\.Kitchen"):
        hub.states.async_set("Light.Kitchen", "on")

    assert hub.states.get("Light.Kitchen") is None
    assert len(hub.states) == 0
    assert changes == []


def test_split_entity_id() -> None:
    assert split_entity_id("sensor.gate_3") == ("sensor", "gate_3")
    with pytest.raises(InvalidEntityIdError):
        split_entity_id("sensor")


# --------------------------------------------------------------------------- state length


async def test_state_length_limit(hub: Hub) -> None:
    longest = "x" * MAX_STATE_LENGTH
    assert MAX_STATE_LENGTH == 255

    assert hub.states.async_set("sensor.note", longest) is not None
    with pytest.raises(InvalidStateError, match=r"sensor\.note"):
        hub.states.async_set("sensor.note", longest + "x")

    state = hub.states.get("sensor.note")
    assert state is not None
    assert state.state == longest


async def test_state_length_counts_characters_not_bytes(hub: Hub) -> None:
    hub.states.async_set("sensor.notice", "通" * MAX_STATE_LENGTH)

    with pytest.raises(InvalidStateError):
        hub.states.async_set("sensor.notice_2", "通" * (MAX_STATE_LENGTH + 1))
    assert hub.states.get("sensor.notice_2") is None


async def test_too_long_new_state_keeps_old_state_and_fires_nothing(
    hub: Hub, changes: list[Event[Any]]
) -> None:
    hub.states.async_set("sensor.note", "short")
    changes.clear()

    with pytest.raises(InvalidStateError):
        hub.states.async_set("sensor.note", "y" * 256)

    state = hub.states.get("sensor.note")
    assert state is not None
    assert state.state == "short"
    assert changes == []


# --------------------------------------------------------------------------- set and change


async def test_first_set_fires_with_no_old_state(
    hub: Hub, changes: list[Event[Any]], clock: FakeClock
) -> None:
    state = hub.states.async_set("lock.front_door", "locked", {"battery": 80})

    assert state is not None
    assert hub.states.get("lock.front_door") is state
    assert state.last_changed == state.last_updated == clock.utcnow()
    assert len(changes) == 1
    event = changes[0]
    assert event.data == {"entity_id": "lock.front_door", "old_state": None, "new_state": state}
    assert event.time_fired == clock.utcnow()


async def test_unchanged_state_and_attributes_fire_nothing(
    hub: Hub, changes: list[Event[Any]], clock: FakeClock
) -> None:
    first = hub.states.async_set("lock.front_door", "locked", {"battery": 80, "model": "x"})
    clock.advance(30)

    # The same attributes in another order, as another mapping type.
    assert hub.states.async_set("lock.front_door", "locked", {"model": "x", "battery": 80}) is None

    assert len(changes) == 1
    assert hub.states.get("lock.front_door") is first
    assert first is not None
    assert first.last_updated == clock.utcnow() - timedelta(seconds=30)


async def test_no_attributes_and_empty_attributes_are_the_same(
    hub: Hub, changes: list[Event[Any]]
) -> None:
    hub.states.async_set("switch.pump", "off")

    assert hub.states.async_set("switch.pump", "off", {}) is None
    assert hub.states.async_set("switch.pump", "off", None) is None
    assert len(changes) == 1


async def test_attribute_change_moves_last_updated_only(
    hub: Hub, changes: list[Event[Any]], clock: FakeClock
) -> None:
    t0 = clock.utcnow()
    hub.states.async_set("lock.front_door", "locked", {"battery": 80})
    clock.advance(60)

    state = hub.states.async_set("lock.front_door", "locked", {"battery": 79})

    assert state is not None
    assert state.attributes == {"battery": 79}
    assert state.last_changed == t0
    assert state.last_updated == t0 + timedelta(seconds=60)
    assert len(changes) == 2
    assert changes[1].data["old_state"].attributes == {"battery": 80}
    assert changes[1].data["new_state"] is state


async def test_state_change_moves_both_timestamps(hub: Hub, clock: FakeClock) -> None:
    hub.states.async_set("lock.front_door", "locked", {"battery": 80})
    clock.advance(60)
    hub.states.async_set("lock.front_door", "locked", {"battery": 79})
    clock.advance(60)

    state = hub.states.async_set("lock.front_door", "unlocked", {"battery": 79})

    assert state is not None
    assert state.last_changed == state.last_updated == clock.utcnow()


async def test_state_changed_carries_old_new_and_context(
    hub: Hub, changes: list[Event[Any]]
) -> None:
    old = hub.states.async_set("cover.garage", "closed")
    context = Context(user_id="resident-12")

    new = hub.states.async_set("cover.garage", "open", context=context)

    assert new is not None
    assert new.context is context
    event = changes[-1]
    assert event.data["entity_id"] == "cover.garage"
    assert event.data["old_state"] is old
    assert event.data["new_state"] is new
    assert event.context is context


async def test_state_without_context_gets_a_fresh_one_shared_with_event(
    hub: Hub, changes: list[Event[Any]]
) -> None:
    first = hub.states.async_set("cover.garage", "closed")
    second = hub.states.async_set("cover.garage", "open")

    assert first is not None
    assert second is not None
    assert first.context.id != second.context.id
    assert changes[1].context is second.context


async def test_force_update_fires_and_keeps_last_changed(
    hub: Hub, changes: list[Event[Any]], clock: FakeClock
) -> None:
    t0 = clock.utcnow()
    first = hub.states.async_set("sensor.gate_count", "5")
    clock.advance(10)

    forced = hub.states.async_set("sensor.gate_count", "5", force_update=True)

    assert forced is not None
    assert forced is not first
    assert forced.last_changed == t0
    assert forced.last_updated == t0 + timedelta(seconds=10)
    assert len(changes) == 2
    assert changes[1].data["old_state"] is first
    assert changes[1].data["new_state"] is forced


# --------------------------------------------------------------------------- remove


async def test_async_remove(hub: Hub, changes: list[Event[Any]], clock: FakeClock) -> None:
    old = hub.states.async_set("light.hall", "on")
    clock.advance(5)
    context = Context(user_id="admin")

    assert hub.states.async_remove("light.hall", context=context) is True

    assert hub.states.get("light.hall") is None
    assert "light.hall" not in hub.states.async_entity_ids()
    event = changes[-1]
    assert event.data == {"entity_id": "light.hall", "old_state": old, "new_state": None}
    assert event.context is context
    assert event.time_fired == clock.utcnow()


async def test_removing_unknown_entity_returns_false_and_fires_nothing(
    hub: Hub, changes: list[Event[Any]]
) -> None:
    assert hub.states.async_remove("light.nowhere") is False
    assert changes == []


async def test_set_after_remove_starts_fresh(hub: Hub, clock: FakeClock) -> None:
    hub.states.async_set("light.hall", "on")
    hub.states.async_remove("light.hall")
    clock.advance(60)

    state = hub.states.async_set("light.hall", "on")

    assert state is not None
    assert state.last_changed == clock.utcnow()


# --------------------------------------------------------------------------- queries


async def test_async_all_and_entity_ids_by_domain(hub: Hub) -> None:
    hub.states.async_set("light.hall", "on")
    hub.states.async_set("light.stairs", "off")
    hub.states.async_set("lock.front_door", "locked")
    hub.states.async_set("sensor.temp", "21")

    assert {s.entity_id for s in hub.states.async_all("light")} == {"light.hall", "light.stairs"}
    assert {s.entity_id for s in hub.states.async_all(("light", "lock"))} == {
        "light.hall",
        "light.stairs",
        "lock.front_door",
    }
    assert hub.states.async_all("camera") == []
    assert len(hub.states.async_all()) == 4
    assert sorted(hub.states.async_entity_ids("light")) == ["light.hall", "light.stairs"]
    assert len(hub.states.async_entity_ids()) == 4
    assert len(hub.states) == 4
    # "light" must not match a domain that merely starts with it.
    hub.states.async_set("lightning.detector", "off")
    assert len(hub.states.async_all("light")) == 2


async def test_is_state_and_iteration(hub: Hub) -> None:
    hub.states.async_set("lock.front_door", "locked")

    assert hub.states.is_state("lock.front_door", "locked")
    assert not hub.states.is_state("lock.front_door", "unlocked")
    assert not hub.states.is_state("lock.back_door", "locked")
    # Iterating is safe while states change.
    for state in hub.states:
        hub.states.async_set("lock.back_door", "locked")
        assert state.entity_id == "lock.front_door"


# --------------------------------------------------------------------------- the State object


async def test_attributes_are_immutable_and_copied(hub: Hub) -> None:
    attrs: dict[str, Any] = {"battery": 80}
    state = hub.states.async_set("lock.front_door", "locked", attrs)
    assert state is not None

    with pytest.raises(TypeError):
        state.attributes["battery"] = 1  # type: ignore[index]
    attrs["battery"] = 10
    attrs["new"] = True
    state.as_dict()["attributes"]["battery"] = 5

    assert dict(state.attributes) == {"battery": 80}
    current = hub.states.get("lock.front_door")
    assert current is not None
    assert current.attributes == {"battery": 80}


async def test_state_as_dict_shape(hub: Hub, clock: FakeClock) -> None:
    context = Context(user_id="staff-1")
    hub.states.async_set("lock.front_door", "locked", {"battery": 80}, context=context)
    clock.advance(1.5)
    state = hub.states.async_set("lock.front_door", "locked", {"battery": 79}, context=context)
    assert state is not None

    assert state.as_dict() == {
        "entity_id": "lock.front_door",
        "state": "locked",
        "attributes": {"battery": 79},
        "last_changed": "2026-03-01T08:00:00+00:00",
        "last_updated": "2026-03-01T08:00:01.500000+00:00",
        "context": {"id": context.id, "parent_id": None, "user_id": "staff-1"},
    }


async def test_state_name_and_domain() -> None:
    plain = State("sensor.north_gate", "ok")
    named = State("sensor.north_gate", "ok", {"friendly_name": "北门"})

    assert plain.domain == "sensor"
    assert plain.object_id == "north_gate"
    assert plain.name == "north gate"
    assert named.name == "北门"


def test_state_equality_ignores_time_and_context() -> None:
    a = State("light.hall", "on", {"b": 1}, last_updated=1.0, context=Context())
    b = State("light.hall", "on", {"b": 1}, last_updated=2.0, context=Context())

    assert a == b
    assert hash(a) == hash(b)
    assert a != State("light.hall", "off", {"b": 1})
    assert a != State("light.hall", "on", {"b": 2})
