"""Behaviour of the people registry: households, persons, their rooms, and their privacy."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from linli.bus import Event
from linli.callback import callback
from linli.exceptions import RegistryError
from linli.hub import Hub
from linli.registry.people import (
    EVENT_HOUSEHOLD_REGISTRY_UPDATED,
    EVENT_PERSON_REGISTRY_UPDATED,
    REDACTED,
    PeopleRegistry,
)

HubFactory = Callable[..., Awaitable[Hub]]

TREE: list[dict[str, Any]] = [
    {
        "id": "b3",
        "kind": "building",
        "name": "3号楼",
        "children": [
            {"id": "b3-u1", "kind": "unit", "name": "1单元", "floors": {"to": 3, "rooms": ["01"]}},
            {"id": "b3-u2", "kind": "unit", "name": "2单元", "floors": {"to": 3, "rooms": ["01"]}},
        ],
    },
    {
        "id": "b5",
        "kind": "building",
        "name": "5号楼",
        "floors": {"to": 2, "rooms": ["01", "02"]},
    },
]

RESIDENT = "张三丰"  # a made-up name, checked never to leak into logs or events


def _capture(hub: Hub, event_type: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    @callback
    def listener(event: Event[Any]) -> None:
        seen.append(dict(event.data))

    hub.bus.async_listen(event_type, listener)
    return seen


@pytest.fixture
def people(hub: Hub) -> PeopleRegistry:
    hub.registries.areas.async_sync_from_config("幸福里", TREE)
    return hub.registries.people


# --------------------------------------------------------------------------- households


async def test_household_rooms_must_be_existing_rooms(people: PeopleRegistry) -> None:
    household = people.async_create_household("3-2-301", ["b3-u2-301", "b3-u2-301"])
    assert household.room_ids == ("b3-u2-301",)  # duplicates dropped, order kept
    assert len(household.id) == 32

    with pytest.raises(RegistryError, match="room 'b3-u9-101' does not exist"):
        people.async_create_household("x", ["b3-u9-101"])
    with pytest.raises(RegistryError, match="area 'b3-u2-f3' is a floor, not a room"):
        people.async_create_household("x", ["b3-u2-f3"])
    with pytest.raises(RegistryError, match="list of area ids, not a string"):
        people.async_create_household("x", "b3-u2-301")
    with pytest.raises(RegistryError, match="non-empty string"):
        people.async_create_household("  ")
    assert list(people.households) == [household.id]


async def test_households_in_area_looks_below_the_area(people: PeopleRegistry) -> None:
    a = people.async_create_household("3-1-101", ["b3-u1-101"])
    b = people.async_create_household("3-2-301", ["b3-u2-301"])
    c = people.async_create_household("5-201/202", ["b5-201", "b5-202"])
    shop = people.async_create_household("no rooms yet")

    assert people.households_in_area("b3") == [a, b]
    assert people.households_in_area("b3-u2") == [b]
    assert people.households_in_area("b3-u2-f3") == [b]
    assert people.households_in_area("b5-202") == [c]
    assert people.households_in_area("community") == [a, b, c]
    assert shop not in people.households_in_area("community")


async def test_update_household_rooms(hub: Hub, people: PeopleRegistry) -> None:
    household = people.async_create_household("3-1-101", ["b3-u1-101"])
    events = _capture(hub, EVENT_HOUSEHOLD_REGISTRY_UPDATED)

    moved = people.async_update_household(household.id, room_ids=["b5-101"])

    assert moved.room_ids == ("b5-101",)
    assert people.households_in_area("b3") == []
    assert events == [
        {"action": "update", "id": household.id, "changes": {"room_ids": ["b3-u1-101"]}}
    ]
    with pytest.raises(RegistryError, match="unknown household"):
        people.async_update_household("nope", name="x")


async def test_removing_a_household_with_members_needs_force(
    hub: Hub, people: PeopleRegistry
) -> None:
    household = people.async_create_household("3-1-101", ["b3-u1-101"])
    owner = people.async_create_person(RESIDENT, household_id=household.id, relation="owner")
    child = people.async_create_person("小明", household_id=household.id, birth_year=2018)

    with pytest.raises(RegistryError, match="has 2 members"):
        people.async_remove_household(household.id)
    assert people.async_get_household(household.id) == household

    people.async_remove_household(household.id, force=True)

    assert people.async_get_household(household.id) is None
    assert people.async_get_person(owner.id).household_id is None  # type: ignore[union-attr]
    assert people.async_get_person(child.id).household_id is None  # type: ignore[union-attr]


async def test_removing_an_empty_household(people: PeopleRegistry) -> None:
    household = people.async_create_household("3-1-201", ["b3-u1-201"])
    people.async_remove_household(household.id)
    assert people.async_get_household(household.id) is None
    with pytest.raises(RegistryError, match="unknown household"):
        people.async_remove_household(household.id)


async def test_a_home_cannot_be_deleted_from_the_area_tree(
    hub: Hub, people: PeopleRegistry
) -> None:
    areas = hub.registries.areas
    household = people.async_create_household("5-101", ["b5-101"])

    with pytest.raises(RegistryError, match="'b5-101' is used by 1 household:"):
        areas.async_delete("b5-101")
    # Nor does the configuration remove it: it is kept (with a warning) while lived in.
    areas.async_sync_from_config("幸福里", [TREE[0]])
    assert areas.async_get("b5-101") is not None
    assert areas.async_get("b5-102") is None  # nobody lives there: removed

    people.async_update_household(household.id, room_ids=[])
    areas.async_delete("b5-101")
    assert areas.async_get("b5-101") is None


# --------------------------------------------------------------------------- persons


async def test_person_fields_and_members(people: PeopleRegistry) -> None:
    household = people.async_create_household("3-1-101", ["b3-u1-101"])
    elder = people.async_create_person(
        RESIDENT,
        household_id=household.id,
        relation="owner",
        birth_year=1940,
        tags=["lives_alone", "lives_alone"],
    )
    staff = people.async_create_person("保安李", relation="staff", user_id="u-42")

    assert elder.tags == frozenset({"lives_alone"})
    assert elder.age_in(2026) == 86
    assert staff.age_in(2026) is None
    assert people.members(household.id) == [elder]
    assert people.async_get_person_by_user("u-42") == staff
    with pytest.raises(RegistryError, match="unknown household"):
        people.members("nope")


async def test_person_validation(people: PeopleRegistry) -> None:
    with pytest.raises(RegistryError, match="household 'nope' does not exist"):
        people.async_create_person(RESIDENT, household_id="nope")
    with pytest.raises(RegistryError, match="relation must be a lower-case word"):
        people.async_create_person(RESIDENT, relation="Owner!")
    with pytest.raises(RegistryError, match="birth_year must be a year between 1850 and 2026"):
        people.async_create_person(RESIDENT, birth_year=2030)
    with pytest.raises(RegistryError, match="tags must be lower-case words"):
        people.async_create_person(RESIDENT, tags=["Lives Alone"])
    people.async_create_person(RESIDENT, user_id="u-1")
    with pytest.raises(RegistryError, match="login 'u-1' is already linked"):
        people.async_create_person("另一个人", user_id="u-1")
    assert len(people.persons) == 1


async def test_update_and_remove_person(hub: Hub, people: PeopleRegistry) -> None:
    household = people.async_create_household("3-1-101", ["b3-u1-101"])
    person = people.async_create_person(RESIDENT, relation="tenant")

    moved = people.async_update_person(
        person.id, household_id=household.id, tags=["needs_visit"], birth_year=1950
    )
    assert moved.household_id == household.id
    assert people.members(household.id) == [moved]

    people.async_remove_person(person.id)
    assert people.async_get_person(person.id) is None
    assert people.members(household.id) == []
    with pytest.raises(RegistryError, match="unknown person"):
        people.async_remove_person(person.id)


async def test_personal_data_stays_out_of_events_and_logs(
    hub: Hub, people: PeopleRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    person_events = _capture(hub, EVENT_PERSON_REGISTRY_UPDATED)
    household_events = _capture(hub, EVENT_HOUSEHOLD_REGISTRY_UPDATED)
    with caplog.at_level(logging.DEBUG):
        household = people.async_create_household("3-1-101 张家", ["b3-u1-101"])
        person = people.async_create_person(RESIDENT, household_id=household.id, birth_year=1940)
        people.async_update_person(
            person.id, name="张三", birth_year=1941, tags=["lives_alone"], relation="owner"
        )
        people.async_update_household(household.id, name="3-1-101")
        with pytest.raises(RegistryError) as err:
            people.async_create_person(RESIDENT, birth_year=3000)
        people.async_remove_person(person.id)

    assert RESIDENT not in str(err.value)
    update = person_events[1]
    assert update["action"] == "update"
    assert update["changes"] == {
        "name": REDACTED,
        "birth_year": REDACTED,
        "tags": REDACTED,
        "relation": "member",
    }
    assert household_events[1]["changes"] == {"name": REDACTED}
    everything = repr(person_events) + repr(household_events) + caplog.text
    for secret in (RESIDENT, "张三", "张家", "1940"):
        assert secret not in everything
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]


# --------------------------------------------------------------------------- persistence


async def test_people_survive_a_restart(hub_factory: HubFactory, tmp_path: Path) -> None:
    config = tmp_path / "config"
    hub = await hub_factory(config)
    hub.registries.areas.async_sync_from_config("幸福里", TREE)
    people = hub.registries.people
    household = people.async_create_household("5-201/202", ["b5-201", "b5-202"])
    people.async_create_person(
        RESIDENT,
        household_id=household.id,
        relation="owner",
        birth_year=1948,
        tags={"lives_alone", "hearing_aid"},
        user_id="u-7",
    )
    people.async_create_person("保安李", relation="staff")
    households_before = dict(people.households)
    persons_before = dict(people.persons)
    await hub.async_stop()

    stored = (config / ".linli" / "linli.people").read_bytes()
    assert b'"version": 1' in stored

    again = await hub_factory(config)
    reloaded = again.registries.people
    assert dict(reloaded.households) == households_before
    assert dict(reloaded.persons) == persons_before
    assert [p.name for p in reloaded.members(household.id)] == [RESIDENT]
    assert reloaded.households_in_area("b5") == [households_before[household.id]]
    # The reloaded registry still guards the rooms it references.
    with pytest.raises(RegistryError, match="used by 1 household:"):
        again.registries.areas.async_delete("b5-201")
