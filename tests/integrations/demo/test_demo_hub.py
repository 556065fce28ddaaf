"""The demo integration end to end: a real hub started from a copy of config_example/."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import linli_demo
from linli import (
    EVENT_STATE_CHANGED,
    Event,
    Hub,
    HubState,
    Integration,
    Manifest,
    ServiceValidationError,
    callback,
    hookimpl,
)
from linli.bootstrap import async_setup_hub
from linli.clock import FakeClock
from linli.plugins.loader import Status

CONFIG_EXAMPLE = Path(__file__).resolve().parents[3] / "config_example"
INTERVAL = 5  # update_interval in config_example/configuration.yaml

StartHub = Callable[..., Awaitable[Hub]]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A fresh copy of the demo community's configuration (without any stored state)."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG_EXAMPLE, target, ignore=shutil.ignore_patterns(".linli"))
    return target


@pytest.fixture
async def start_hub(clock: FakeClock) -> AsyncIterator[StartHub]:
    """Start hubs with the demo registered (no other integration); stop and check them after."""
    hubs: list[Hub] = []

    async def start(config_dir: Path, **kwargs: Any) -> Hub:
        kwargs.setdefault("discover", False)
        if not kwargs["discover"]:
            kwargs.setdefault("plugins", [("demo", linli_demo)])
        hub = await async_setup_hub(config_dir, clock=clock, **kwargs)
        hubs.append(hub)
        return hub

    yield start
    for hub in hubs:
        await hub.async_stop()
        assert hub.pending_timers == 0
        assert not hub.pending_task_names()


@pytest.fixture
async def hub(start_hub: StartHub, config_dir: Path) -> Hub:
    """The demo community, started."""
    return await start_hub(config_dir)


def demo_entities(hub: Hub) -> list[Any]:
    return [e for e in hub.registries.entities if e.platform == "demo"]


def changes_of(hub: Hub) -> list[Event[Any]]:
    """Collect the state_changed events fired from now on."""
    seen: list[Event[Any]] = []

    @callback
    def listener(event: Event[Any]) -> None:
        seen.append(event)

    hub.bus.async_listen(EVENT_STATE_CHANGED, listener)
    return seen


def community(hub: Hub) -> dict[str, Any]:
    """The households as comparable data: name → (rooms, sorted residents)."""
    people = hub.registries.people
    return {
        h.name: (
            h.room_ids,
            sorted(
                (p.name, p.birth_year, p.relation, tuple(sorted(p.tags)))
                for p in people.members(h.id)
            ),
        )
        for h in people.households.values()
    }


def set_demo_option(config_dir: Path, key: str, value: str) -> int:
    """Set ``demo: {key: value}`` in configuration.yaml; return the line it is on (1-based)."""
    path = config_dir / "configuration.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("demo:")
    for number, line in enumerate(lines[start + 1 :], start + 1):
        if line.startswith(f"  {key}:"):
            lines[number] = f"  {key}: {value}"
            break
    else:
        number = start + 1
        lines.insert(number, f"  {key}: {value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return number + 1


# ---------------------------------------------------------------------- the community
async def test_discovered_through_its_entry_point(start_hub: StartHub, config_dir: Path) -> None:
    hub = await start_hub(config_dir, discover=True, plugins=())
    record = hub.loader.records["demo"]
    assert record.status is Status.loaded, record.reason
    assert record.source.startswith("linli-demo ")
    assert hub.services.has_service("demo", "step")


async def test_area_tree_from_areas_yaml(hub: Hub) -> None:
    areas = hub.registries.areas
    root = areas.root_id
    assert areas.display_name(root) == "幸福里小区"
    assert {a.id for a in areas.children(root)} == {"b1", "b2", "north-gate", "car-park"}
    assert {a.id for a in areas.children("b1")} == {"b1-u1", "b1-u2"}
    assert [a.id for a in areas.children("b2")] == ["b2-u1"]
    assert areas.display_name("b2-u1") == "1单元"
    floors = areas.children("b2-u1")
    assert [f.floor_number for f in floors] == [n for n in range(1, 19) if n not in (4, 13, 14)]
    for missing in ("b2-u1-f4", "b2-u1-f13", "b2-u1-f14", "b2-u1-401", "b2-u1-1302"):
        assert missing not in areas
    assert [a.id for a in areas.ancestors("b2-u1-1203")] == [root, "b2", "b2-u1", "b2-u1-f12"]
    assert areas.path_name("b2-u1-1203") == "幸福里小区 / 2号楼 / 1单元 / 12层 / 1203"
    assert len(areas.async_get_by_kind("room")) == 2 * 6 * 2 + 15 * 3
    assert {a.id for a in areas.async_get_by_kind("zone")} == {"north-gate", "car-park"}


async def test_households_and_residents(hub: Hub) -> None:
    areas = hub.registries.areas
    people = hub.registries.people
    rooms = len(areas.async_get_by_kind("room"))
    households = list(people.households.values())
    # occupancy defaults to 0.8: most rooms are lived in, not all.
    assert 0.6 * rooms < len(households) < rooms
    for household in households:
        (room_id,) = household.room_ids
        room = areas.async_get(room_id)
        assert room is not None
        assert room.kind == "room"
        building = next(a for a in areas.ancestors(room_id) if a.kind == "building")
        assert household.name.endswith(f"-{room.name}")
        assert household.name.startswith(building.id.removeprefix("b") + "-")
        assert people.members(household.id)
    assert len(people.persons) > 2 * len(households)
    assert any("lives_alone" in p.tags for p in people.persons.values())
    assert all(p.household_id in people.households for p in people.persons.values())


async def test_same_seed_same_community(
    start_hub: StartHub, config_dir: Path, tmp_path: Path
) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(config_dir, twin)
    other = tmp_path / "other"
    shutil.copytree(config_dir, other)
    set_demo_option(other, "seed", "7")
    first, second, third = [await start_hub(d) for d in (config_dir, twin, other)]
    assert community(first) == community(second)
    assert community(first) != community(third)


async def test_restart_creates_no_duplicates_and_keeps_ids(
    start_hub: StartHub, config_dir: Path
) -> None:
    hub = await start_hub(config_dir)
    people = dict(hub.registries.people.persons)
    households = dict(hub.registries.people.households)
    entities = {e.unique_id: e.entity_id for e in demo_entities(hub)}
    devices = {d.id for d in hub.registries.devices}
    await hub.async_stop()

    again = await start_hub(config_dir)
    assert dict(again.registries.people.households) == households
    assert dict(again.registries.people.persons) == people
    assert {e.unique_id: e.entity_id for e in demo_entities(again)} == entities
    assert {d.id for d in again.registries.devices} == devices
    assert set(entities.values()) <= set(again.states.async_entity_ids())


# ---------------------------------------------------------------------- devices and entities
async def test_entities_have_devices_areas_and_readable_names(hub: Hub) -> None:
    entities = hub.registries.entities
    devices = hub.registries.devices
    people = hub.registries.people
    lived_in = {room for h in people.households.values() for room in h.room_ids}
    meters = [e for e in demo_entities(hub) if e.unique_id.endswith("-power")]
    assert {entities.effective_area_id(e.entity_id) for e in meters} == lived_in | {"community"}
    for entry in demo_entities(hub):
        device = devices.async_get(entry.device_id)
        assert device is not None
        assert device.integration == "demo"
        assert device.area_id == entities.effective_area_id(entry.entity_id)
        assert "幸福里小区 /" not in (entry.original_name or "")  # no community prefix

    expected = {
        "sensor.b1_u2_elevator_load": ("b1-u2", "1号楼 / 2单元 电梯载重", "kg"),
        "binary_sensor.b2_u1_elevator_ebike": ("b2-u1", "2号楼 / 1单元 电梯内有电动车", None),
        "sensor.north_gate_people": ("north-gate", "北门 人流量", "人/分钟"),
        "sensor.car_park_people": ("car-park", "地下车库 人流量", "人/分钟"),
        "sensor.community_power": ("community", "幸福里小区 总用电功率", "W"),
    }
    room = sorted(lived_in)[0]
    floor, unit, building = (a.name for a in reversed(hub.registries.areas.ancestors(room)[1:]))
    assert floor.endswith("层")
    name = f"{building} / {unit} / {hub.registries.areas.display_name(room)} 用电功率"
    expected[f"sensor.{room.replace('-', '_')}_power"] = (room, name, "W")
    for entity_id, (area_id, friendly_name, unit_of_measurement) in expected.items():
        entry = entities.async_get(entity_id)
        assert entry is not None, entity_id
        assert entities.effective_area_id(entity_id) == area_id
        assert entry.original_name == friendly_name
        state = hub.states.get(entity_id)
        assert state is not None
        assert state.attributes["friendly_name"] == friendly_name
        assert state.attributes.get("unit_of_measurement") == unit_of_measurement
    assert hub.registries.devices.async_get(
        entities.entities["sensor.b1_u2_elevator_load"].device_id
    ) is hub.registries.devices.async_get(
        entities.entities["binary_sensor.b1_u2_elevator_ebike"].device_id
    )


async def test_english_community_gets_english_names(start_hub: StartHub, config_dir: Path) -> None:
    path = config_dir / "configuration.yaml"
    path.write_text(path.read_text().replace("language: zh-CN", "language: en"))
    hub = await start_hub(config_dir)
    state = hub.states.get("sensor.b1_u2_elevator_load")
    assert state is not None
    assert state.attributes["friendly_name"] == "Building 1 / Unit 2 Elevator load"
    names = {h.name for h in hub.registries.people.households.values()}
    assert all(re.fullmatch(r"[12]-[12]-\d{3,4}", name) for name in names), names


async def test_every_entity_has_a_state_right_after_start(hub: Hub) -> None:
    entities = demo_entities(hub)
    units = len(hub.registries.areas.async_get_by_kind("unit"))
    zones = len(hub.registries.areas.async_get_by_kind("zone"))
    households = len(hub.registries.people.households)
    assert len(entities) == households + 1 + 2 * units + zones
    for entry in entities:
        state = hub.states.get(entry.entity_id)
        assert state is not None, entry.entity_id
        assert state.attributes["friendly_name"] == entry.display_name
        if entry.domain == "binary_sensor":
            assert state.state in ("on", "off")
        else:
            assert int(state.state) >= 0


# ---------------------------------------------------------------------- running
async def test_readings_move_with_the_clock(hub: Hub, clock: FakeClock) -> None:
    entity_ids = {e.entity_id for e in demo_entities(hub)}
    before = {eid: hub.states.get(eid) for eid in entity_ids}
    seen = changes_of(hub)
    clock.advance(INTERVAL - 0.5)
    await hub.async_block_till_done()
    assert seen == []
    clock.advance(0.5)
    await hub.async_block_till_done()
    changed = {e.data["entity_id"] for e in seen}
    assert changed <= entity_ids
    assert len(changed) > len(entity_ids) // 2  # meters and counters always move a little
    assert all(e.data["old_state"] == before[e.data["entity_id"]] for e in seen)
    seen.clear()
    clock.advance(INTERVAL * 3)
    await hub.async_block_till_done()
    assert len({e.time_fired for e in seen}) == 3


async def test_power_follows_the_time_of_day(
    start_hub: StartHub, config_dir: Path, clock: FakeClock
) -> None:
    set_demo_option(config_dir, "update_interval", "600")
    hub = await start_hub(config_dir)
    # The fake clock starts at 16:00 in Shanghai: move to 20:00 (evening peak), then to 03:00.
    clock.advance(4 * 3600)
    await hub.async_block_till_done()
    evening = int(hub.states.get("sensor.community_power").state)
    clock.advance(7 * 3600)
    await hub.async_block_till_done()
    night = int(hub.states.get("sensor.community_power").state)
    assert night < evening / 3


async def test_step_service(hub: Hub) -> None:
    seen = changes_of(hub)
    response = await hub.services.async_call("demo", "step", {}, return_response=True)
    assert response is not None
    first = response["steps"]
    assert first >= 1
    assert seen
    response = await hub.services.async_call("demo", "step", {"count": "3"}, return_response=True)
    assert response == {"steps": first + 3}
    for bad in (0, 1001, "many"):
        with pytest.raises(ServiceValidationError, match="count"):
            await hub.services.async_call("demo", "step", {"count": bad})
    response = await hub.services.async_call("demo", "step", {}, return_response=True)
    assert response == {"steps": first + 4}


async def test_community_total_is_the_sum_of_the_meters(hub: Hub, clock: FakeClock) -> None:
    for _ in range(3):
        clock.advance(INTERVAL)
        await hub.async_block_till_done()
        meters = [
            e.entity_id
            for e in demo_entities(hub)
            if e.unique_id.endswith("-power") and e.entity_id != "sensor.community_power"
        ]
        total = hub.states.get("sensor.community_power")
        assert total is not None
        assert int(total.state) == sum(int(hub.states.get(m).state) for m in meters)
        assert total.attributes["meters"] == len(meters) == len(hub.registries.people.households)


async def test_unloads_cleanly(hub: Hub, clock: FakeClock) -> None:
    integration = hub.loader.records["demo"].integration
    assert integration is not None
    assert integration.async_unload is not None
    await hub.registries.async_save_now()  # the registries' delayed writes are timers too
    timers = hub.pending_timers  # the demo's update timer, and other integrations' timers
    # The demo follows the entity registry with one listener; the core's parts (permissions)
    # follow it too and stay.
    listeners = hub.bus.async_listeners()["entity_registry_updated"]
    await integration.async_unload(hub)
    assert hub.pending_timers == timers - 1
    assert hub.bus.async_listeners().get("entity_registry_updated", 0) == listeners - 1
    seen = changes_of(hub)
    clock.advance(INTERVAL * 3)
    await hub.async_block_till_done()
    assert seen == []
    await hub.async_stop()
    assert hub.loader.records["demo"].status is Status.unloaded
    assert hub.pending_timers == 0
    assert not hub.services.has_service("demo", "step")


# ---------------------------------------------------------------------- the user's changes
async def test_disabled_entities_get_no_state(
    start_hub: StartHub, config_dir: Path, clock: FakeClock
) -> None:
    hub = await start_hub(config_dir)
    entities = hub.registries.entities
    meter = next(e for e in demo_entities(hub) if e.unique_id.startswith("b1-u1-"))
    entities.async_update_entity(meter.entity_id, disabled_by="user")
    assert hub.states.get(meter.entity_id) is None
    total_without = hub.states.get("sensor.community_power")
    clock.advance(INTERVAL)
    await hub.async_block_till_done()
    assert hub.states.get(meter.entity_id) is None
    total = hub.states.get("sensor.community_power")
    assert total.attributes["meters"] == total_without.attributes["meters"]
    assert total.attributes["meters"] == len(hub.registries.people.households) - 1
    await hub.async_stop()

    # Still disabled after a restart: skipped from the start.
    hub = await start_hub(config_dir)
    seen = changes_of(hub)
    assert hub.states.get(meter.entity_id) is None
    clock.advance(INTERVAL)
    await hub.async_block_till_done()
    assert hub.states.get(meter.entity_id) is None
    assert meter.entity_id not in {e.data["entity_id"] for e in seen}

    # Enabled again: it comes back.
    hub.registries.entities.async_update_entity(meter.entity_id, disabled_by=None)
    assert hub.states.get(meter.entity_id) is not None


async def test_disabled_device_gets_no_state(hub: Hub, clock: FakeClock) -> None:
    entry = hub.registries.entities.async_get("sensor.b1_u1_elevator_load")
    hub.registries.devices.async_update(entry.device_id, disabled_by="user")
    assert hub.states.get("sensor.b1_u1_elevator_load") is None
    assert hub.states.get("binary_sensor.b1_u1_elevator_ebike") is None
    clock.advance(INTERVAL)
    await hub.async_block_till_done()
    assert hub.states.get("sensor.b1_u1_elevator_load") is None
    hub.registries.devices.async_update(entry.device_id, disabled_by=None)
    assert hub.states.get("binary_sensor.b1_u1_elevator_ebike") is not None


async def test_removed_entity_is_not_written_again(hub: Hub, clock: FakeClock) -> None:
    entities = hub.registries.entities
    meters_before = hub.states.get("sensor.community_power").attributes["meters"]
    entities.async_remove("sensor.north_gate_people")
    assert hub.states.get("sensor.north_gate_people") is None
    meter = next(e.entity_id for e in demo_entities(hub) if e.unique_id.startswith("b2-"))
    entities.async_remove(meter)
    assert hub.states.get("sensor.community_power").attributes["meters"] == meters_before - 1
    seen = changes_of(hub)
    clock.advance(INTERVAL * 2)
    await hub.async_block_till_done()
    written = {e.data["entity_id"] for e in seen}
    assert written
    assert "sensor.north_gate_people" not in written
    assert meter not in written
    assert hub.states.get("sensor.north_gate_people") is None
    assert entities.async_get("sensor.north_gate_people") is None


async def test_renamed_entity_is_followed(hub: Hub, clock: FakeClock) -> None:
    entities = hub.registries.entities
    entities.async_update_entity(
        "sensor.north_gate_people", new_entity_id="sensor.gate_traffic", name="北门进出"
    )
    assert hub.states.get("sensor.north_gate_people") is None
    state = hub.states.get("sensor.gate_traffic")
    assert state is not None
    assert state.attributes["friendly_name"] == "北门进出"
    seen = changes_of(hub)
    clock.advance(INTERVAL * 20)
    await hub.async_block_till_done()
    written = {e.data["entity_id"] for e in seen}
    assert "sensor.gate_traffic" in written
    assert "sensor.north_gate_people" not in written


# ---------------------------------------------------------------------- bad configuration
class _Canary:
    """Another integration, loaded by default: it must start when the demo fails."""

    @hookimpl
    def linli_integration(self, core_version: str) -> Integration:
        async def setup(hub: Hub, config: dict[str, Any]) -> bool:
            return True

        return Integration(Manifest(domain="canary", name="Canary", load_by_default=True), setup)


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("update_interval", "-1", "at least 0.1"),
        ("update_interval", "soon", "float"),
        ("occupancy", "2", "at most 1"),
        ("seed", "abc", "int"),
    ],
)
async def test_bad_value_fails_only_the_demo(
    start_hub: StartHub, config_dir: Path, key: str, value: str, problem: str
) -> None:
    line = set_demo_option(config_dir, key, value)
    hub = await start_hub(config_dir, plugins=[("demo", linli_demo), ("canary", _Canary())])
    record = hub.loader.records["demo"]
    assert record.status is Status.failed
    assert record.reason is not None
    assert f"configuration.yaml:{line}: demo.{key}:" in record.reason
    assert problem in record.reason
    assert hub.loader.records["canary"].status is Status.loaded
    assert hub.state is HubState.running
    assert "b2-u1-1201" in hub.registries.areas
    assert not hub.services.has_service("demo", "step")
    # Only the bundled integrations' entities (the alert sensor, the example's rule).
    assert sorted(hub.states.async_entity_ids()) == [
        "automation.e_bike_in_a_lift",
        "sensor.open_alerts",
    ]
    assert not hub.registries.people.households


async def test_each_timed_step_logs_a_summary_of_the_community(
    hub: Hub, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """script/demo shows a living hub: every update logs what the community is doing."""
    caplog.set_level(logging.INFO, logger="linli_demo")
    clock.advance(5)
    await hub.async_block_till_done()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Step ")]
    assert len(lines) == 1
    total_w = int(hub.states.get("sensor.community_power").state)
    assert f"draw {total_w / 1000:.1f} kW" in lines[0]


async def test_the_example_rule_raises_an_alert_for_an_ebike_in_a_lift(hub: Hub) -> None:
    """config_example's automation turns the simulated e-bike detector into one alert."""
    from linli.components.alert import get_manager

    sensor = "binary_sensor.b2_u1_elevator_ebike"
    hub.states.async_set(sensor, "off")
    for _ in range(3):  # a flapping detector raises one alert, seen three times
        hub.states.async_set(sensor, "on")
        hub.states.async_set(sensor, "off")
    await hub.async_block_till_done()
    (alert,) = get_manager(hub).open_alerts()
    assert alert.kind == "ebike_in_elevator"
    assert alert.area_id == "b2-u1"
    assert alert.source_entity_id == sensor
    assert alert.occurrences == 3
    assert alert.assignee == "role:staff"
