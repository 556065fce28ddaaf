"""Linli's device topics end to end: a device's own MQTT client, the shared Mosquitto, a hub.

The shared broker comes from ``mqtt_broker`` (conftest: skipped when down, failing under
LINLI_REQUIRE_SERVICES=1); hubs start from a configuration.yaml through the real bootstrap.

Each test uses its own topic prefix (``linli_test/<uuid>/linli``) and clears what it retained.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

import linli_mqtt
from linli import Hub, ServiceValidationError, callback
from linli.bootstrap import async_setup_hub
from linli.entity import get_entity
from linli_mqtt.devices import (
    DeviceKind,
    DeviceMessage,
    SensorField,
    async_register_device_kind,
    async_send_command,
    devices_diagnostics,
    field_entities,
)


@pytest.fixture
def prefix() -> str:
    """This test's own device topic prefix."""
    return f"linli_test/{uuid.uuid4().hex}/linli"


class Device:
    """A device's side: its own paho client (its network thread), publishing and listening."""

    def __init__(self, broker: tuple[str, int], prefix: str) -> None:
        self.prefix = prefix
        self.retained: set[str] = set()
        self.received: list[tuple[str, bytes]] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex}")
        self.client.on_message = lambda _c, _u, msg: self.received.append(
            (msg.topic, bytes(msg.payload))
        )
        self.client.connect(*broker)
        self.client.loop_start()

    async def publish(
        self, topic: str, payload: bytes | str | dict[str, Any], retain: bool = False
    ) -> None:
        """Publish under the prefix (``topic`` is ``<kind>/<id>/<channel>``) and wait until sent."""
        data = json.dumps(payload) if isinstance(payload, dict) else payload
        full = f"{self.prefix}/{topic}"
        info = self.client.publish(full, data, qos=1, retain=retain)
        if retain:
            self.retained.add(full)
        await asyncio.to_thread(info.wait_for_publish, 10)

    async def subscribe(self, topic: str) -> None:
        """Listen to ``<prefix>/<topic>``."""
        self.client.subscribe(f"{self.prefix}/{topic}", qos=1)
        await asyncio.sleep(0.2)

    def close(self) -> None:
        """Clear what was retained and disconnect."""
        for topic in self.retained:
            self.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(10)
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def device(mqtt_broker: tuple[str, int], prefix: str) -> Iterator[Device]:
    """A device client on the shared broker."""
    dev = Device(mqtt_broker, prefix)
    yield dev
    dev.close()


StartHub = Callable[..., Awaitable[Hub]]


@pytest.fixture
async def start_hub(
    tmp_path: Path, mqtt_broker: tuple[str, int], prefix: str
) -> AsyncIterator[StartHub]:
    """Start hubs with the mqtt integration on the shared broker; stop and check them after."""
    hubs: list[Hub] = []

    async def start(extra: str = "", config_dir: Path | None = None) -> Hub:
        config_dir = config_dir or tmp_path / "config"
        config_dir.mkdir(exist_ok=True)
        (config_dir / "configuration.yaml").write_text(
            "linli:\n  name: Test\n"
            "  areas:\n    - {kind: building, id: building_1, name: Building 1}\n"
            f"mqtt:\n  broker: {mqtt_broker[0]}\n  port: {mqtt_broker[1]}\n"
            f"  discovery_prefix: {prefix}/ha\n"
            "  birth_message: {}\n  will_message: {}\n"
            f"  devices:\n    topic_prefix: {prefix}\n    max_payload: 4096\n{extra}"
        )
        hub = await async_setup_hub(config_dir, plugins=[("mqtt", linli_mqtt)], discover=False)
        hubs.append(hub)
        assert await linli_mqtt.async_wait_for_connection(hub, 5)
        return hub

    yield start
    for hub in hubs:
        await hub.async_stop()
        assert hub.pending_timers == 0
        assert not hub.pending_task_names()


async def wait_for(predicate: Callable[[], object], within: float = 5.0) -> None:
    """Wait until ``predicate()`` is true (the broker round trip is asynchronous)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.01)


def state(hub: Hub, entity_id: str) -> str | None:
    """The state of ``entity_id`` or None."""
    found = hub.states.get(entity_id)
    return None if found is None else found.state


async def test_meter_state_makes_device_entities_and_states(
    start_hub: StartHub, device: Device
) -> None:
    hub = await start_hub()
    await device.publish(
        "meter/m-0101/state",
        {
            "v": 1,
            "ts": 1772323200000,
            "power_w": 812.5,
            "energy_kwh": 10234.1,
            "area_id": "building_1",
            "device": {"manufacturer": "Acme", "model": "DDS-1"},
        },
        retain=True,
    )
    await wait_for(lambda: state(hub, "sensor.meter_m_0101_energy") == "10234.1")
    power = hub.states.get("sensor.meter_m_0101_power")
    assert power is not None
    assert power.state == "812.5"
    assert power.attributes["unit_of_measurement"] == "W"
    assert power.attributes["device_class"] == "power"
    assert power.attributes["state_class"] == "measurement"
    assert power.attributes["friendly_name"] == "Meter m-0101 Power"

    entry = hub.registries.devices.async_get_device({("linli_mqtt", "meter/m-0101")})
    assert entry is not None
    assert (entry.name, entry.manufacturer, entry.model) == ("Meter m-0101", "Acme", "DDS-1")
    assert entry.area_id == "building_1"
    entity_entry = hub.registries.entities.async_get("sensor.meter_m_0101_power")
    assert entity_entry is not None
    assert entity_entry.unique_id == "meter/m-0101/power_w"
    assert entity_entry.device_id == entry.id

    await device.publish("meter/m-0101/state", {"v": 1, "power_w": 90})
    await wait_for(lambda: state(hub, "sensor.meter_m_0101_power") == "90")
    assert state(hub, "sensor.meter_m_0101_energy") == "10234.1"  # not in this message
    assert devices_diagnostics(hub)["accepted"] == 2
    assert devices_diagnostics(hub)["rejected_total"] == 0


async def test_retained_state_comes_back_after_a_restart(
    start_hub: StartHub, device: Device, tmp_path: Path
) -> None:
    await device.publish("people_counter/gate-n/state", {"v": 1, "count": 7}, retain=True)
    hub = await start_hub()
    await wait_for(lambda: state(hub, "sensor.people_counter_gate_n_people") == "7")
    await hub.async_stop()
    await device.publish("people_counter/gate-n/state", {"v": 1, "count": 9}, retain=True)
    again = await start_hub(config_dir=tmp_path / "config")
    await wait_for(lambda: state(again, "sensor.people_counter_gate_n_people") == "9")
    assert len(again.registries.devices) == 1  # the same device, not a second one


async def test_availability_makes_entities_unavailable_and_back(
    start_hub: StartHub, device: Device
) -> None:
    hub = await start_hub()
    await device.publish("lift/b1-l1/state", {"v": 1, "floor": 3, "door": "closed"})
    await wait_for(lambda: state(hub, "sensor.lift_b1_l1_floor") == "3")
    assert state(hub, "sensor.lift_b1_l1_door") == "closed"
    assert state(hub, "binary_sensor.lift_b1_l1_e_bike_detected") == "unknown"

    await device.publish("lift/b1-l1/availability", "offline", retain=True)
    await wait_for(lambda: state(hub, "sensor.lift_b1_l1_floor") == "unavailable")
    assert state(hub, "sensor.lift_b1_l1_door") == "unavailable"
    await device.publish("lift/b1-l1/state", {"v": 1, "floor": 5, "ebike_detected": True})
    await device.publish("lift/b1-l1/availability", "online", retain=True)
    await wait_for(lambda: state(hub, "sensor.lift_b1_l1_floor") == "5")
    assert state(hub, "binary_sensor.lift_b1_l1_e_bike_detected") == "on"


async def test_lift_events_reach_entities_and_the_bus(start_hub: StartHub, device: Device) -> None:
    hub = await start_hub()
    events: list[dict[str, Any]] = []
    hub.bus.async_listen("linli_device_event", callback(lambda event: events.append(event.data)))
    payload = {"v": 1, "id": "e-1", "event": "ebike_entered", "floor": 1, "confidence": 0.9}
    await device.publish("lift/b1-l2/event", payload)
    await device.publish("lift/b1-l2/event", payload)  # a redelivery: dropped by its id
    await device.publish("lift/b1-l2/event", {**payload, "id": "e-2", "event": "ebike_left"})
    await wait_for(lambda: len(events) == 2)
    assert events[0] == {
        "kind": "lift",
        "device_id": "b1-l2",
        "type": "ebike_entered",
        "payload": payload,
    }
    last = hub.states.get("event.lift_b1_l2_e_bike")
    assert last is not None
    assert datetime.fromisoformat(last.state) <= hub.clock.utcnow()
    assert last.attributes["event_type"] == "ebike_left"
    assert last.attributes["event_types"] == ["ebike_entered", "ebike_left"]
    assert last.attributes["confidence"] == 0.9
    assert "id" not in last.attributes
    assert devices_diagnostics(hub)["duplicates"] == 1


async def test_generic_sensor_is_described_by_its_payload(
    start_hub: StartHub, device: Device
) -> None:
    hub = await start_hub()
    await device.publish(
        "sensor/b1-t-12/state",
        {"v": 1, "value": 21.5, "unit": "°C", "device_class": "temperature"},
    )
    await wait_for(lambda: state(hub, "sensor.sensor_b1_t_12") == "21.5")
    found = hub.states.get("sensor.sensor_b1_t_12")
    assert found is not None
    assert found.attributes["unit_of_measurement"] == "°C"
    assert found.attributes["device_class"] == "temperature"


def _fuzz_messages(rng: random.Random) -> list[tuple[str, bytes, str]]:
    """(topic under the prefix, payload, the reason expected) for every kind of bad message."""
    messages: list[tuple[str, bytes, str]] = []
    for _ in range(40):
        junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
        try:
            json.loads(junk)
        except ValueError:
            try:
                junk.decode()
            except UnicodeDecodeError:
                messages.append(("meter/fz-1/state", junk, "not_utf8"))
            else:
                messages.append(("meter/fz-1/state", junk, "invalid_json"))
    not_numbers: list[Any] = [None, True, "12", [1], {"x": 1}]
    for value in not_numbers:  # JSON, but not a number
        for topic, field in (("meter/fz-1/state", "power_w"), ("lift/fz-2/state", "floor")):
            payload = json.dumps({"v": 1, field: value}).encode()
            messages.append((topic, payload, "invalid_payload"))
    messages.append(("lift/fz-2/state", b'{"v": 1, "floor": 1.5}', "invalid_payload"))
    not_objects: list[Any] = [None, True, 1.5, "12", [1, 2]]
    for value in not_objects:  # JSON, but not an object
        messages.append(("meter/fz-1/state", json.dumps(value).encode(), "not_object"))
    messages += [
        ("meter/fz-1/state", b'{"v": 1, "power_w": 1, "pad": "' + b"x" * 5000 + b'"}', "too_large"),
        ("meter/fz-1/state", b"x" * 1_000_000, "too_large"),
        ("meter/fz-1/state", b'{"v": 2, "power_w": 1}', "unsupported_version"),
        ("meter/fz-1/state", b'{"power_w": 1}', "unsupported_version"),
        ("meter/fz-1/state", b"", "invalid_json"),
        ("toaster/t-1/state", b'{"v": 1}', "unknown_kind"),
        ("TOASTER/t-1/state", b'{"v": 1}', "unknown_kind"),
        ("meter/bad.id/state", b'{"v": 1, "power_w": 1}', "bad_device_id"),
        ("meter/id with space/state", b'{"v": 1, "power_w": 1}', "bad_device_id"),
        ("meter/电表1/state", b'{"v": 1, "power_w": 1}', "bad_device_id"),
        ("meter/" + "a" * 65 + "/state", b'{"v": 1, "power_w": 1}', "bad_device_id"),
        ("meter/fz-1/telemetry", b'{"v": 1}', "unknown_channel"),
        ("meter/fz-1/event", b'{"v": 1, "event": "x"}', "unexpected_channel"),
        ("meter/fz-1/availability", b"maybe", "bad_availability"),
    ]
    rng.shuffle(messages)
    return messages


async def test_fuzzed_messages_are_rejected_counted_and_the_hub_keeps_serving(
    start_hub: StartHub, device: Device, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await start_hub()
    await device.publish("meter/ok-1/state", {"v": 1, "power_w": 1})
    await wait_for(lambda: state(hub, "sensor.meter_ok_1_power") == "1")
    messages = _fuzz_messages(random.Random(5))
    expected: dict[str, int] = {}
    for topic, payload, reason in messages:
        expected[reason] = expected.get(reason, 0) + 1
        await device.publish(topic, payload)
    # Valid again afterwards: the states still follow (the messages arrive in order).
    await device.publish("meter/ok-1/state", {"v": 1, "power_w": 2})
    await wait_for(lambda: state(hub, "sensor.meter_ok_1_power") == "2", within=10)

    diagnostics = devices_diagnostics(hub)
    rejected = {reason: n for reason, n in diagnostics["rejected"].items() if n}
    assert rejected == expected
    assert diagnostics["rejected_total"] == len(messages)
    assert diagnostics["accepted"] == 2
    assert diagnostics["received"] == len(messages) + 2
    # No device, entity or state came from a bad message.
    assert [d.name for d in hub.registries.devices] == ["Meter ok-1"]
    ours = [eid for eid in hub.states.async_entity_ids() if "meter" in eid or "lift" in eid]
    assert sorted(ours) == ["sensor.meter_ok_1_energy", "sensor.meter_ok_1_power"]
    # Logged with the reason, once per device and reason (not once per message).
    warnings = [r.getMessage() for r in caplog.records if "Rejected device message" in r.message]
    assert any("(invalid_payload)" in text and "power_w" in text for text in warnings)
    by_topic = {"unknown_kind", "bad_device_id"}  # no device named: the topic stands for it
    pairs = {
        (topic if reason in by_topic else "/".join(topic.split("/")[:2]), reason)
        for topic, _, reason in messages
    }
    assert len(warnings) == len(pairs) < len(messages)
    # And the rest of the hub is fine.
    await hub.services.async_call(
        "mqtt", "publish", {"topic": f"{device.prefix}/x", "payload": "1"}
    )


async def test_a_capability_integration_registers_its_kind_and_sends_commands(
    start_hub: StartHub, device: Device
) -> None:
    hub = await start_hub()
    seen: list[DeviceMessage] = []

    async def on_message(hub: Hub, message: DeviceMessage) -> None:
        seen.append(message)

    gate = DeviceKind(
        "gate",
        schemas={
            "event": {
                "type": "object",
                "required": ["plate"],
                "properties": {"plate": {"type": "string", "maxLength": 16}},
            },
            "command": {
                "type": "object",
                "required": ["action"],
                "properties": {"action": {"enum": ["open", "close"]}},
            },
        },
        on_message=on_message,
        entities=field_entities(SensorField("plate", "Last plate", channel="event")),
        name="Gate",
    )
    unregister = async_register_device_kind(hub, gate)
    with pytest.raises(ValueError, match="already registered"):
        async_register_device_kind(hub, gate)

    await device.publish("gate/north-1/event", {"v": 1, "plate": "湘A12345"})
    await device.publish("gate/north-1/event", {"v": 1, "plate": 12345})
    await wait_for(lambda: state(hub, "sensor.gate_north_1_last_plate") == "湘A12345")
    await wait_for(lambda: devices_diagnostics(hub)["rejected"]["invalid_payload"] == 1)
    assert [m.payload["plate"] for m in seen] == ["湘A12345"]
    assert seen[0].kind == "gate"
    assert seen[0].device_id == "north-1"

    await device.subscribe("gate/north-1/command")
    await async_send_command(hub, "gate", "north-1", {"action": "open"})
    await wait_for(lambda: device.received)
    topic, payload = device.received[0]
    assert topic == f"{device.prefix}/gate/north-1/command"
    assert json.loads(payload) == {"v": 1, "action": "open"}
    with pytest.raises(ServiceValidationError, match="invalid gate command"):
        await async_send_command(hub, "gate", "north-1", {"action": "explode"})
    with pytest.raises(ServiceValidationError, match="invalid device id"):
        await async_send_command(hub, "gate", "north/1", {"action": "open"})
    with pytest.raises(ServiceValidationError, match="unknown device kind"):
        await async_send_command(hub, "toaster", "t1", {})
    await wait_for(lambda: devices_diagnostics(hub)["ignored"] == 1)  # our own command

    unregister()
    await hub.async_block_till_done()
    assert hub.states.get("sensor.gate_north_1_last_plate") is None
    await device.publish("gate/north-1/event", {"v": 1, "plate": "湘B1"})
    await wait_for(lambda: devices_diagnostics(hub)["rejected"]["unknown_kind"] == 1)


async def test_private_fields_reach_the_handler_but_never_the_bus(
    start_hub: StartHub, device: Device
) -> None:
    hub = await start_hub()
    seen: list[DeviceMessage] = []
    on_bus: list[dict[str, Any]] = []
    terminal = DeviceKind(
        "door_terminal",
        schemas={
            "event": {
                "type": "object",
                "required": ["event"],
                "properties": {"event": {"type": "string"}, "template": {"type": "string"}},
            }
        },
        on_message=lambda hub, message: seen.append(message),
        private_fields=frozenset({"template", "pin"}),
    )
    async_register_device_kind(hub, terminal)

    @callback
    def listen(event: Any) -> None:
        on_bus.append(event.data)

    hub.bus.async_listen("linli_device_event", listen)
    await device.publish(
        "door_terminal/t1/event", {"v": 1, "event": "request", "template": "AAAA", "pin": "1234"}
    )
    await wait_for(lambda: bool(seen) and bool(on_bus))
    assert seen[0].payload["template"] == "AAAA"
    assert seen[0].payload["pin"] == "1234"
    assert on_bus == [
        {
            "kind": "door_terminal",
            "device_id": "t1",
            "type": "request",
            "payload": {"v": 1, "event": "request"},
        }
    ]


async def test_a_failing_handler_is_counted_and_does_not_stop_the_others(
    start_hub: StartHub, device: Device
) -> None:
    hub = await start_hub()

    def broken(hub: Hub, message: DeviceMessage) -> None:
        raise RuntimeError("bug in the bin integration")

    async_register_device_kind(
        hub, DeviceKind("bin", schemas={"state": {"type": "object"}}, on_message=broken)
    )
    await device.publish("bin/b-1/state", {"v": 1, "fill": 0.5})
    await device.publish("meter/m-1/state", {"v": 1, "power_w": 3})
    await wait_for(lambda: state(hub, "sensor.meter_m_1_power") == "3")
    assert devices_diagnostics(hub)["rejected"]["handler_error"] == 1
    # A kind without entities still gets its device registered.
    assert hub.registries.devices.async_get_device({("linli_mqtt", "bin/b-1")}) is not None


async def test_unload_removes_entities_and_stops_listening(
    start_hub: StartHub, device: Device
) -> None:
    hub = await start_hub()
    await device.publish("meter/m-2/state", {"v": 1, "power_w": 5})
    await wait_for(lambda: state(hub, "sensor.meter_m_2_power") == "5")
    assert get_entity(hub, "sensor.meter_m_2_power") is not None
    await linli_mqtt.async_unload(hub)  # what the loader calls when it unloads mqtt
    await hub.async_block_till_done()
    assert hub.states.get("sensor.meter_m_2_power") is None
    assert get_entity(hub, "sensor.meter_m_2_power") is None
    assert devices_diagnostics(hub) == {}


async def test_the_area_mapping_places_devices_and_unknown_areas_are_ignored(
    start_hub: StartHub, device: Device
) -> None:
    hub = await start_hub("    areas:\n      meter/m-7: building_1\n")
    await device.publish("meter/m-7/state", {"v": 1, "power_w": 1, "area_id": "nowhere"})
    await device.publish("meter/m-8/state", {"v": 1, "power_w": 1, "area_id": "nowhere"})
    await wait_for(lambda: state(hub, "sensor.meter_m_8_power") == "1")
    mapped = hub.registries.devices.async_get_device({("linli_mqtt", "meter/m-7")})
    unknown = hub.registries.devices.async_get_device({("linli_mqtt", "meter/m-8")})
    assert mapped is not None
    assert unknown is not None
    assert mapped.area_id == "building_1"
    assert unknown.area_id is None
