"""The entity model's core: adding, states, registries, services, removal."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from linli.clock import FakeClock
from linli.context import Context
from linli.entity import (
    BinarySensorEntity,
    DeviceInfo,
    Entity,
    SensorEntity,
    SensorStateClass,
    SwitchEntity,
    async_add_entities,
    async_remove_entity,
    async_remove_platform,
    get_entity,
)
from linli.exceptions import ServiceValidationError
from linli.hub import Hub

TREE: list[dict[str, Any]] = [
    {
        "id": "b3",
        "kind": "building",
        "name": "3号楼",
        "children": [{"id": "b3-u1", "kind": "unit", "name": "1单元", "floors": {"to": 2}}],
    },
    {"id": "east-gate", "kind": "zone", "name": "东门"},
]


@pytest.fixture
def tree(hub: Hub) -> Hub:
    hub.registries.areas.async_sync_from_config("幸福里", TREE)
    return hub


class Meter(SensorEntity):
    """A power meter reading, pushed by its device."""

    device_class = "power"
    native_unit_of_measurement = "W"
    state_class = SensorStateClass.MEASUREMENT
    has_entity_name = True

    def __init__(self, meter_id: str, area: str | None = None) -> None:
        self.unique_id = f"{meter_id}-power"
        self.name = "Power"
        self.device_info = DeviceInfo(
            identifiers={("meters", meter_id)},
            name=f"Meter {meter_id}",
            manufacturer="Acme",
            model="M1",
            suggested_area=area,
        )
        self.events: list[str] = []

    async def async_added_to_hub(self) -> None:
        self.events.append("added")

    async def async_will_remove_from_hub(self) -> None:
        self.events.append("removed")


class Plug(SwitchEntity):
    """A smart plug the hub switches."""

    def __init__(self, unique_id: str, name: str, area: str | None = None) -> None:
        self.unique_id = unique_id
        self.name = name
        self._attr_is_on = False
        self.calls: list[tuple[str, dict[str, Any]]] = []
        if area is not None:
            self.device_info = {"identifiers": {("plugs", unique_id)}, "suggested_area": area}

    async def async_turn_on(self, **kwargs: Any) -> None:
        self.calls.append(("on", kwargs))
        self._attr_is_on = True
        self.async_write_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self.calls.append(("off", kwargs))
        self._attr_is_on = False
        self.async_write_state()


async def test_sensor_registers_device_and_entity_and_writes_state(tree: Hub) -> None:
    hub = tree
    meter = Meter("m-1201", area="b3-u1-f2")
    await async_add_entities(hub, "meters", [meter])

    assert meter.entity_id == "sensor.meter_m_1201_power"
    state = hub.states.get("sensor.meter_m_1201_power")
    assert state is not None
    assert state.state == "unknown"
    assert dict(state.attributes) == {
        "state_class": "measurement",
        "unit_of_measurement": "W",
        "friendly_name": "Meter m-1201 Power",
        "device_class": "power",
    }
    device = hub.registries.devices.async_get_device(identifiers=[("meters", "m-1201")])
    assert device is not None
    assert (device.integration, device.name, device.manufacturer, device.model) == (
        "meters",
        "Meter m-1201",
        "Acme",
        "M1",
    )
    assert device.area_id == "b3-u1-f2"
    entry = hub.registries.entities.async_get("sensor.meter_m_1201_power")
    assert entry is not None
    assert (entry.platform, entry.unique_id, entry.device_id) == (
        "meters",
        "m-1201-power",
        device.id,
    )
    assert hub.registries.entities.effective_area_id(entry.entity_id) == "b3-u1-f2"
    assert meter.events == ["added"]
    assert get_entity(hub, "sensor.meter_m_1201_power") is meter

    meter._attr_native_value = 1200.5
    meter.async_write_state()
    state = hub.states.get("sensor.meter_m_1201_power")
    assert state is not None
    assert state.state == "1200.5"


async def test_entity_id_is_kept_across_restarts(hub_factory: Any, tmp_path: Any) -> None:
    config_dir = tmp_path / "restart"
    hub = await hub_factory(config_dir)
    await async_add_entities(hub, "meters", [Meter("a")])
    hub.registries.entities.async_update_entity(
        "sensor.meter_a_power", new_entity_id="sensor.kitchen_power"
    )
    await hub.async_block_till_done()
    assert hub.states.get("sensor.kitchen_power") is not None
    assert hub.states.get("sensor.meter_a_power") is None
    await hub.async_stop()

    again = await hub_factory(config_dir)
    meter = Meter("a")
    await async_add_entities(again, "meters", [meter])
    assert meter.entity_id == "sensor.kitchen_power"
    assert again.states.get("sensor.kitchen_power") is not None


async def test_binary_sensor_and_unavailable(hub: Hub) -> None:
    class Door(BinarySensorEntity):
        device_class = "door"

    door = Door()
    door.name = "Front door"
    await async_add_entities(hub, "doors", [door])
    assert door.entity_id == "binary_sensor.front_door"
    assert hub.registries.entities.async_get("binary_sensor.front_door") is None  # no unique_id
    state = hub.states.get("binary_sensor.front_door")
    assert state is not None
    assert state.state == "unknown"

    door._attr_is_on = True
    door._attr_extra_state_attributes = {"battery": 80}
    door.async_write_state()
    state = hub.states.get("binary_sensor.front_door")
    assert state is not None
    assert state.state == "on"
    assert state.attributes["battery"] == 80

    door._attr_available = False
    door.async_write_state()
    state = hub.states.get("binary_sensor.front_door")
    assert state is not None
    assert state.state == "unavailable"
    assert "battery" not in state.attributes  # extra attributes only while available
    assert state.attributes["friendly_name"] == "Front door"

    door._attr_available = True
    door._attr_is_on = False
    door.async_write_state()
    state = hub.states.get("binary_sensor.front_door")
    assert state is not None
    assert state.state == "off"


async def test_generated_entity_ids_do_not_collide(hub: Hub) -> None:
    first, second = BinarySensorEntity(), BinarySensorEntity()
    first.name = second.name = "Motion"
    hub.states.async_set("binary_sensor.motion_2", "off")  # someone else's state
    await async_add_entities(hub, "x", [first, second])
    assert (first.entity_id, second.entity_id) == (
        "binary_sensor.motion",
        "binary_sensor.motion_3",
    )
    chinese = SensorEntity()
    chinese.name = "电梯楼层"
    await async_add_entities(hub, "lift", [chinese])
    assert chinese.entity_id == "sensor.sensor"


async def test_duplicate_unique_id_is_logged_and_skipped(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = Plug("p1", "Plug"), Plug("p1", "Plug again")
    with caplog.at_level(logging.ERROR):
        await async_add_entities(hub, "plugs", [first, second])
    assert first.entity_id == "switch.plug"
    assert second.hub is None
    assert "second entity with the id switch.plug" in caplog.text
    assert hub.states.async_entity_ids("switch") == ["switch.plug"]


async def test_switch_services_reach_entities_by_id_area_and_all(tree: Hub) -> None:
    hub = tree
    hall = Plug("hall", "Hall light", area="b3-u1-f1")
    stairs = Plug("stairs", "Stairs light", area="b3-u1-f2")
    gate = Plug("gate", "Gate light", area="east-gate")
    await async_add_entities(hub, "plugs", [hall, stairs, gate])
    assert hub.services.has_service("switch", "turn_on")
    assert hub.services.has_service("switch", "toggle")

    await hub.services.async_call("switch", "turn_on", {"entity_id": "switch.hall_light"})
    assert hub.states.is_state("switch.hall_light", "on")
    assert hub.states.is_state("switch.stairs_light", "off")

    # The building's target reaches every floor below it, and only those.
    await hub.services.async_call("switch", "toggle", {"area_id": "b3"})
    assert hub.states.is_state("switch.hall_light", "off")
    assert hub.states.is_state("switch.stairs_light", "on")
    assert hub.states.is_state("switch.gate_light", "off")
    assert gate.calls == []

    await hub.services.async_call("switch", "turn_on", {"target": {"entity_id": "all"}})
    assert [hub.states.get(e).state for e in ("switch.hall_light", "switch.gate_light")] == [  # type: ignore[union-attr]
        "on",
        "on",
    ]
    await hub.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.gate_light", "area_id": ["b3-u1-f1"]}
    )
    assert hub.states.is_state("switch.gate_light", "off")
    assert hub.states.is_state("switch.hall_light", "off")
    assert hub.states.is_state("switch.stairs_light", "on")


async def test_service_carries_context_and_needs_a_target(hub: Hub, clock: FakeClock) -> None:
    plug = Plug("p", "Plug")
    await async_add_entities(hub, "plugs", [plug])
    context = Context(user_id=None)
    await hub.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.plug"}, context=context
    )
    state = hub.states.get("switch.plug")
    assert state is not None
    assert state.context is context

    with pytest.raises(ServiceValidationError, match="at least one of entity_id"):
        await hub.services.async_call("switch", "turn_on", {})
    with pytest.raises(ServiceValidationError):
        await hub.services.async_call("switch", "turn_on", {"entity_id": "not an id"})

    # A write long after the call is no longer attributed to it.
    clock.advance(10)
    plug._attr_is_on = False
    plug.async_write_state()
    state = hub.states.get("switch.plug")
    assert state is not None
    assert state.context is not context


async def test_unavailable_and_missing_entities_are_skipped(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    plug = Plug("p", "Plug")
    await async_add_entities(hub, "plugs", [plug])
    plug._attr_available = False
    plug.async_write_state()
    with caplog.at_level(logging.WARNING):
        await hub.services.async_call(
            "switch", "turn_on", {"entity_id": ["switch.plug", "switch.nowhere"]}
        )
    assert plug.calls == []
    assert "switch.plug, switch.nowhere are missing or not currently available" in caplog.text


async def test_disabled_entries_get_no_state_until_enabled(hub: Hub) -> None:
    class Hidden(Meter):
        entity_registry_enabled_default = False

    hidden = Hidden("h")
    await async_add_entities(hub, "meters", [hidden])
    entry = hub.registries.entities.async_get("sensor.meter_h_power")
    assert entry is not None
    assert entry.disabled_by == "integration"
    assert hub.states.get("sensor.meter_h_power") is None
    assert hidden.events == []
    hidden.async_write_state()  # harmless while disabled
    assert hub.states.get("sensor.meter_h_power") is None

    hub.registries.entities.async_update_entity("sensor.meter_h_power", disabled_by=None)
    await hub.async_block_till_done()
    assert hub.states.get("sensor.meter_h_power") is not None
    assert hidden.events == ["added"]

    hub.registries.entities.async_update_entity("sensor.meter_h_power", disabled_by="user")
    await hub.async_block_till_done()
    assert hub.states.get("sensor.meter_h_power") is None
    assert hidden.events == ["added", "removed"]
    assert get_entity(hub, "sensor.meter_h_power") is None


async def test_user_disabled_entity_is_not_controlled(hub: Hub) -> None:
    plug = Plug("p", "Plug")
    await async_add_entities(hub, "plugs", [plug])
    hub.registries.entities.async_update_entity("switch.plug", disabled_by="user")
    await hub.async_block_till_done()
    await hub.services.async_call("switch", "turn_on", {"entity_id": "all"})
    assert plug.calls == []
    assert hub.states.get("switch.plug") is None


async def test_registry_name_and_icon_override(hub: Hub) -> None:
    meter = Meter("n")
    await async_add_entities(hub, "meters", [meter])
    hub.registries.entities.async_update_entity(
        "sensor.meter_n_power", name="厨房功率", icon="mdi:flash"
    )
    await hub.async_block_till_done()
    state = hub.states.get("sensor.meter_n_power")
    assert state is not None
    assert state.attributes["friendly_name"] == "厨房功率"
    assert state.attributes["icon"] == "mdi:flash"

    device = hub.registries.devices.async_get_device(identifiers=[("meters", "n")])
    assert device is not None
    hub.registries.entities.async_update_entity("sensor.meter_n_power", name=None)
    hub.registries.devices.async_update(device.id, name_by_user="Kitchen meter")
    await hub.async_block_till_done()
    state = hub.states.get("sensor.meter_n_power")
    assert state is not None
    assert state.attributes["friendly_name"] == "Kitchen meter Power"


async def test_remove_entity_runs_hook_removes_state_and_services_skip_it(hub: Hub) -> None:
    meter = Meter("r")
    plug = Plug("p", "Plug")
    await async_add_entities(hub, "meters", [meter])
    await async_add_entities(hub, "plugs", [plug])

    await async_remove_entity(hub, "sensor.meter_r_power")
    assert meter.events == ["added", "removed"]
    assert hub.states.get("sensor.meter_r_power") is None
    assert get_entity(hub, "sensor.meter_r_power") is None
    assert "sensor.meter_r_power" in hub.registries.entities  # the entry keeps its id
    meter._attr_native_value = 5
    meter.async_write_state()  # a late write after removal writes nothing
    assert hub.states.get("sensor.meter_r_power") is None

    await async_remove_entity(hub, "switch.plug", remove_from_registry=True)
    assert "switch.plug" not in hub.registries.entities
    await hub.services.async_call("switch", "turn_on", {"entity_id": "switch.plug"})
    assert plug.calls == []
    await async_remove_entity(hub, "switch.never_was")  # harmless

    # Re-adding the same object after removal works.
    await async_add_entities(hub, "meters", [meter])
    assert hub.states.get("sensor.meter_r_power") is not None


async def test_removing_from_registry_or_device_removes_the_entity(hub: Hub) -> None:
    meter = Meter("d")
    await async_add_entities(hub, "meters", [meter])
    device = hub.registries.devices.async_get_device(identifiers=[("meters", "d")])
    assert device is not None
    hub.registries.devices.async_remove(device.id)
    await hub.async_block_till_done()
    assert hub.states.get("sensor.meter_d_power") is None
    assert meter.events == ["added", "removed"]


async def test_remove_platform_and_hook_errors(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(SwitchEntity):
        async def async_added_to_hub(self) -> None:
            raise RuntimeError("cannot subscribe")

    broken = Broken()
    broken.name = "Broken"
    plugs = [Plug("a", "A"), Plug("b", "B")]
    with caplog.at_level(logging.ERROR):
        await async_add_entities(hub, "plugs", [*plugs, broken])
    assert "Error adding switch.broken" in caplog.text
    assert hub.states.get("switch.broken") is None
    assert await async_remove_platform(hub, "plugs") == 2
    assert hub.states.async_entity_ids("switch") == []


async def test_entity_written_before_added_raises(hub: Hub) -> None:
    with pytest.raises(RuntimeError, match="not added"):
        Entity().async_write_state()


async def test_entity_ids_from_device_names_or_unique_ids(hub: Hub) -> None:
    latin = Meter("b3-101")
    chinese = [Meter("b3-201"), Meter("b3-202")]
    for meter in chinese:
        meter.device_info["name"] = "3号楼 电表"  # the same name, no Latin letters
    await async_add_entities(hub, "meters", [latin, *chinese])
    # "Meter b3-101 Power" makes an id; a Chinese device name does not, so the unique id
    # tells the meters apart instead of "sensor.power", "sensor.power_2" …
    assert latin.entity_id == "sensor.meter_b3_101_power"
    assert [meter.entity_id for meter in chinese] == [
        "sensor.b3_201_power",
        "sensor.b3_202_power",
    ]
    assert hub.states.get("sensor.b3_201_power").attributes["friendly_name"] == "3号楼 电表 Power"
