"""The demo integration end to end: a real hub started from a copy of config_example/.

The simulated devices publish over MQTT (the shared Mosquitto, under a topic prefix of the
test's own) and the lifts' cameras push to a webhook, so a state arrives a little after the
clock moves: the tests wait for it (:func:`until`) instead of expecting it at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import linli_demo
import linli_mqtt
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
PLUGINS = [("demo", linli_demo), ("mqtt", linli_mqtt)]

StartHub = Callable[..., Awaitable[Hub]]


def use_broker(config_dir: Path, broker: tuple[str, int], prefix: str) -> None:
    """Point the example's ``mqtt:`` at ``broker`` and both ends at the topic ``prefix``."""
    path = config_dir / "configuration.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "mqtt:\n  discovery: true\n  devices:\n    topic_prefix: linli\n",
        f"mqtt:\n  broker: {broker[0]}\n  port: {broker[1]}\n  discovery: false\n"
        f"  devices:\n    topic_prefix: {prefix}\n",
    )
    text = text.replace("demo:\n", f"demo:\n  topic_prefix: {prefix}\n", 1)
    path.write_text(text, encoding="utf-8")


def own_prefix(config_dir: Path) -> None:
    """Give a copied config dir a topic prefix of its own (its hub, its devices)."""
    path = config_dir / "configuration.yaml"
    text = re.sub(r"linli_test/[0-9a-f]{32}", f"linli_test/{uuid.uuid4().hex}", path.read_text())
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def config_dir(tmp_path: Path, broker: tuple[str, int]) -> Path:
    """A fresh copy of the demo community's configuration (without any stored state), its
    devices on the shared Mosquitto under a prefix of this test's own."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG_EXAMPLE, target, ignore=shutil.ignore_patterns(".linli"))
    use_broker(target, broker, f"linli_test/{uuid.uuid4().hex}")
    return target


async def until(check: Callable[[], object], within: float = 10.0) -> None:
    """Wait until ``check()`` is true: messages take a moment over the broker."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the devices' messages"
        await asyncio.sleep(0.02)


def simulator(hub: Hub) -> Any:
    """The demo's simulator in ``hub``."""
    return hub.data[linli_demo.SIMULATOR]


def mqtt_entities(hub: Hub) -> list[Any]:
    """The entities the simulated devices got through the MQTT device topics."""
    return [e for e in hub.registries.entities if e.platform == "mqtt"]


def expected_entities(hub: Hub) -> int:
    """Entities the devices should have: meter 2, lift 4, load cell 1, counter 1."""
    per_kind = {"meter": 2, "lift": 4, "sensor": 1, "people_counter": 1}
    return sum(per_kind[str(d.kind)] for d in simulator(hub).devices.values())


def all_arrived(hub: Hub) -> bool:
    """Every device's entities exist and have a state."""
    entries = mqtt_entities(hub)
    return len(entries) == expected_entities(hub) and all(
        hub.states.get(e.entity_id) is not None or e.disabled for e in entries
    )


def eid(hub: Hub, unique_id: str) -> str:
    """The entity_id of a device topic entity (``meter/b1-u1-101/power_w``): ids follow the
    device's name, so the tests find them by unique id."""
    domain = "binary_sensor" if unique_id.endswith("ebike_detected") else "sensor"
    entity_id = hub.registries.entities.async_get_entity_id(domain, "mqtt", unique_id)
    assert entity_id is not None, unique_id
    return entity_id


async def step_arrived(hub: Hub) -> None:
    """Wait until the last step's messages are in (the main meter's, then a moment more:
    each device has its own connection, so they do not arrive in one order)."""
    main = simulator(hub).devices["meter/community"]
    power = eid(hub, "meter/community/power_w")
    await until(lambda: getattr(hub.states.get(power), "state", "") == str(round(main.power_w)))
    await asyncio.sleep(0.3)


def value(hub: Hub, entity_id: str) -> float:
    state = hub.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


@pytest.fixture
async def start_hub(clock: FakeClock) -> AsyncIterator[StartHub]:
    """Start hubs with the demo and mqtt registered; stop and check them after."""
    hubs: list[Hub] = []

    async def start(config_dir: Path, **kwargs: Any) -> Hub:
        kwargs.setdefault("discover", False)
        wait = kwargs.pop("wait", True)
        if not kwargs["discover"]:
            kwargs.setdefault("plugins", PLUGINS)
        hub = await async_setup_hub(config_dir, clock=clock, **kwargs)
        hubs.append(hub)
        if wait and linli_demo.SIMULATOR in hub.data:
            await until(lambda: all_arrived(hub))
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
    """The demo's own entities: the lifts' e-bike sensors (fed by the cameras' webhook)."""
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
    own_prefix(twin)
    own_prefix(other)
    first, second, third = [await start_hub(d) for d in (config_dir, twin, other)]
    assert community(first) == community(second)
    assert community(first) != community(third)


async def test_restart_creates_no_duplicates_and_keeps_ids(
    start_hub: StartHub, config_dir: Path
) -> None:
    hub = await start_hub(config_dir)
    people = dict(hub.registries.people.persons)
    households = dict(hub.registries.people.households)
    entities = {e.unique_id: e.entity_id for e in [*demo_entities(hub), *mqtt_entities(hub)]}
    devices = {d.id for d in hub.registries.devices}
    await hub.async_stop()

    again = await start_hub(config_dir)
    assert dict(again.registries.people.households) == households
    assert dict(again.registries.people.persons) == people
    assert {
        e.unique_id: e.entity_id for e in [*demo_entities(again), *mqtt_entities(again)]
    } == entities
    assert {d.id for d in again.registries.devices} == devices
    assert set(entities.values()) <= set(again.states.async_entity_ids())


# ---------------------------------------------------------------------- devices and entities
async def test_devices_arrive_over_mqtt_in_their_places(hub: Hub) -> None:
    entities = hub.registries.entities
    devices = hub.registries.devices
    people = hub.registries.people
    lived_in = {room for h in people.households.values() for room in h.room_ids}
    power = [e for e in mqtt_entities(hub) if e.unique_id.endswith("/power_w")]
    assert {entities.effective_area_id(e.entity_id) for e in power} == lived_in | {"community"}
    for entry in mqtt_entities(hub):
        device = devices.async_get(entry.device_id)
        assert device is not None
        assert device.integration == "mqtt"
        kind, device_id = entry.unique_id.split("/")[:2]
        assert (("linli_mqtt", f"{kind}/{device_id}")) in device.identifiers
        # The device said where it is (area_id) in its first message.
        assert device.area_id == device_id.removesuffix("-load")
        assert device.manufacturer == "Linli demo"

    room = sorted(lived_in)[0]
    expected = {
        eid(hub, f"meter/{room}/power_w"): (room, "W", "power"),
        eid(hub, f"meter/{room}/energy_kwh"): (room, "kWh", "energy"),
        eid(hub, "meter/community/power_w"): ("community", "W", "power"),
        eid(hub, "lift/b1-u2/floor"): ("b1-u2", None, None),
        eid(hub, "lift/b2-u1/ebike_detected"): ("b2-u1", None, None),
        eid(hub, "sensor/b1-u2-load/value"): ("b1-u2", "kg", "weight"),
        eid(hub, "people_counter/north-gate/count"): ("north-gate", "people", None),
    }
    for entity_id, (area_id, unit, device_class) in expected.items():
        assert entities.effective_area_id(entity_id) == area_id, entity_id
        state = hub.states.get(entity_id)
        assert state is not None, entity_id
        assert state.attributes.get("unit_of_measurement") == unit
        assert state.attributes.get("device_class") == device_class

    # The lifts' e-bike sensors are the demo's own, fed by the cameras' webhook.
    floor = hub.registries.areas.ancestors(room)[-1]
    assert floor.name.endswith("层")
    state = hub.states.get("binary_sensor.b2_u1_elevator_ebike")
    assert state is not None
    assert state.attributes["friendly_name"] == "2号楼 / 1单元 电梯内有电动车"
    assert entities.effective_area_id("binary_sensor.b2_u1_elevator_ebike") == "b2-u1"
    assert {e.entity_id for e in demo_entities(hub)} == {
        "binary_sensor.b1_u1_elevator_ebike",
        "binary_sensor.b1_u2_elevator_ebike",
        "binary_sensor.b2_u1_elevator_ebike",
    }


async def test_english_community_gets_english_names(start_hub: StartHub, config_dir: Path) -> None:
    path = config_dir / "configuration.yaml"
    path.write_text(path.read_text().replace("language: zh-CN", "language: en"))
    hub = await start_hub(config_dir)
    state = hub.states.get("binary_sensor.b1_u2_elevator_ebike")
    assert state is not None
    assert state.attributes["friendly_name"] == "Building 1 / Unit 2 E-bike in elevator"
    lift = simulator(hub).devices["lift/b1-u2"]
    assert lift.name == "Building 1 / Unit 2 Elevator"
    names = {h.name for h in hub.registries.people.households.values()}
    assert all(re.fullmatch(r"[12]-[12]-\d{3,4}", name) for name in names), names


async def test_every_entity_has_a_state_right_after_start(hub: Hub) -> None:
    units = len(hub.registries.areas.async_get_by_kind("unit"))
    zones = len(hub.registries.areas.async_get_by_kind("zone"))
    households = len(hub.registries.people.households)
    # A meter per flat and the main meter (power, energy); per unit a lift (floor, door,
    # e-bike, last e-bike event) and its load cell; a people counter per zone.
    assert len(mqtt_entities(hub)) == 2 * (households + 1) + 5 * units + zones
    assert len(demo_entities(hub)) == units
    for entry in [*mqtt_entities(hub), *demo_entities(hub)]:
        state = hub.states.get(entry.entity_id)
        assert state is not None, entry.entity_id
        if entry.domain == "binary_sensor":
            assert state.state in ("on", "off")
        elif entry.unique_id.endswith(("/power_w", "/energy_kwh", "/value", "/count")):
            assert float(state.state) >= 0


# ---------------------------------------------------------------------- running
async def test_readings_move_with_the_clock(hub: Hub, clock: FakeClock) -> None:
    entity_ids = {e.entity_id for e in mqtt_entities(hub)}
    seen = changes_of(hub)
    clock.advance(INTERVAL - 0.5)
    await hub.async_block_till_done()
    await asyncio.sleep(0.2)
    assert seen == []
    clock.advance(0.5)
    await hub.async_block_till_done()
    # Meters and counters always move a little; every flat's energy grows.
    await until(lambda: len({e.data["entity_id"] for e in seen}) > len(entity_ids) // 2)
    changed = {e.data["entity_id"] for e in seen}
    assert changed <= entity_ids | {e.entity_id for e in demo_entities(hub)}
    assert simulator(hub).steps == 1
    clock.advance(INTERVAL * 3)
    await hub.async_block_till_done()
    assert simulator(hub).steps == 4


async def test_power_follows_the_time_of_day(
    start_hub: StartHub, config_dir: Path, clock: FakeClock
) -> None:
    set_demo_option(config_dir, "update_interval", "600")
    hub = await start_hub(config_dir)
    sim = simulator(hub)
    main = sim.devices["meter/community"]
    # The fake clock starts at 16:00 in Shanghai: move to 20:00 (evening peak), then to 03:00.
    clock.advance(4 * 3600)
    await hub.async_block_till_done()
    await until(lambda: value(hub, eid(hub, "meter/community/power_w")) == round(main.power_w))
    evening = value(hub, eid(hub, "meter/community/power_w"))
    clock.advance(7 * 3600)
    await hub.async_block_till_done()
    await until(lambda: value(hub, eid(hub, "meter/community/power_w")) == round(main.power_w))
    night = value(hub, eid(hub, "meter/community/power_w"))
    assert night < evening / 3


async def test_step_service(hub: Hub) -> None:
    seen = changes_of(hub)
    response = await hub.services.async_call("demo", "step", {}, return_response=True)
    assert response is not None
    first = response["steps"]
    assert first >= 1
    # Every device's state, and an e-bike event of a lift where one came or went.
    assert response["published"] >= len(simulator(hub).devices)
    await until(lambda: seen)
    response = await hub.services.async_call("demo", "step", {"count": "3"}, return_response=True)
    assert response is not None
    assert response["steps"] == first + 3
    assert response["published"] >= 3 * len(simulator(hub).devices)
    for bad in (0, 1001, "many"):
        with pytest.raises(ServiceValidationError, match="count"):
            await hub.services.async_call("demo", "step", {"count": bad})
    response = await hub.services.async_call("demo", "step", {}, return_response=True)
    assert response is not None
    assert response["steps"] == first + 4
    # The lifts' cameras post what changed; let them finish before the hub stops.
    await hub.async_block_till_done()


async def test_main_meter_reads_the_sum_of_the_flats(hub: Hub, clock: FakeClock) -> None:
    sim = simulator(hub)
    flats = [
        d for d in sim.devices.values() if str(d.kind) == "meter" and d.device_id != "community"
    ]
    assert len(flats) == len(hub.registries.people.households)
    for _ in range(3):
        clock.advance(INTERVAL)
        await hub.async_block_till_done()

        def arrived() -> bool:
            return all(
                value(hub, eid(hub, f"meter/{d.device_id}/power_w")) == round(d.power_w)
                for d in flats
            ) and value(hub, eid(hub, "meter/community/power_w")) == sum(
                round(d.power_w) for d in flats
            )

        await until(arrived)


async def test_unloads_cleanly(hub: Hub, clock: FakeClock) -> None:
    integration = hub.loader.records["demo"].integration
    assert integration is not None
    assert integration.async_unload is not None
    await hub.registries.async_save_now()  # the registries' delayed writes are timers too
    timers = hub.pending_timers  # the demo's update timer, and other integrations' timers
    await integration.async_unload(hub)
    assert hub.pending_timers == timers - 1
    # The devices switched off: each said "offline" before it went.
    power = eid(hub, "meter/community/power_w")
    await until(lambda: hub.states.get(power).state == "unavailable")
    assert hub.states.get("binary_sensor.b1_u1_elevator_ebike") is None  # the demo's own
    seen = changes_of(hub)
    clock.advance(INTERVAL * 3)
    await hub.async_block_till_done()
    await asyncio.sleep(0.2)
    assert seen == []
    await hub.async_stop()
    assert hub.loader.records["demo"].status is Status.unloaded
    assert hub.pending_timers == 0
    assert not hub.services.has_service("demo", "step")
    assert not hub.services.has_service("demo", "scenario")


# ---------------------------------------------------------------------- the user's changes
async def test_disabled_entities_get_no_state(
    start_hub: StartHub, config_dir: Path, clock: FakeClock
) -> None:
    hub = await start_hub(config_dir)
    entities = hub.registries.entities
    meter = next(e for e in mqtt_entities(hub) if e.unique_id.endswith("/power_w"))
    entities.async_update_entity(meter.entity_id, disabled_by="user")
    await hub.async_block_till_done()
    assert hub.states.get(meter.entity_id) is None
    seen = changes_of(hub)
    clock.advance(INTERVAL)
    await hub.async_block_till_done()
    await step_arrived(hub)
    assert hub.states.get(meter.entity_id) is None
    await hub.async_stop()

    # Still disabled after a restart: skipped from the start.
    hub = await start_hub(config_dir)
    seen = changes_of(hub)
    assert hub.states.get(meter.entity_id) is None
    clock.advance(INTERVAL)
    await hub.async_block_till_done()
    await step_arrived(hub)
    assert hub.states.get(meter.entity_id) is None
    assert meter.entity_id not in {e.data["entity_id"] for e in seen}

    # Enabled again: it comes back.
    hub.registries.entities.async_update_entity(meter.entity_id, disabled_by=None)
    await hub.async_block_till_done()
    clock.advance(INTERVAL)
    await hub.async_block_till_done()
    await until(lambda: hub.states.get(meter.entity_id) is not None)


async def test_disabled_device_gets_no_state(hub: Hub, clock: FakeClock) -> None:
    floor, door = eid(hub, "lift/b1-u1/floor"), eid(hub, "lift/b1-u1/door")
    entry = hub.registries.entities.async_get(floor)
    assert entry is not None
    hub.registries.devices.async_update(entry.device_id, disabled_by="user")
    await hub.async_block_till_done()
    assert hub.states.get(floor) is None
    assert hub.states.get(door) is None
    seen = changes_of(hub)
    clock.advance(INTERVAL)
    await hub.async_block_till_done()
    other = eid(hub, "meter/community/power_w")
    await until(lambda: other in {e.data["entity_id"] for e in seen})  # the step arrived
    assert hub.states.get(floor) is None
    assert floor not in {e.data["entity_id"] for e in seen}
    hub.registries.devices.async_update(entry.device_id, disabled_by=None)
    await hub.async_block_till_done()
    await until(lambda: hub.states.get(door) is not None)


async def test_renamed_entity_is_followed(hub: Hub, clock: FakeClock) -> None:
    entities = hub.registries.entities
    old = eid(hub, "people_counter/north-gate/count")
    entities.async_update_entity(old, new_entity_id="sensor.gate_traffic", name="北门进出")
    await hub.async_block_till_done()
    assert hub.states.get(old) is None
    await until(lambda: hub.states.get("sensor.gate_traffic") is not None)
    assert hub.states.get("sensor.gate_traffic").attributes["friendly_name"] == "北门进出"
    counter = simulator(hub).devices["people_counter/north-gate"]
    seen = changes_of(hub)
    for _ in range(20):
        clock.advance(INTERVAL)
        await hub.async_block_till_done()
    await until(lambda: value(hub, "sensor.gate_traffic") == counter.count)
    written = {e.data["entity_id"] for e in seen}
    assert old not in written


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
    hub = await start_hub(config_dir, plugins=[*PLUGINS, ("canary", _Canary())])
    record = hub.loader.records["demo"]
    assert record.status is Status.failed
    assert record.reason is not None
    assert f"configuration.yaml:{line}: demo.{key}:" in record.reason
    assert problem in record.reason
    assert hub.loader.records["canary"].status is Status.loaded
    assert hub.state is HubState.running
    assert "b2-u1-1201" in hub.registries.areas
    assert not hub.services.has_service("demo", "step")
    # Only the bundled integrations' entities (the alert sensor, the example's rules).
    entity_ids = set(hub.states.async_entity_ids())
    automations = {e for e in entity_ids if e.startswith("automation.")}
    assert "automation.e_bike_in_a_lift" in automations
    assert entity_ids - automations == {"sensor.open_alerts"}
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
    main = simulator(hub).devices["meter/community"]
    await until(lambda: value(hub, eid(hub, "meter/community/power_w")) == round(main.power_w))
    total_w = value(hub, eid(hub, "meter/community/power_w"))
    assert f"draw {total_w / 1000:.1f} kW" in lines[0]
    assert "messages sent" in lines[0]


async def test_the_example_rule_raises_an_alert_for_an_ebike_in_a_lift(hub: Hub) -> None:
    """config_example's automation turns the lift camera's webhook pushes into one alert."""
    from linli.components.alert import get_manager

    sensor = "binary_sensor.b2_u1_elevator_ebike"
    seen = changes_of(hub)
    for _ in range(3):  # a flapping detector raises one alert, seen three times
        await hub.services.async_call(
            "demo", "scenario", {"name": "ebike_enters_lift", "variables": {"unit": "b2-u1"}}
        )
    await hub.async_block_till_done()
    assert [e.data["new_state"].state for e in seen if e.data["entity_id"] == sensor] == [
        "on",
        "off",
    ] * 3
    (alert,) = get_manager(hub).open_alerts()
    assert alert.kind == "ebike_in_elevator"
    assert alert.area_id == "b2-u1"
    assert alert.source_entity_id == sensor
    assert alert.occurrences == 3
    assert alert.assignee == "role:staff"
    # The lift itself reported it over MQTT too.
    detected = eid(hub, "lift/b2-u1/ebike_detected")

    def reported() -> list[str]:
        return [e.data["new_state"].state for e in seen if e.data["entity_id"] == detected]

    await until(lambda: len(reported()) >= 6)
    assert reported() == ["on", "off"] * 3


# ---------------------------------------------------------------------- scenarios
async def test_scenario_resident_comes_home(hub: Hub) -> None:
    sim = simulator(hub)
    room = next(k for k in sorted(sim.devices) if k.startswith("meter/b1-u2-"))[6:]
    meter, gate = sim.devices[f"meter/{room}"], sim.devices["people_counter/north-gate"]
    power, count = round(meter.power_w), gate.count
    response = await hub.services.async_call(
        "demo",
        "scenario",
        {"name": "resident_comes_home", "variables": {"room": room}},
        return_response=True,
    )
    assert response == {"scenario": "resident_comes_home", "steps": 5}
    await until(lambda: value(hub, eid(hub, f"meter/{room}/power_w")) == power + 1500)
    await until(lambda: value(hub, eid(hub, "people_counter/north-gate/count")) == count + 1)
    unit = room.rsplit("-", 1)[0]
    floor = int(room.rsplit("-", 1)[1][:-2])
    await until(lambda: value(hub, eid(hub, f"lift/{unit}/floor")) == floor)


async def test_scenario_a_device_drops_off_and_comes_back(hub: Hub) -> None:
    room = next(k for k in simulator(hub).devices if k.startswith("meter/b"))[6:]
    power = eid(hub, f"meter/{room}/power_w")
    seen = changes_of(hub)
    await hub.services.async_call(
        "demo", "scenario", {"name": "meter_goes_offline", "variables": {"room": room}}
    )
    # The broker sent its last will (offline), then it reconnected and said online again.
    await until(lambda: hub.states.get(power).state not in ("unavailable",) and seen)
    states = [e.data["new_state"].state for e in seen if e.data["entity_id"] == power]
    assert "unavailable" in states
    assert states[-1] != "unavailable"


async def test_scenario_errors(hub: Hub) -> None:
    with pytest.raises(ServiceValidationError, match="Unknown scenario 'nope'; known: "):
        await hub.services.async_call("demo", "scenario", {"name": "nope"})
    with pytest.raises(ServiceValidationError, match="no simulated device 'lift/b9-u9'"):
        await hub.services.async_call(
            "demo", "scenario", {"name": "ebike_enters_lift", "variables": {"unit": "b9-u9"}}
        )


async def test_scenario_file_of_the_community(start_hub: StartHub, config_dir: Path) -> None:
    (config_dir / "scenarios.yaml").write_text(
        "gate_rush:\n  steps:\n    - state: {device: people_counter/north-gate, count: 99}\n",
        encoding="utf-8",
    )
    set_demo_option(config_dir, "scenario_file", "scenarios.yaml")
    hub = await start_hub(config_dir)
    await hub.services.async_call("demo", "scenario", {"name": "gate_rush"})
    await until(lambda: value(hub, eid(hub, "people_counter/north-gate/count")) == 99)


async def test_bad_scenario_file_fails_the_demo(start_hub: StartHub, config_dir: Path) -> None:
    (config_dir / "scenarios.yaml").write_text("x:\n  steps:\n    - jump: 3\n")
    set_demo_option(config_dir, "scenario_file", "scenarios.yaml")
    hub = await start_hub(config_dir, wait=False)
    record = hub.loader.records["demo"]
    assert record.status is Status.failed


async def test_camera_webhook_checks_the_signature_and_the_body(hub: Hub) -> None:
    import aiohttp

    sim = simulator(hub)
    url = sim.camera_url
    body = b'{"lift": "b1-u1", "detected": "ebike", "confidence": 0.9}'
    async with aiohttp.ClientSession() as session:
        forged = {"X-Signature": "sha256=" + "0" * 64}
        async with session.post(url, data=body, headers=forged) as response:
            assert response.status == 404
        from linli_demo.camera import sign

        bad = b'{"lift": "b1-u1", "detected": "unicorn"}'
        async with session.post(
            url, data=bad, headers={"X-Signature": sign(sim.camera_secret, bad)}
        ) as response:
            assert response.status == 400
        good = {"X-Signature": sign(sim.camera_secret, body)}
        async with session.post(url, data=body, headers=good) as response:
            assert response.status == 200
    state = hub.states.get("binary_sensor.b1_u1_elevator_ebike")
    assert state is not None
    assert state.state == "on"
    assert state.attributes["confidence"] == 0.9


async def test_size_builds_a_bigger_community(start_hub: StartHub, config_dir: Path) -> None:
    set_demo_option(config_dir, "size", "{buildings: 3, units: 2, floors: 4, rooms: 2}")
    hub = await start_hub(config_dir)
    areas = hub.registries.areas
    assert "b3-u2-402" in areas
    assert [a.id for a in areas.ancestors("b3-u2-402")][1:] == ["b3", "b3-u2", "b3-u2-f4"]
    lifts = [k for k in simulator(hub).devices if k.startswith("lift/")]
    # b1-u1, b1-u2 and b2-u1 from the config; b2-u2, b3-u1 and b3-u2 generated.
    assert len(lifts) == 6
    assert len(demo_entities(hub)) == len(lifts)


async def test_embedded_broker_when_none_is_configured(start_hub: StartHub, tmp_path: Path) -> None:
    """A newcomer's machine: config_example as shipped, no broker of its own."""
    target = tmp_path / "fresh"
    shutil.copytree(CONFIG_EXAMPLE, target, ignore=shutil.ignore_patterns(".linli"))
    hub = await start_hub(target)
    assert linli_mqtt.get_mqtt(hub).broker[0] == "127.0.0.1"
    assert all_arrived(hub)
    assert hub.states.get(eid(hub, "meter/community/power_w")) is not None


async def test_without_doors_and_gates_their_steps_are_skipped(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    """No face_access or plate_gate on this hub: no terminals or gates, the rest plays."""
    sim = simulator(hub)
    assert not sim.terminals
    assert not sim.isapi_terminals
    assert not sim.gates
    caplog.set_level(logging.INFO, logger="linli_demo")
    cars = sim.devices["people_counter/car-park"].count
    response = await hub.services.async_call(
        "demo", "scenario", {"name": "visitor_car_arrives"}, return_response=True
    )
    assert response == {"scenario": "visitor_car_arrives", "steps": 3, "skipped": 1}
    response = await hub.services.async_call(
        "demo", "scenario", {"name": "tailgating_at_the_door"}, return_response=True
    )
    assert response == {"scenario": "tailgating_at_the_door", "steps": 1, "skipped": 2}
    assert any("step skipped" in r.getMessage() for r in caplog.records)
    await until(lambda: value(hub, eid(hub, "people_counter/car-park/count")) == cars + 1)
