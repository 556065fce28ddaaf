"""Behaviour of the area registry: tree rules, names, the YAML tree, config sync, persistence."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import voluptuous as vol

from linli.bus import Event
from linli.callback import callback
from linli.exceptions import RegistryError
from linli.hub import Hub
from linli.registry.areas import (
    AREA_TREE_SCHEMA,
    EVENT_AREA_REGISTRY_UPDATED,
    AreaKind,
    AreaRegistry,
    expand_area_tree,
)

HubFactory = Callable[..., Awaitable[Hub]]

TREE: list[dict[str, Any]] = [
    {
        "id": "b3",
        "kind": "building",
        "name": {"zh-CN": "3号楼", "en": "Building 3"},
        "children": [
            {
                "id": "b3-u2",
                "kind": "unit",
                "name": {"zh-CN": "2单元", "en": "Unit 2"},
                "floors": {"from": 1, "to": 15, "rooms": ["01", "02"], "skip": [4, 13, 14]},
            }
        ],
    },
    {
        "id": "b5",
        "kind": "building",
        "name": "5号楼",
        "children": [{"id": "b5-f1", "kind": "floor", "name": "1层", "floor_number": 1}],
    },
    {"id": "east-gate", "kind": "zone", "name": {"zh-CN": "东门", "en": "East Gate"}},
]


def _capture(hub: Hub) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    @callback
    def listener(event: Event[Any]) -> None:
        seen.append(dict(event.data))

    hub.bus.async_listen(EVENT_AREA_REGISTRY_UPDATED, listener)
    return seen


def _areas(hub: Hub) -> AreaRegistry:
    return hub.registries.areas


# --------------------------------------------------------------------------- tree rules


async def test_new_hub_has_exactly_one_community_root(hub: Hub) -> None:
    areas = _areas(hub)
    roots = areas.async_get_by_kind("community")
    assert [root.id for root in roots] == ["community"]
    assert areas.root_id == "community"
    assert roots[0].parent_id is None

    with pytest.raises(RegistryError, match="already a community root"):
        areas.async_create("community", "另一个小区")


async def test_create_a_full_branch(hub: Hub) -> None:
    areas = _areas(hub)
    events = _capture(hub)
    building = areas.async_create("building", "3号楼", id="b3")
    unit = areas.async_create("unit", "2单元", "b3", id="b3-u2")
    floor = areas.async_create("floor", "12层", "b3-u2", id="b3-u2-f12", floor_number=12)
    room = areas.async_create("room", "1201", "b3-u2-f12", id="b3-u2-1201")
    gate = areas.async_create(AreaKind.ZONE, "东门")

    assert building.parent_id == "community"  # buildings and zones default to the root
    assert gate.parent_id == "community"
    assert unit.parent_id == "b3"
    assert floor.floor_number == 12
    assert room.kind is AreaKind.ROOM
    assert room.source == "user"
    assert [e["action"] for e in events] == ["create"] * 5
    assert events[0] == {"action": "create", "id": "b3", "changes": {}}


@pytest.mark.parametrize(
    ("kind", "parent", "message"),
    [
        ("unit", "floor", "a unit must be inside a building, not a floor"),
        ("room", "building", "a room must be inside a floor, not a building"),
        ("floor", "community", "a floor must be inside a unit or building, not a community"),
        ("building", "unit", "a building must be inside a community, not a unit"),
        ("zone", "room", "a zone must be inside a community, building, unit or floor, not a room"),
    ],
)
async def test_kinds_must_sit_in_allowed_parents(
    hub: Hub, kind: str, parent: str, message: str
) -> None:
    areas = _areas(hub)
    areas.async_create("building", "B", id="building")
    areas.async_create("unit", "U", "building", id="unit")
    areas.async_create("floor", "F", "unit", id="floor", floor_number=1)
    areas.async_create("room", "R", "floor", id="room")

    with pytest.raises(RegistryError, match=message):
        areas.async_create(kind, "x", parent if parent != "community" else "community", id="new")
    assert areas.async_get("new") is None


async def test_floor_may_sit_directly_in_a_building(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_create("building", "商业楼", id="mall")
    floor = areas.async_create("floor", "2层", "mall", floor_number=2)
    assert floor.parent_id == "mall"
    assert floor.id == "mall-f2"


async def test_unknown_parent_and_bad_ids_are_refused_specifically(hub: Hub) -> None:
    areas = _areas(hub)
    with pytest.raises(RegistryError, match="parent 'b9' of 'b9-u1' does not exist"):
        areas.async_create("unit", "1单元", "b9", id="b9-u1")
    with pytest.raises(
        RegistryError, match="a unit must be inside a building, not at the top: give a parent"
    ):
        areas.async_create("unit", "1单元")
    with pytest.raises(RegistryError, match="invalid area id 'B 3'"):
        areas.async_create("building", "3号楼", id="B 3")
    areas.async_create("building", "3号楼", id="b3")
    with pytest.raises(RegistryError, match="area id 'b3' is already taken"):
        areas.async_create("building", "三号楼", id="b3")
    with pytest.raises(RegistryError, match="unknown area kind 'tower'"):
        areas.async_create("tower", "T")
    with pytest.raises(RegistryError, match="floor_number is only for floors"):
        areas.async_create("building", "X", floor_number=3)


async def test_generated_ids_are_readable_and_unique(hub: Hub) -> None:
    areas = _areas(hub)
    first = areas.async_create("building", "3号楼")
    second = areas.async_create("building", "3号楼")
    english = areas.async_create("building", "Building 7")
    by_names = areas.async_create("building", "七号楼", names={"en": "Tower Seven"})
    gate = areas.async_create("zone", "东门")
    other_gate = areas.async_create("zone", "西门")
    unit = areas.async_create("unit", "2单元", first.id)
    basement = areas.async_create("floor", "地下1层", unit.id, floor_number=-1)

    assert first.id == "building-3"
    assert second.id == "building-3-2"
    assert english.id == "building-7"
    assert by_names.id == "tower-seven"
    assert (gate.id, other_gate.id) == ("zone-1", "zone-2")
    assert unit.id == "building-3-u2"
    assert basement.id == "building-3-u2-b1"


# --------------------------------------------------------------------------- names


async def test_display_name_falls_back_tag_language_then_name(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_create("building", "3号楼", id="b3", names={"zh-CN": "3号楼", "en": "Building 3"})
    areas.async_create("floor", "12层", "b3", id="b3-f12", names={"zh": "12层", "en": "Floor 12"})

    assert areas.display_name("b3", "en") == "Building 3"
    assert areas.display_name("b3", "en-GB") == "Building 3"
    assert areas.display_name("b3", "zh-CN") == "3号楼"
    assert areas.display_name("b3", "zh-TW") == "3号楼"
    assert areas.display_name("b3", "fr") == "3号楼"
    assert areas.display_name("b3-f12", "zh-CN") == "12层"  # exact tag absent, "zh" found
    assert areas.display_name("b3-f12") == "12层"  # the community's language by default


async def test_path_name_in_two_languages(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_sync_from_config({"zh-CN": "幸福里", "en": "Xingfu Li"}, TREE)

    assert areas.path_name("b3-u2-1201", "zh-CN") == "幸福里 / 3号楼 / 2单元 / 12层 / 1201"
    assert (
        areas.path_name("b3-u2-1201", "en") == "Xingfu Li / Building 3 / Unit 2 / Floor 12 / 1201"
    )
    assert areas.path_name("community", "en") == "Xingfu Li"


# --------------------------------------------------------------------------- navigation


async def test_children_ancestors_descendants(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_sync_from_config("幸福里", TREE)

    assert [a.id for a in areas.children("community")] == ["b3", "b5", "east-gate"]
    assert [a.id for a in areas.ancestors("b3-u2-1201")] == [
        "community",
        "b3",
        "b3-u2",
        "b3-u2-f12",
    ]
    assert areas.ancestors("community") == []
    below_b5 = [a.id for a in areas.descendants("b5")]
    assert below_b5 == ["b5-f1"]
    below_unit = [a.id for a in areas.descendants("b3-u2")]
    assert below_unit[:3] == ["b3-u2-f1", "b3-u2-101", "b3-u2-102"]
    assert len(below_unit) == 12 * 3  # 12 floors, each with 2 rooms
    assert len(areas.async_get_by_kind("room")) == 24
    with pytest.raises(RegistryError, match="unknown area 'nope'"):
        areas.children("nope")


# --------------------------------------------------------------------------- update and delete


async def test_rename_fires_update_with_old_values(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_create("building", "3号楼", id="b3")
    events = _capture(hub)

    entry = areas.async_update("b3", name="三号楼", names={"en": "Building Three"})
    areas.async_update("b3", name="三号楼")  # no change: no event

    assert entry.name == "三号楼"
    assert areas.async_get("b3") == entry
    assert areas.display_name("b3", "en") == "Building Three"
    assert events == [{"action": "update", "id": "b3", "changes": {"name": "3号楼", "names": {}}}]


async def test_renaming_keeps_the_default_language_translation_in_step(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_create("building", "3号楼", id="b3", names={"zh-CN": "3号楼", "en": "Building 3"})

    areas.async_update("b3", name="三号楼")

    assert areas.display_name("b3", "zh-CN") == "三号楼"
    assert areas.display_name("b3", "en") == "Building 3"


async def test_move_revalidates_kinds(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_sync_from_config("幸福里", TREE)

    moved = areas.async_update("b3-u2-f12", parent_id="b5")  # unit → building: allowed
    assert moved.parent_id == "b5"
    assert "b3-u2-f12" in [a.id for a in areas.children("b5")]
    assert "b3-u2-f12" not in [a.id for a in areas.children("b3-u2")]
    assert [a.id for a in areas.ancestors("b3-u2-1201")] == ["community", "b5", "b3-u2-f12"]

    with pytest.raises(RegistryError, match="a unit must be inside a building, not a floor"):
        areas.async_update("b3-u2", parent_id="b5-f1")
    with pytest.raises(RegistryError, match="parent 'nowhere' of 'b3-u2' does not exist"):
        areas.async_update("b3-u2", parent_id="nowhere")
    with pytest.raises(RegistryError, match="cannot become a zone: its child 'b3-u2'"):
        areas.async_update("b3", kind="zone")
    with pytest.raises(RegistryError, match="cannot change to or from community"):
        areas.async_update("b3", kind="community")
    assert areas.async_get("b3-u2").parent_id == "b3"  # type: ignore[union-attr]


async def test_delete_refuses_areas_with_children_and_the_root(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_sync_from_config("幸福里", TREE)
    events = _capture(hub)

    with pytest.raises(RegistryError, match="'b3-u2' has 12 child areas"):
        areas.async_delete("b3-u2")
    with pytest.raises(RegistryError, match="'b5' has 1 child area:"):
        areas.async_delete("b5")
    with pytest.raises(RegistryError, match="community root cannot be deleted"):
        areas.async_delete("community")
    assert events == []

    areas.async_delete("b3-u2-1201")
    assert areas.async_get("b3-u2-1201") is None
    assert "b3-u2-1201" not in [a.id for a in areas.children("b3-u2-f12")]
    assert events == [{"action": "remove", "id": "b3-u2-1201", "changes": {}}]
    with pytest.raises(RegistryError, match="unknown area"):
        areas.async_delete("b3-u2-1201")


# --------------------------------------------------------------------------- the YAML tree


def test_expand_tree_with_floor_shorthand_and_skipped_floors() -> None:
    nodes = expand_area_tree(TREE, language="zh-CN")
    by_id = {node["id"]: node for node in nodes}

    floors = [n for n in nodes if n["parent_id"] == "b3-u2"]
    assert [f["floor_number"] for f in floors] == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 15]
    for missing in ("b3-u2-f4", "b3-u2-401", "b3-u2-f13", "b3-u2-f14", "b3-u2-1301"):
        assert missing not in by_id
    floor = by_id["b3-u2-f12"]
    assert floor["kind"] is AreaKind.FLOOR
    assert floor["name"] == "12层"
    assert floor["names"]["en"] == "Floor 12"
    room = by_id["b3-u2-1201"]
    assert (room["kind"], room["name"], room["parent_id"]) == (AreaKind.ROOM, "1201", "b3-u2-f12")
    # Parents always come before their children.
    seen: set[str] = {"community"}
    for node in nodes:
        assert node["parent_id"] in seen
        seen.add(node["id"])


def test_expand_tree_generates_stable_ids_and_handles_basements() -> None:
    tree = [
        {
            "kind": "building",
            "name": "8号楼",
            "floors": {"from": -2, "to": 2, "rooms": ["a"]},
            "children": [{"kind": "zone", "name": "自行车棚"}],
        },
        {"kind": "zone", "name": "Car Park"},
    ]
    first = expand_area_tree(tree, language="en")
    again = expand_area_tree(tree, language="en")
    ids = [node["id"] for node in first]

    assert ids == [node["id"] for node in again]
    assert ids == [
        "building-8",
        "building-8-b2",
        "building-8-b1",
        "building-8-f1",
        "building-8-1a",
        "building-8-f2",
        "building-8-2a",
        "building-8-zone-1",
        "car-park",
    ]
    by_id = {node["id"]: node for node in first}
    assert by_id["building-8-b2"]["name"] == "Basement 2"  # language "en" picks the en name
    assert by_id["building-8-b2"]["floor_number"] == -2
    assert by_id["building-8-1a"]["name"] == "1a"
    # An id already taken (by a user area) is avoided.
    reserved = expand_area_tree(tree, language="en", reserved={"car-park"})
    assert reserved[-1]["id"] == "car-park-2"


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ([{"kind": "unit", "name": "1单元"}], "a unit must be inside a building, not a community"),
        (
            [{"kind": "building", "name": "B", "children": [{"kind": "room", "name": "R"}]}],
            "a room must be inside a floor, not a building",
        ),
        (
            [{"kind": "building", "name": "B", "floors": {"to": 3, "rooms": [1]}}],
            "room suffixes must be quoted strings",
        ),
        ([{"kind": "zone", "name": "Z", "floors": {"to": 3}}], "'floors' is only allowed"),
        (
            [{"kind": "building", "name": "B", "floors": {"from": 9, "to": 3}}],
            "'from' \\(9\\) is above 'to' \\(3\\)",
        ),
        (
            [
                {"id": "a", "kind": "building", "name": "A"},
                {"id": "a", "kind": "zone", "name": "Z"},
            ],
            "duplicate area id 'a'",
        ),
        (
            [
                {"id": "b1", "kind": "building", "name": "B", "floors": {"to": 2}},
                {"id": "b1-f2", "kind": "zone", "name": "Z"},
            ],
            "duplicate area id 'b1-f2'",
        ),
        ([{"kind": "tower", "name": "T"}], "value must be one of"),
        ([{"kind": "building"}], "required key not provided"),
        ([{"id": "Bad Id", "kind": "building", "name": "B"}], "invalid area id"),
    ],
)
def test_tree_schema_rejects_bad_trees(tree: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(vol.Invalid, match=message):
        AREA_TREE_SCHEMA(tree)


def test_tree_schema_error_points_at_the_node() -> None:
    tree = [{"kind": "building", "name": "B", "children": [{"kind": "room", "name": "R"}]}]
    with pytest.raises(vol.MultipleInvalid) as err:
        AREA_TREE_SCHEMA(tree)
    assert err.value.path == [0, "children", 0, "kind"]


# --------------------------------------------------------------------------- sync from config


async def test_sync_creates_config_areas(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_sync_from_config({"zh-CN": "幸福里", "en": "Xingfu Li"}, TREE)

    root = areas.async_get("community")
    assert root is not None
    assert root.name == "幸福里"
    assert root.names == {"zh-CN": "幸福里", "en": "Xingfu Li"}
    b3 = areas.async_get("b3")
    assert b3 is not None
    assert (b3.source, b3.name, b3.names["en"]) == ("config", "3号楼", "Building 3")
    assert areas.async_get("b3-u2-1502") is not None
    assert all(area.source == "config" for area in areas)


async def test_sync_again_is_a_no_op(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_sync_from_config("幸福里", TREE)
    events = _capture(hub)
    areas.async_sync_from_config("幸福里", TREE)
    assert events == []


async def test_sync_updates_and_removes_config_nodes(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_sync_from_config("幸福里", TREE)
    events = _capture(hub)

    changed = [
        {**TREE[0], "name": {"zh-CN": "三号楼", "en": "Building 3"}},
        {"id": "north-gate", "kind": "zone", "name": "北门"},
    ]
    areas.async_sync_from_config("幸福里", changed)

    assert areas.async_get("b3").name == "三号楼"  # type: ignore[union-attr]
    assert areas.async_get("north-gate") is not None
    assert areas.async_get("b5") is None
    assert areas.async_get("b5-f1") is None
    assert areas.async_get("east-gate") is None
    removed = [e["id"] for e in events if e["action"] == "remove"]
    assert removed.index("b5-f1") < removed.index("b5")  # children go first
    assert {
        "action": "update",
        "id": "b3",
        "changes": {"name": "3号楼", "names": TREE[0]["name"]},
    } in events


async def test_sync_moves_a_config_node_to_its_new_parent(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_sync_from_config("幸福里", TREE)
    tree = [
        TREE[0],
        {
            "id": "b5",
            "kind": "building",
            "name": "5号楼",
            "children": [{"id": "east-gate", "kind": "zone", "name": "东门"}],
        },
    ]
    areas.async_sync_from_config("幸福里", tree)

    assert areas.async_get("east-gate").parent_id == "b5"  # type: ignore[union-attr]
    assert areas.async_get("b5-f1") is None


async def test_sync_never_touches_user_areas(hub: Hub) -> None:
    areas = _areas(hub)
    areas.async_sync_from_config("幸福里", TREE)
    user_zone = areas.async_create("zone", "快递柜")
    areas.async_sync_from_config("幸福里", [TREE[0]])

    assert areas.async_get(user_zone.id) == user_zone


async def test_sync_keeps_removed_config_areas_that_others_depend_on(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    areas = _areas(hub)
    areas.async_sync_from_config("幸福里", TREE)
    storage_room = areas.async_create("room", "储藏室", "b5-f1", id="b5-store")
    device = hub.registries.devices.async_get_or_create(
        "demo", identifiers={("demo", "gate-1")}, area_id="east-gate"
    )

    with caplog.at_level(logging.WARNING):
        areas.async_sync_from_config("幸福里", [TREE[0]])

    # b5-f1 holds a user room, so it stays, and so does b5 above it; the gate has a device.
    assert areas.async_get("b5-store") == storage_room
    assert areas.async_get("b5-f1") is not None
    assert areas.async_get("b5") is not None
    assert areas.async_get("east-gate") is not None
    assert hub.registries.devices.async_get(device.id).area_id == "east-gate"  # type: ignore[union-attr]
    messages = "\n".join(r.getMessage() for r in caplog.records)
    assert (
        "b5-f1 is no longer in the configuration but is kept: it still has 1 child area" in messages
    )
    assert (
        "east-gate is no longer in the configuration but is kept: it still has 1 device" in messages
    )

    # Once the dependants are gone, the next sync removes them.
    areas.async_delete("b5-store")
    hub.registries.devices.async_remove(device.id)
    areas.async_sync_from_config("幸福里", [TREE[0]])
    assert areas.async_get("b5") is None
    assert areas.async_get("b5-f1") is None
    assert areas.async_get("east-gate") is None


async def test_sync_refuses_a_config_id_used_by_a_user_area_and_changes_nothing(
    hub: Hub,
) -> None:
    areas = _areas(hub)
    areas.async_create("zone", "East", id="east-gate")
    events = _capture(hub)

    with pytest.raises(RegistryError, match="'east-gate' in the configuration is already used"):
        areas.async_sync_from_config("幸福里", TREE)
    assert events == []
    assert areas.async_get("b3") is None
    assert areas.async_get("community").name != "幸福里"  # type: ignore[union-attr]


async def test_sync_reports_an_invalid_tree_as_registry_error(hub: Hub) -> None:
    with pytest.raises(RegistryError, match="invalid area tree: a unit must be inside"):
        _areas(hub).async_sync_from_config("幸福里", [{"kind": "unit", "name": "1单元"}])


# --------------------------------------------------------------------------- persistence


async def test_areas_survive_a_restart(hub_factory: HubFactory, tmp_path: Path) -> None:
    config = tmp_path / "config"
    hub = await hub_factory(config)
    areas = _areas(hub)
    areas.async_sync_from_config({"zh-CN": "幸福里", "en": "Xingfu Li"}, TREE)
    areas.async_create("zone", "快递柜", "b3", names={"en": "Parcel Lockers"})
    areas.async_update("b3-u2-f12", name="十二层")
    before = {area.id: area for area in areas}
    await hub.async_stop()

    stored = orjson.loads((config / ".linli" / "linli.areas").read_bytes())
    assert stored["version"] == 1
    assert stored["key"] == "linli.areas"

    again = await hub_factory(config)
    after = {area.id: area for area in _areas(again)}
    assert after == before
    assert after["b3-parcel-lockers"].source == "user"
    assert after["b3-u2-f12"].floor_number == 12
    assert len(set(after.values())) == len(after)  # entries are hashable despite names
    assert [a.id for a in _areas(again).children("b3")] == ["b3-u2", "b3-parcel-lockers"]
    assert _areas(again).path_name("b3-u2-1201", "en") == (
        "Xingfu Li / Building 3 / Unit 2 / Floor 12 / 1201"
    )
    assert (
        _areas(again).path_name("b3-u2-1201", "zh-CN") == "幸福里 / 3号楼 / 2单元 / 十二层 / 1201"
    )


async def test_changes_are_saved_together_after_a_delay(hub: Hub, clock: Any) -> None:
    areas = _areas(hub)
    path = hub.storage_dir / "linli.areas"
    areas.async_create("building", "1号楼", id="b1")
    areas.async_create("building", "2号楼", id="b2")
    await hub.async_block_till_done()
    assert not path.exists()
    assert hub.pending_timers == 1

    clock.advance(10)
    await hub.async_block_till_done()
    stored = orjson.loads(path.read_bytes())
    assert [a["id"] for a in stored["data"]["areas"]] == ["community", "b1", "b2"]


async def test_changes_made_while_the_hub_stops_are_saved(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    """A background task that records something as it is cancelled at stop loses nothing."""
    import asyncio

    config = tmp_path / "config"
    hub = await hub_factory(config)

    async def poller() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            _areas(hub).async_create("zone", "Parcel lockers", id="parcels")
            raise

    hub.async_create_background_task(poller(), "poller")
    await asyncio.sleep(0)
    await hub.async_stop()

    again = await hub_factory(config)
    area = _areas(again).async_get("parcels")
    assert area is not None
    assert area.name == "Parcel lockers"
