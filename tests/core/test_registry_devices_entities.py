"""Behaviour of the device and entity registries, alone and together."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from linli.bus import Event
from linli.callback import callback
from linli.clock import FakeClock
from linli.exceptions import RegistryError
from linli.hub import Hub
from linli.registry.devices import EVENT_DEVICE_REGISTRY_UPDATED, DeviceRegistry
from linli.registry.entities import (
    EVENT_ENTITY_REGISTRY_UPDATED,
    EntityRegistry,
    slugify_object_id,
)

HubFactory = Callable[..., Awaitable[Hub]]

TREE: list[dict[str, Any]] = [
    {
        "id": "b3",
        "kind": "building",
        "name": "3号楼",
        "children": [{"id": "b3-u1", "kind": "unit", "name": "1单元", "floors": {"to": 2}}],
    },
    {"id": "east-gate", "kind": "zone", "name": "东门"},
]


def _capture(hub: Hub, event_type: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    @callback
    def listener(event: Event[Any]) -> None:
        seen.append(dict(event.data))

    hub.bus.async_listen(event_type, listener)
    return seen


@pytest.fixture
def devices(hub: Hub) -> DeviceRegistry:
    hub.registries.areas.async_sync_from_config("幸福里", TREE)
    return hub.registries.devices


@pytest.fixture
def entities(hub: Hub, devices: DeviceRegistry) -> EntityRegistry:
    return hub.registries.entities


# --------------------------------------------------------------------------- devices


async def test_get_or_create_finds_the_same_device_again(
    hub: Hub, devices: DeviceRegistry, clock: FakeClock
) -> None:
    events = _capture(hub, EVENT_DEVICE_REGISTRY_UPDATED)
    first = devices.async_get_or_create(
        "hikvision",
        identifiers={("hikvision", "DS-K1T671-123")},
        manufacturer="Hikvision",
        model="DS-K1T671",
        name="东门人脸机",
        sw_version="1.0",
        area_id="east-gate",
    )
    clock.advance(60)
    again = devices.async_get_or_create(
        "hikvision",
        identifiers={("hikvision", "DS-K1T671-123")},
        sw_version="1.1",
        area_id="b3",  # only a suggestion for new devices: the user's choice stays
    )

    assert again.id == first.id
    assert re.fullmatch(r"[0-9a-f]{32}", first.id)
    assert again.sw_version == "1.1"
    assert again.model == "DS-K1T671"  # fields not given are kept
    assert again.area_id == "east-gate"
    assert again.created_at == first.created_at
    assert again.modified_at > first.modified_at
    assert len(devices) == 1
    assert events == [
        {"action": "create", "id": first.id, "changes": {}},
        {"action": "update", "id": first.id, "changes": {"sw_version": "1.0"}},
    ]


async def test_devices_match_by_connection_and_merge_identifiers(
    devices: DeviceRegistry,
) -> None:
    first = devices.async_get_or_create("mqtt", connections=[("mac", "AA-BB-CC-DD-EE-FF")])
    assert first.connections == frozenset({("mac", "aa:bb:cc:dd:ee:ff")})

    merged = devices.async_get_or_create(
        "mqtt",
        identifiers=[("mqtt", "gate-7")],
        connections=[("mac", "aa:bb:cc:dd:ee:ff")],
    )
    assert merged.id == first.id
    assert merged.identifiers == frozenset({("mqtt", "gate-7")})
    assert devices.async_get_device(identifiers=[("mqtt", "gate-7")]) == merged
    assert devices.async_get_device(connections=[("mac", "AABBCCDDEEFF")]) == merged
    assert devices.async_get_device(identifiers=[("mqtt", "other")]) is None


async def test_device_validation(devices: DeviceRegistry) -> None:
    with pytest.raises(RegistryError, match="at least one identifier or connection"):
        devices.async_get_or_create("demo")
    with pytest.raises(RegistryError, match="area 'b9' does not exist"):
        devices.async_get_or_create("demo", identifiers={("demo", "1")}, area_id="b9")
    with pytest.raises(RegistryError, match="disabled_by must be one of"):
        devices.async_get_or_create("demo", identifiers={("demo", "1")}, disabled_by="admin")
    with pytest.raises(RegistryError, match="pairs of strings"):
        devices.async_get_or_create("demo", identifiers={("demo",)})  # type: ignore[arg-type]
    with pytest.raises(RegistryError, match="via device 'nope' does not exist"):
        devices.async_get_or_create("demo", identifiers={("demo", "1")}, via_device_id="nope")
    assert len(devices) == 0


async def test_update_device_user_fields_and_identifier_clash(devices: DeviceRegistry) -> None:
    one = devices.async_get_or_create("demo", identifiers={("demo", "1")}, name="Gate")
    two = devices.async_get_or_create("demo", identifiers={("demo", "2")})

    updated = devices.async_update(one.id, name_by_user="东门闸机", area_id="east-gate")
    assert updated.display_name == "东门闸机"
    assert devices.devices_in_area("east-gate") == [updated]

    disabled = devices.async_update(one.id, disabled_by="user")
    assert disabled.disabled
    assert not devices.async_update(one.id, disabled_by=None).disabled

    with pytest.raises(RegistryError, match="already belongs to device"):
        devices.async_update(two.id, identifiers=[("demo", "1")])
    with pytest.raises(RegistryError, match="cannot be connected via itself"):
        devices.async_update(two.id, via_device_id=two.id)
    with pytest.raises(RegistryError, match="unknown device"):
        devices.async_update("missing", name="x")


async def test_removing_a_gateway_unlinks_devices_behind_it(devices: DeviceRegistry) -> None:
    gateway = devices.async_get_or_create("zigbee", identifiers={("zigbee", "coordinator")})
    sensor = devices.async_get_or_create(
        "zigbee", identifiers={("zigbee", "0x1")}, via_device_id=gateway.id
    )
    assert sensor.via_device_id == gateway.id

    devices.async_remove(gateway.id)

    assert devices.async_get(gateway.id) is None
    assert devices.async_get(sensor.id).via_device_id is None  # type: ignore[union-attr]
    assert devices.async_get_device(identifiers=[("zigbee", "coordinator")]) is None


# --------------------------------------------------------------------------- entities


async def test_entity_ids_are_generated_from_names_or_unique_id(entities: EntityRegistry) -> None:
    by_suggestion = entities.async_get_or_create(
        "sensor", "demo", "t1", suggested_object_id="Gate 3 Temperature"
    )
    by_name = entities.async_get_or_create("sensor", "demo", "t2", original_name="Café Humidity")
    chinese = entities.async_get_or_create("sensor", "demo", "t3", original_name="3号楼温度")
    long_uid = entities.async_get_or_create(
        "lock", "hikvision", "DS-K1T671-0123456789ABCDEF", original_name="东门门锁"
    )
    clash = entities.async_get_or_create("sensor", "other", "x", original_name="Gate 3 temperature")

    assert by_suggestion.entity_id == "sensor.gate_3_temperature"
    assert by_name.entity_id == "sensor.cafe_humidity"
    assert chinese.entity_id == "sensor.demo_t3"
    assert long_uid.entity_id.startswith("lock.hikvision_")
    assert len(long_uid.entity_id) == len("lock.hikvision_") + 8
    assert clash.entity_id == "sensor.gate_3_temperature_2"
    assert chinese.original_name == "3号楼温度"
    assert (chinese.domain, chinese.platform) == ("sensor", "demo")


def test_slugify_object_id() -> None:
    assert slugify_object_id("  Hello -- World!  ") == "hello_world"
    assert slugify_object_id("3号楼") is None
    assert slugify_object_id("***") is None


async def test_entity_id_of_an_unregistered_state_is_not_reused(
    hub: Hub, entities: EntityRegistry
) -> None:
    hub.states.async_set("switch.pump", "on")
    entry = entities.async_get_or_create("switch", "demo", "p", suggested_object_id="pump")
    assert entry.entity_id == "switch.pump_2"


async def test_known_unique_id_returns_the_same_entry(
    hub: Hub, entities: EntityRegistry, devices: DeviceRegistry
) -> None:
    events = _capture(hub, EVENT_ENTITY_REGISTRY_UPDATED)
    device = devices.async_get_or_create("demo", identifiers={("demo", "meter")})
    first = entities.async_get_or_create("sensor", "demo", "m1", original_name="Water")
    entities.async_update_entity(first.entity_id, name="用水量", new_entity_id="sensor.water_use")

    again = entities.async_get_or_create(
        "sensor", "demo", "m1", original_name="Water Meter", device_id=device.id
    )

    assert again.entity_id == "sensor.water_use"  # the user's rename stays
    assert again.name == "用水量"
    assert again.original_name == "Water Meter"
    assert again.device_id == device.id
    assert entities.async_get_entity_id("sensor", "demo", "m1") == "sensor.water_use"
    assert entities.async_get_entity_id("sensor", "other", "m1") is None
    assert [e["action"] for e in events] == ["create", "update", "update"]
    assert events[1]["old_entity_id"] == "sensor.water"
    assert events[1]["changes"] == {"entity_id": "sensor.water", "name": None}


async def test_rename_validation(entities: EntityRegistry, hub: Hub) -> None:
    a = entities.async_get_or_create("light", "demo", "a", suggested_object_id="hall")
    entities.async_get_or_create("light", "demo", "b", suggested_object_id="porch")
    hub.states.async_set("light.garden", "off")

    with pytest.raises(RegistryError, match=r"invalid entity_id 'light\.Bad'"):
        entities.async_update_entity(a.entity_id, new_entity_id="light.Bad")
    with pytest.raises(RegistryError, match="must keep the domain 'light'"):
        entities.async_update_entity(a.entity_id, new_entity_id="switch.hall")
    with pytest.raises(RegistryError, match=r"'light\.porch' is already taken"):
        entities.async_update_entity(a.entity_id, new_entity_id="light.porch")
    with pytest.raises(RegistryError, match=r"'light\.garden' is already taken"):
        entities.async_update_entity(a.entity_id, new_entity_id="light.garden")
    assert entities.async_get("light.hall") == a

    renamed = entities.async_update_entity(a.entity_id, new_entity_id="light.hallway")
    assert entities.async_get("light.hall") is None
    assert entities.async_get("light.hallway") == renamed
    assert entities.async_get_entity_id("light", "demo", "a") == "light.hallway"


async def test_disabled_and_hidden(entities: EntityRegistry) -> None:
    entry = entities.async_get_or_create("sensor", "demo", "d", disabled_by="integration")
    assert entry.disabled
    assert not entry.hidden
    entry = entities.async_update_entity(entry.entity_id, disabled_by=None, hidden_by="user")
    assert not entry.disabled
    assert entry.hidden
    with pytest.raises(RegistryError, match="disabled_by must be one of"):
        entities.async_update_entity(entry.entity_id, disabled_by="nobody")


async def test_effective_area_and_area_queries(
    entities: EntityRegistry, devices: DeviceRegistry
) -> None:
    meter = devices.async_get_or_create("demo", identifiers={("demo", "m")}, area_id="b3-u1-f2")
    on_device = entities.async_get_or_create("sensor", "demo", "flow", device_id=meter.id)
    own_area = entities.async_get_or_create(
        "sensor", "demo", "temp", device_id=meter.id, area_id="east-gate"
    )
    loose = entities.async_get_or_create("sensor", "demo", "loose")

    assert entities.effective_area_id(on_device.entity_id) == "b3-u1-f2"
    assert entities.effective_area_id(own_area.entity_id) == "east-gate"
    assert entities.effective_area_id(loose.entity_id) is None
    assert entities.entities_in_area("b3-u1-f2") == [on_device]
    assert entities.entities_in_area("b3") == []
    assert entities.entities_in_area("b3", include_descendants=True) == [on_device]
    assert entities.entities_in_area("community", include_descendants=True) == [
        on_device,
        own_area,
    ]
    assert entities.entities_for_device(meter.id) == [on_device, own_area]

    devices.async_update(meter.id, area_id="b3-u1-f1")  # entities follow their device
    assert entities.effective_area_id(on_device.entity_id) == "b3-u1-f1"
    with pytest.raises(RegistryError, match="unknown entity"):
        entities.effective_area_id("sensor.nope")


async def test_removing_a_device_removes_its_entities(
    hub: Hub, entities: EntityRegistry, devices: DeviceRegistry
) -> None:
    device = devices.async_get_or_create("demo", identifiers={("demo", "d")})
    a = entities.async_get_or_create("sensor", "demo", "a", device_id=device.id)
    b = entities.async_get_or_create("sensor", "demo", "b", device_id=device.id)
    other = entities.async_get_or_create("sensor", "demo", "c")
    events = _capture(hub, EVENT_ENTITY_REGISTRY_UPDATED)

    devices.async_remove(device.id)

    assert entities.async_get(a.entity_id) is None
    assert entities.async_get(b.entity_id) is None
    assert entities.async_get_entity_id("sensor", "demo", "a") is None
    assert entities.async_get(other.entity_id) == other
    assert entities.entities_for_device(device.id) == []
    assert sorted(e["entity_id"] for e in events if e["action"] == "remove") == sorted(
        [a.entity_id, b.entity_id]
    )


async def test_deleting_an_area_clears_it_from_devices_and_entities(
    hub: Hub, entities: EntityRegistry, devices: DeviceRegistry
) -> None:
    areas = hub.registries.areas
    zone = areas.async_create("zone", "快递柜", id="lockers")
    device = devices.async_get_or_create("demo", identifiers={("demo", "l")}, area_id="lockers")
    entity = entities.async_get_or_create("sensor", "demo", "l", area_id="lockers")

    areas.async_delete(zone.id)

    assert devices.async_get(device.id).area_id is None  # type: ignore[union-attr]
    assert entities.async_get(entity.entity_id).area_id is None  # type: ignore[union-attr]


async def test_entity_references_are_validated(entities: EntityRegistry) -> None:
    with pytest.raises(RegistryError, match="area 'b9' does not exist"):
        entities.async_get_or_create("sensor", "demo", "x", area_id="b9")
    with pytest.raises(RegistryError, match="device 'nope' does not exist"):
        entities.async_get_or_create("sensor", "demo", "x", device_id="nope")
    with pytest.raises(RegistryError, match="invalid entity domain"):
        entities.async_get_or_create("Sensor", "demo", "x")
    with pytest.raises(RegistryError, match="unique_id must be a non-empty string"):
        entities.async_get_or_create("sensor", "demo", "")
    assert len(entities) == 0


async def test_remove_entity(hub: Hub, entities: EntityRegistry) -> None:
    entry = entities.async_get_or_create("sensor", "demo", "x")
    entities.async_remove(entry.entity_id)
    assert entities.async_get(entry.entity_id) is None
    assert entities.async_get_entity_id("sensor", "demo", "x") is None
    with pytest.raises(RegistryError, match="unknown entity"):
        entities.async_remove(entry.entity_id)
    # Registering again makes a fresh entry with the freed entity_id.
    assert entities.async_get_or_create("sensor", "demo", "x").entity_id == entry.entity_id


# --------------------------------------------------------------------------- persistence


async def test_devices_and_entities_survive_a_restart(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    hub = await hub_factory(config)
    hub.registries.areas.async_sync_from_config("幸福里", TREE)
    devices, entities = hub.registries.devices, hub.registries.entities
    gateway = devices.async_get_or_create(
        "demo",
        identifiers={("demo", "gw")},
        connections={("mac", "aa:bb:cc:dd:ee:01")},
        manufacturer="Acme",
        name="网关",
        area_id="b3",
    )
    sensor = devices.async_get_or_create(
        "demo", identifiers={("demo", "s1")}, via_device_id=gateway.id
    )
    devices.async_update(sensor.id, name_by_user="走廊传感器", disabled_by="user")
    entry = entities.async_get_or_create(
        "sensor",
        "demo",
        "s1-temp",
        device_id=sensor.id,
        original_name="Temperature",
        unit_of_measurement="°C",
    )
    entities.async_update_entity(
        entry.entity_id, new_entity_id="sensor.corridor_temp", area_id="b3-u1-f1", name="走廊温度"
    )
    devices_before = {d.id: d for d in devices}
    entities_before = {e.entity_id: e for e in entities}
    await hub.async_stop()

    again = await hub_factory(config)
    assert {d.id: d for d in again.registries.devices} == devices_before
    assert {e.entity_id: e for e in again.registries.entities} == entities_before
    reloaded = again.registries.entities
    assert reloaded.async_get_entity_id("sensor", "demo", "s1-temp") == "sensor.corridor_temp"
    assert reloaded.entities_for_device(sensor.id)[0].name == "走廊温度"
    assert (
        again.registries.devices.async_get_device(connections=[("mac", "AA:BB:CC:DD:EE:01")])
        == devices_before[gateway.id]
    )
    # Registering the same unique_id after the restart finds the stored entry.
    assert (
        reloaded.async_get_or_create("sensor", "demo", "s1-temp").entity_id
        == "sensor.corridor_temp"
    )
