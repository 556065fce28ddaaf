"""Home Assistant MQTT discovery end to end: the shared Mosquitto, a device's own client, a hub.

Every test uses its own discovery prefix and topic base (``linli_test/<uuid>/…``); whatever a
test retained is cleared afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from linli import Hub, State
from linli.clock import FakeClock
from linli.entity import get_entity
from linli.testing.plugin import HubFactory
from linli_mqtt import testing as mqtt_testing
from linli_mqtt.discovery import discovery_diagnostics, get_discovery
from linli_mqtt.testing import (
    MqttPeer,
    PrivateMosquitto,
    async_clear_retained,
    async_setup_mqtt_hub,
    async_wait_until,
)

# The mqtt integration's fixtures (assigned, so that test parameters may share their names).
mqtt_broker = mqtt_testing.mqtt_broker
mqtt_peer = mqtt_testing.mqtt_peer
private_mosquitto = mqtt_testing.private_mosquitto

PeerFactory = Callable[..., Awaitable[MqttPeer]]
StartHub = Callable[..., Awaitable[Hub]]


class Topics:
    """This test's discovery prefix and topic base on the shared broker."""

    def __init__(self) -> None:
        self.base = f"linli_test/{uuid.uuid4().hex}"
        self.prefix = f"{self.base}/ha"

    def config(self, component: str, object_id: str, node_id: str | None = None) -> str:
        """The discovery topic of ``component`` ``[node_id/]object_id``."""
        node = f"{node_id}/" if node_id else ""
        return f"{self.prefix}/{component}/{node}{object_id}/config"

    def __call__(self, *parts: str) -> str:
        """A device topic under the base."""
        return "/".join((self.base, *parts))


@pytest.fixture
async def topics(mqtt_broker: tuple[str, int]) -> AsyncIterator[Topics]:
    """Unique topics; everything retained under them is cleared afterwards."""
    made = Topics()
    yield made
    await async_clear_retained(*mqtt_broker, f"{made.base}/#")


@pytest.fixture
async def start_hub(
    hub_factory: HubFactory,
    mqtt_broker: tuple[str, int],
    topics: Topics,
    tmp_path: Path,
) -> StartHub:
    """Start a hub with mqtt on the shared broker and this test's discovery prefix.

    ``await start_hub()`` uses one config dir for the whole test, so a second call after
    stopping the first hub is a restart.
    """

    async def start(**mqtt: Any) -> Hub:
        hub = await hub_factory(tmp_path / "config", start=False)
        config = {
            "broker": mqtt_broker[0],
            "port": mqtt_broker[1],
            "discovery_prefix": topics.prefix,
            "birth_message": {"topic": topics("linli_status"), "payload": "online"},
            "will_message": {"topic": topics("linli_status"), "payload": "offline"},
            "devices": {"topic_prefix": topics("linli")},
            **mqtt,
        }
        await async_setup_mqtt_hub(hub, config)
        return hub

    return start


async def publish_config(peer: MqttPeer, topic: str, config: dict[str, Any] | str) -> None:
    """Publish a retained discovery config."""
    payload = config if isinstance(config, str) else json.dumps(config)
    await peer.async_publish(topic, payload, retain=True)


async def wait_state(
    hub: Hub,
    entity_id: str,
    state: str | None = None,
    timeout: float = 5.0,  # noqa: ASYNC109 - polls real time for a real broker
) -> Any:
    """Wait until ``entity_id`` is discovered (subscribed to its topics) and has a state
    (``state``, when given); return the state."""

    def ready() -> bool:
        current = hub.states.get(entity_id)
        return (
            current is not None
            and (state is None or current.state == state)
            and entity_id in discovered(hub)
        )

    await async_wait_until(ready, timeout, f"{entity_id} = {state}")
    return hub.states.get(entity_id)


def state_of(hub: Hub, entity_id: str) -> State:
    """The state of ``entity_id``, which must exist."""
    state = hub.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state


def discovered(hub: Hub) -> set[str]:
    """The entity_ids discovery has added (and subscribed)."""
    return {entry["entity_id"] for entry in discovery_diagnostics(hub).get("entities", ())}


async def wait_gone(
    hub: Hub,
    entity_id: str,
    timeout: float = 5.0,  # noqa: ASYNC109 - polls real time for a real broker
) -> None:
    """Wait until ``entity_id`` has no state."""
    await async_wait_until(lambda: hub.states.get(entity_id) is None, timeout, f"{entity_id} gone")


async def settle(hub: Hub) -> None:
    """Let messages in flight arrive and be handled (real broker: a short real-time wait)."""
    await asyncio.sleep(0.2)
    await hub.async_block_till_done()


# ---------------------------------------------------------------------- sensor, device, registry
async def test_sensor_from_a_retained_config_with_its_device(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    peer = await mqtt_peer()
    await publish_config(
        peer,
        topics.config("sensor", "kitchen_temp", node_id="node-7"),
        {
            "~": topics("kitchen"),
            "name": "Temperature",
            "uniq_id": "kitchen-temp-1",
            "stat_t": "~/state",
            "val_tpl": "{{ value_json.temperature | round(1) }}",
            "json_attr_t": "~/attrs",
            "json_attr_tpl": "{{ value_json.extra | tojson }}",
            "unit_of_meas": "°C",
            "dev_cla": "temperature",
            "stat_cla": "measurement",
            "ic": "mdi:thermometer",
            "dev": {
                "ids": ["kitchen-sensor-1"],
                "cns": [["mac", "AA-BB-CC-DD-EE-01"]],
                "name": "Kitchen sensor",
                "mf": "Acme",
                "mdl": "T-1000",
                "sw": "1.2.3",
                "hw": "rev B",
                "sn": "SN42",
            },
            "o": {"name": "acme2mqtt", "sw": "0.1"},
        },
    )
    await peer.async_publish(topics("kitchen", "state"), '{"temperature": 21.456}', retain=True)
    hub = await start_hub()

    state = await wait_state(hub, "sensor.kitchen_sensor_temperature", "21.5")
    assert state.attributes == {
        "state_class": "measurement",
        "unit_of_measurement": "°C",
        "icon": "mdi:thermometer",
        "friendly_name": "Kitchen sensor Temperature",
        "device_class": "temperature",
    }
    entry = hub.registries.entities.async_get("sensor.kitchen_sensor_temperature")
    assert entry is not None
    assert (entry.platform, entry.unique_id) == ("mqtt", "kitchen-temp-1")
    device = hub.registries.devices.async_get(entry.device_id or "")
    assert device is not None
    assert device.integration == "mqtt"
    assert device.identifiers == {("mqtt", "kitchen-sensor-1")}
    assert device.connections == {("mac", "aa:bb:cc:dd:ee:01")}
    assert (device.name, device.manufacturer, device.model) == ("Kitchen sensor", "Acme", "T-1000")
    assert (device.sw_version, device.hw_version, device.serial_number) == (
        "1.2.3",
        "rev B",
        "SN42",
    )

    await peer.async_publish(topics("kitchen", "attrs"), '{"extra": {"battery": 87}}')
    await async_wait_until(
        lambda: state_of(hub, "sensor.kitchen_sensor_temperature").attributes.get("battery") == 87
    )
    await peer.async_publish(topics("kitchen", "state"), '{"temperature": 19}')
    await wait_state(hub, "sensor.kitchen_sensor_temperature", "19.0")
    diagnostics = discovery_diagnostics(hub)
    assert diagnostics["counters"]["added"] == 1
    assert diagnostics["entities"] == [
        {
            "component": "sensor",
            "discovery_id": "node-7 kitchen_temp",
            "topic": topics.config("sensor", "kitchen_temp", node_id="node-7"),
            "entity_id": "sensor.kitchen_sensor_temperature",
        }
    ]


async def test_via_device_area_and_default_entity_id(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    lobby = hub.registries.areas.async_create("building", "Lobby")
    peer = await mqtt_peer()
    await publish_config(
        peer,
        topics.config("binary_sensor", "gateway"),
        {
            "name": "Online",
            "uniq_id": "gw-online",
            "stat_t": topics("gw", "online"),
            "dev": {"ids": "gw-1", "name": "Gateway"},
        },
    )
    await wait_state(hub, "binary_sensor.gateway_online")
    await publish_config(
        peer,
        topics.config("binary_sensor", "door"),
        {
            "name": None,
            "uniq_id": "door-1",
            "def_ent_id": "binary_sensor.lobby_door",
            "stat_t": topics("door"),
            "dev_cla": "door",
            "dev": {"ids": "door-1", "name": "Lobby door", "via_device": "gw-1", "sa": "Lobby"},
        },
    )
    state = await wait_state(hub, "binary_sensor.lobby_door")
    assert state.attributes["friendly_name"] == "Lobby door"
    devices = hub.registries.devices
    door = devices.async_get_device(identifiers=[("mqtt", "door-1")])
    gateway = devices.async_get_device(identifiers=[("mqtt", "gw-1")])
    assert door is not None
    assert gateway is not None
    assert door.via_device_id == gateway.id
    assert door.area_id == lobby.id


# ---------------------------------------------------------------------- read-only components
async def test_binary_sensor_payloads_off_delay_and_expiry(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
    clock: FakeClock,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await publish_config(
        peer,
        topics.config("binary_sensor", "motion"),
        {
            "name": "Motion",
            "stat_t": topics("motion"),
            "pl_on": "1",
            "pl_off": "0",
            "off_dly": 30,
            "dev_cla": "motion",
        },
    )
    await publish_config(
        peer,
        topics.config("binary_sensor", "door"),
        {"name": "Door", "stat_t": topics("door"), "exp_aft": 60},
    )
    await wait_state(hub, "binary_sensor.motion", "unknown")
    await wait_state(hub, "binary_sensor.door", "unavailable")  # expired until a state comes

    await peer.async_publish(topics("motion"), "1")
    await wait_state(hub, "binary_sensor.motion", "on")
    await peer.async_publish(topics("motion"), "maybe")  # neither payload: ignored
    await settle(hub)
    assert state_of(hub, "binary_sensor.motion").state == "on"
    clock.advance(31)
    await wait_state(hub, "binary_sensor.motion", "off")

    await peer.async_publish(topics("door"), "ON")
    await wait_state(hub, "binary_sensor.door", "on")
    clock.advance(59)
    await hub.async_block_till_done()
    assert state_of(hub, "binary_sensor.door").state == "on"
    clock.advance(2)
    await wait_state(hub, "binary_sensor.door", "unavailable")
    await peer.async_publish(topics("door"), "OFF")
    await wait_state(hub, "binary_sensor.door", "off")


async def test_event_entity(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await publish_config(
        peer,
        topics.config("event", "doorbell"),
        {
            "name": "Doorbell",
            "uniq_id": "bell-1",
            "stat_t": topics("bell"),
            "evt_typ": ["press", "hold"],
            "dev_cla": "doorbell",
        },
    )
    state = await wait_state(hub, "event.doorbell", "unknown")
    assert state.attributes["event_types"] == ["press", "hold"]
    await peer.async_publish(topics("bell"), '{"event_type": "ring"}')  # not a listed type
    await peer.async_publish(topics("bell"), "not json")
    await peer.async_publish(topics("bell"), '{"event_type": "press", "button": "front"}')
    await async_wait_until(lambda: state_of(hub, "event.doorbell").state != "unknown")
    state = state_of(hub, "event.doorbell")
    assert state.attributes["event_type"] == "press"
    assert state.attributes["button"] == "front"


async def test_device_tracker_by_name_and_by_gps(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await publish_config(
        peer,
        topics.config("device_tracker", "wang_phone"),
        {
            "name": "Wang's phone",
            "stat_t": topics("wang", "location"),
            "json_attr_t": topics("wang", "gps"),
            "pl_home": "in",
            "pl_not_home": "out",
        },
    )
    entity_id = "device_tracker.wang_s_phone"
    await wait_state(hub, entity_id, "unknown")
    await peer.async_publish(topics("wang", "location"), "in")
    await wait_state(hub, entity_id, "home")
    await peer.async_publish(topics("wang", "location"), "out")
    await wait_state(hub, entity_id, "not_home")
    await peer.async_publish(topics("wang", "location"), "Market")
    await wait_state(hub, entity_id, "Market")
    await peer.async_publish(
        topics("wang", "gps"), '{"latitude": 10.0, "longitude": 20.0, "gps_accuracy": 5, "bat": 9}'
    )
    state = await wait_state(hub, entity_id, "not_home")  # far from any zone
    assert state.attributes["latitude"] == 10.0
    assert state.attributes["longitude"] == 20.0
    assert state.attributes["gps_accuracy"] == 5.0
    assert state.attributes["bat"] == 9
    assert state.attributes["source_type"] == "gps"


async def test_camera_images_raw_and_base64(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await publish_config(
        peer, topics.config("camera", "gate"), {"name": "Gate", "t": topics("gate", "image")}
    )
    await publish_config(
        peer,
        topics.config("camera", "lift"),
        {"name": "Lift", "t": topics("lift", "image"), "img_e": "b64"},
    )
    await wait_state(hub, "camera.gate")
    await wait_state(hub, "camera.lift")
    jpeg = b"\xff\xd8\xff\xe0 not really a jpeg \x00\xff"
    await peer.async_publish(topics("gate", "image"), jpeg)
    await peer.async_publish(topics("lift", "image"), base64.b64encode(b"lift-image"))
    gate = get_entity(hub, "camera.gate")
    lift = get_entity(hub, "camera.lift")
    assert gate is not None
    assert lift is not None
    await async_wait_until(lambda: getattr(gate, "_image", None) is not None)
    await async_wait_until(lambda: getattr(lift, "_image", None) is not None)
    await hub.services.async_call(
        "camera", "snapshot", {"entity_id": "camera.gate", "filename": "www/gate.jpg"}
    )
    assert (hub.config_dir / "www" / "gate.jpg").read_bytes() == jpeg
    assert await lift.async_camera_image() == b"lift-image"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- commanded components
async def test_switch_commands_and_state(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await peer.async_subscribe(topics("#"))
    await publish_config(
        peer,
        topics.config("switch", "pump"),
        {
            "name": "Pump",
            "uniq_id": "pump-1",
            "cmd_t": topics("pump", "set"),
            "stat_t": topics("pump", "state"),
            "pl_on": "START",
            "pl_off": "STOP",
            "stat_on": "running",
            "stat_off": "idle",
            "qos": 1,
        },
    )
    await publish_config(
        peer,
        topics.config("switch", "fan"),
        {"name": "Fan", "cmd_t": topics("fan", "set"), "cmd_tpl": '{"power": "{{ value }}"}'},
    )
    await wait_state(hub, "switch.pump", "unknown")
    await hub.services.async_call("switch", "turn_on", {"entity_id": "switch.pump"})
    await peer.async_wait_for(topics("pump", "set"))
    assert peer.payloads(topics("pump", "set")) == [b"START"]
    assert state_of(hub, "switch.pump").state == "unknown"  # not optimistic: waits for state
    await peer.async_publish(topics("pump", "state"), "running")
    await wait_state(hub, "switch.pump", "on")
    await hub.services.async_call("switch", "toggle", {"entity_id": "switch.pump"})
    await peer.async_wait_for(topics("pump", "set"), 2)
    assert peer.payloads(topics("pump", "set"))[-1] == b"STOP"
    await peer.async_publish(topics("pump", "state"), "idle")
    await wait_state(hub, "switch.pump", "off")

    # Without a state topic the switch is optimistic (assumed state).
    await hub.services.async_call("switch", "turn_on", {"entity_id": "switch.fan"})
    state = await wait_state(hub, "switch.fan", "on")
    assert state.attributes["assumed_state"] is True
    await peer.async_wait_for(topics("fan", "set"))
    assert json.loads(peer.payloads(topics("fan", "set"))[0]) == {"power": "ON"}


async def test_lock_commands_states_and_open(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await peer.async_subscribe(topics("door", "set"))
    await publish_config(
        peer,
        topics.config("lock", "front"),
        {
            "name": "Front door",
            "cmd_t": topics("door", "set"),
            "stat_t": topics("door", "state"),
            "cmd_tpl": '{"action": "{{ value }}", "code": "{{ code }}"}',
            "pl_open": "RELEASE",
            "stat_jam": "MOTOR_JAMMED",
        },
    )
    entity_id = "lock.front_door"
    await wait_state(hub, entity_id, "unknown")
    await hub.services.async_call("lock", "unlock", {"entity_id": entity_id, "code": "1234"})
    await hub.services.async_call("lock", "open", {"entity_id": entity_id})
    await hub.services.async_call("lock", "lock", {"entity_id": entity_id})
    await peer.async_wait_for(topics("door", "set"), 3)
    assert [json.loads(p) for p in peer.payloads(topics("door", "set"))] == [
        {"action": "UNLOCK", "code": "1234"},
        {"action": "RELEASE", "code": "None"},
        {"action": "LOCK", "code": "None"},
    ]
    for payload, state in (
        ("UNLOCKING", "unlocking"),
        ("UNLOCKED", "unlocked"),
        ("OPEN", "open"),
        ("LOCKING", "locking"),
        ("MOTOR_JAMMED", "jammed"),
        ("LOCKED", "locked"),
    ):
        await peer.async_publish(topics("door", "state"), payload)
        await wait_state(hub, entity_id, state)


async def test_cover_commands_positions_and_states(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await peer.async_subscribe(topics("garage", "#"))
    await publish_config(
        peer,
        topics.config("cover", "garage"),
        {
            "name": "Garage",
            "dev_cla": "garage",
            "cmd_t": topics("garage", "set"),
            "stat_t": topics("garage", "state"),
            "pos_t": topics("garage", "position"),
            "set_pos_t": topics("garage", "position", "set"),
            "pos_open": 255,
            "pos_clsd": 0,
            "pl_stop": "HALT",
        },
    )
    entity_id = "cover.garage"
    await wait_state(hub, entity_id, "unknown")
    for service, data in (
        ("open_cover", {}),
        ("stop_cover", {}),
        ("close_cover", {}),
        ("set_cover_position", {"position": 40}),
    ):
        await hub.services.async_call("cover", service, {"entity_id": entity_id, **data})
    await peer.async_wait_for(topics("garage", "set"), 3)
    assert peer.payloads(topics("garage", "set")) == [b"OPEN", b"HALT", b"CLOSE"]
    await peer.async_wait_for(topics("garage", "position", "set"))
    assert peer.payloads(topics("garage", "position", "set")) == [b"102"]  # 40 % of 0..255

    await peer.async_publish(topics("garage", "state"), "opening")
    await wait_state(hub, entity_id, "opening")
    await peer.async_publish(topics("garage", "position"), "255")
    await peer.async_publish(topics("garage", "state"), "open")
    state = await wait_state(hub, entity_id, "open")
    assert state.attributes["current_position"] == 100
    await peer.async_publish(topics("garage", "position"), "51")
    await async_wait_until(
        lambda: state_of(hub, entity_id).attributes.get("current_position") == 20
    )
    await peer.async_publish(topics("garage", "state"), "closed")
    await wait_state(hub, entity_id, "closed")


async def test_button_press(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
    clock: FakeClock,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await peer.async_subscribe(topics("restart"))
    await publish_config(
        peer,
        topics.config("button", "restart"),
        {"name": "Restart", "cmd_t": topics("restart"), "pl_prs": "REBOOT", "dev_cla": "restart"},
    )
    await wait_state(hub, "button.restart", "unknown")
    await hub.services.async_call("button", "press", {"entity_id": "button.restart"})
    await peer.async_wait_for(topics("restart"))
    assert peer.payloads(topics("restart")) == [b"REBOOT"]
    assert state_of(hub, "button.restart").state == clock.utcnow().isoformat()


async def test_siren_tones_and_json_state(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await peer.async_subscribe(topics("alarm", "set"))
    await publish_config(
        peer,
        topics.config("siren", "alarm"),
        {
            "name": "Alarm",
            "cmd_t": topics("alarm", "set"),
            "stat_t": topics("alarm", "state"),
            "av_tones": ["fire", "intruder"],
        },
    )
    entity_id = "siren.alarm"
    state = await wait_state(hub, entity_id, "unknown")
    assert state.attributes["available_tones"] == ["fire", "intruder"]
    await hub.services.async_call(
        "siren", "turn_on", {"entity_id": entity_id, "tone": "fire", "duration": 30}
    )
    await hub.services.async_call("siren", "turn_off", {"entity_id": entity_id})
    await peer.async_wait_for(topics("alarm", "set"), 2)
    first, second = peer.payloads(topics("alarm", "set"))
    assert json.loads(first) == {"state": "ON", "tone": "fire", "duration": 30}
    assert second == b"OFF"
    await peer.async_publish(topics("alarm", "state"), '{"state": "ON", "tone": "intruder"}')
    state = await wait_state(hub, entity_id, "on")
    assert state.attributes["tone"] == "intruder"
    await peer.async_publish(topics("alarm", "state"), "OFF")
    await wait_state(hub, entity_id, "off")


# ---------------------------------------------------------------------- availability
async def test_availability_topic_with_template(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await publish_config(
        peer,
        topics.config("sensor", "meter"),
        {
            "name": "Meter",
            "stat_t": topics("meter", "state"),
            "avty_t": topics("meter", "status"),
            "avty_tpl": "{{ value_json.status }}",
            "pl_avail": "alive",
            "pl_not_avail": "dead",
        },
    )
    await wait_state(hub, "sensor.meter", "unavailable")
    await peer.async_publish(topics("meter", "state"), "5")
    await peer.async_publish(topics("meter", "status"), '{"status": "alive"}')
    await wait_state(hub, "sensor.meter", "5")
    await peer.async_publish(topics("meter", "status"), '{"status": "dead"}')
    await wait_state(hub, "sensor.meter", "unavailable")
    await peer.async_publish(topics("meter", "status"), '{"status": "sleepy"}')  # ignored
    await settle(hub)
    assert state_of(hub, "sensor.meter").state == "unavailable"
    await peer.async_publish(topics("meter", "status"), '{"status": "alive"}')
    await wait_state(hub, "sensor.meter", "5")


@pytest.mark.parametrize(
    ("mode", "after_a", "after_b_offline"),
    [("all", "unavailable", "unavailable"), ("any", "on", "on"), ("latest", "on", "unavailable")],
)
async def test_availability_modes(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
    mode: str,
    after_a: str,
    after_b_offline: str,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await publish_config(
        peer,
        topics.config("binary_sensor", "presence"),
        {
            "name": "Presence",
            "stat_t": topics("presence"),
            "avty": [
                {"t": topics("a")},
                {"t": topics("b"), "pl_avail": "up", "pl_not_avail": "down"},
            ],
            "avty_mode": mode,
        },
    )
    await peer.async_publish(topics("presence"), "ON", retain=True)
    await wait_state(hub, "binary_sensor.presence", "unavailable")
    await peer.async_publish(topics("a"), "online")
    await wait_state(hub, "binary_sensor.presence", after_a)
    await peer.async_publish(topics("b"), "up")
    await wait_state(hub, "binary_sensor.presence", "on")
    await peer.async_publish(topics("b"), "down")
    await wait_state(hub, "binary_sensor.presence", after_b_offline)


async def test_entities_are_unavailable_while_the_broker_is_away(
    hub_factory: HubFactory,
    private_mosquitto: Callable[[], PrivateMosquitto],
    tmp_path: Path,
) -> None:
    broker = private_mosquitto()
    hub = await hub_factory(tmp_path / "config", start=False)
    await async_setup_mqtt_hub(
        hub, {"broker": broker.host, "port": broker.port, "discovery_prefix": "ha"}
    )
    peer_topic = "ha/sensor/probe/config"
    device = paho.Client(CallbackAPIVersion.VERSION2)
    device.connect(broker.host, broker.port)
    device.loop_start()
    try:
        device.publish(peer_topic, json.dumps({"name": "Probe", "stat_t": "probe"}), 1, True)
        device.publish("probe", "7", 1, True).wait_for_publish(5)
        await wait_state(hub, "sensor.probe", "7")
    finally:
        device.disconnect()
        device.loop_stop()
    assert discovery_diagnostics(hub)["counters"]["announced"] == 1
    await broker.async_stop()
    await wait_state(hub, "sensor.probe", "unavailable")
    await broker.async_start()  # persistence is off: the retained messages are gone
    await wait_state(hub, "sensor.probe", "7", timeout=10)
    # Reconnected, the hub says "online" again so that devices re-send their configs.
    await async_wait_until(lambda: discovery_diagnostics(hub)["counters"]["announced"] == 2)


# ---------------------------------------------------------------------- removal, updates, errors
async def test_an_empty_retained_config_removes_entity_and_device(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    device = {"ids": "plug-9", "name": "Plug"}
    for object_id, name in (("power", "Power"), ("energy", "Energy")):
        await publish_config(
            peer,
            topics.config("sensor", object_id, node_id="plug-9"),
            {
                "name": name,
                "uniq_id": f"plug-9-{object_id}",
                "stat_t": topics(object_id),
                "dev": device,
            },
        )
    await wait_state(hub, "sensor.plug_power")
    await wait_state(hub, "sensor.plug_energy")
    plug = hub.registries.devices.async_get_device(identifiers=[("mqtt", "plug-9")])
    assert plug is not None

    await publish_config(peer, topics.config("sensor", "power", node_id="plug-9"), "")
    await wait_gone(hub, "sensor.plug_power")
    assert "sensor.plug_power" not in hub.registries.entities
    assert hub.registries.devices.async_get(plug.id) is not None  # the energy sensor is left
    await publish_config(peer, topics.config("sensor", "energy", node_id="plug-9"), "")
    await wait_gone(hub, "sensor.plug_energy")
    await async_wait_until(lambda: hub.registries.devices.async_get(plug.id) is None)
    # A removal of something never discovered is harmless.
    await publish_config(peer, topics.config("sensor", "ghost"), "")
    await settle(hub)
    assert discovery_diagnostics(hub)["counters"]["removed"] == 2


async def test_a_changed_config_updates_the_entity_in_place(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    config = {"name": "Water", "uniq_id": "water-1", "stat_t": topics("old"), "unit_of_meas": "L"}
    await publish_config(peer, topics.config("sensor", "water"), config)
    await wait_state(hub, "sensor.water")
    await peer.async_publish(topics("old"), "10")
    await wait_state(hub, "sensor.water", "10")
    entity = get_entity(hub, "sensor.water")
    changes: list[Any] = []
    hub.bus.async_listen("state_changed", changes.append)

    await publish_config(peer, topics.config("sensor", "water"), {**config, "unit_of_meas": "m³"})
    await async_wait_until(
        lambda: state_of(hub, "sensor.water").attributes.get("unit_of_measurement") == "m³"
    )
    assert state_of(hub, "sensor.water").state == "10"  # the state is kept
    assert get_entity(hub, "sensor.water") is entity
    assert all(event.data["new_state"] is not None for event in changes)  # never removed

    # The same config again changes nothing; a new state topic is followed.
    await publish_config(peer, topics.config("sensor", "water"), {**config, "unit_of_meas": "m³"})
    await publish_config(
        peer,
        topics.config("sensor", "water"),
        {**config, "unit_of_meas": "m³", "stat_t": topics("new")},
    )
    await async_wait_until(lambda: discovery_diagnostics(hub)["counters"].get("updated") == 2)
    assert discovery_diagnostics(hub)["counters"]["unchanged"] == 1
    await peer.async_publish(topics("old"), "11")
    await peer.async_publish(topics("new"), "12")
    await wait_state(hub, "sensor.water", "12")
    await settle(hub)
    assert state_of(hub, "sensor.water").state == "12"

    # A new device block moves the entity to that device (its registry entry is kept).
    moved = {**config, "stat_t": topics("new"), "dev": {"ids": "meter-b", "name": "Meter B"}}
    await publish_config(peer, topics.config("sensor", "water"), moved)
    await async_wait_until(lambda: discovery_diagnostics(hub)["counters"].get("added") == 2)
    entry = hub.registries.entities.async_get("sensor.water")
    meter_b = hub.registries.devices.async_get_device(identifiers=[("mqtt", "meter-b")])
    assert entry is not None
    assert meter_b is not None
    assert entry.device_id == meter_b.id
    await peer.async_publish(topics("new"), "13")
    await wait_state(hub, "sensor.water", "13")

    # A new unique_id replaces the registry entry; the device left without entities goes.
    await publish_config(peer, topics.config("sensor", "water"), {**config, "uniq_id": "water-2"})
    await async_wait_until(lambda: discovery_diagnostics(hub)["counters"].get("added") == 3)
    entry = hub.registries.entities.async_get("sensor.water")
    assert entry is not None
    assert entry.unique_id == "water-2"
    assert hub.registries.devices.async_get(meter_b.id) is None


async def test_invalid_messages_are_logged_counted_and_harmless(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    bad = {
        topics.config("sensor", "no_state_topic"): '{"name": "x"}',
        topics.config("sensor", "not_json"): "{nope",
        topics.config("sensor", "a_list"): "[1, 2]",
        topics.config("sensor", "bad_template"): '{"stat_t": "s", "val_tpl": "{{ value"}',
        topics.config("switch", "wildcard_command"): '{"cmd_t": "a/#"}',
        topics.config("vacuum", "robot"): '{"cmd_t": "v"}',
        f"{topics.prefix}/sensor/bad.id/config": '{"stat_t": "s"}',
        topics.config("device", "no_components"): '{"dev": {"ids": "d"}}',
    }
    with caplog.at_level(logging.WARNING, logger="linli_mqtt.discovery"):
        for topic, payload in bad.items():
            await publish_config(peer, topic, payload)
        await publish_config(
            peer, topics.config("sensor", "fine"), {"name": "Fine", "stat_t": topics("fine")}
        )
        await wait_state(hub, "sensor.fine")
        await async_wait_until(lambda: discovery_diagnostics(hub)["counters"]["messages"] >= 9)
        await settle(hub)
    counters = discovery_diagnostics(hub)["counters"]
    assert counters["invalid_config"] == 4
    assert counters["invalid_json"] == 2
    assert counters["unsupported_component"] == 1
    assert counters["invalid_topic"] == 1
    assert counters["added"] == 1
    assert "errors" not in counters
    assert "required key not provided at 'state_topic'" in caplog.text
    assert "invalid template" in caplog.text
    assert "'vacuum' is not supported" in caplog.text
    # The hub goes on: the good sensor still follows its topic.
    await peer.async_publish(topics("fine"), "ok")
    await wait_state(hub, "sensor.fine", "ok")


async def test_an_invalid_update_keeps_the_entity(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await publish_config(peer, topics.config("sensor", "t"), {"name": "T", "stat_t": topics("t")})
    await wait_state(hub, "sensor.t")
    await publish_config(peer, topics.config("sensor", "t"), {"name": "T"})
    await async_wait_until(
        lambda: discovery_diagnostics(hub)["counters"].get("invalid_config") == 1
    )
    await peer.async_publish(topics("t"), "3")
    await wait_state(hub, "sensor.t", "3")


# ---------------------------------------------------------------------- restarts and status
async def test_rediscovery_after_a_restart(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    peer = await mqtt_peer()
    await peer.async_subscribe(f"{topics.prefix}/status")
    hub = await start_hub()
    await peer.async_wait_for(f"{topics.prefix}/status")
    assert peer.payloads(f"{topics.prefix}/status") == [b"online"]
    status = peer.received(f"{topics.prefix}/status")[0]
    assert not status.retain

    await publish_config(
        peer,
        topics.config("sensor", "lift_load"),
        {
            "name": "Lift load",
            "uniq_id": "lift-load",
            "stat_t": topics("load"),
            "dev": {"ids": "lift-1"},
        },
    )
    await peer.async_publish(topics("load"), "320", retain=True)
    await wait_state(hub, "sensor.lift_load", "320")
    hub.registries.entities.async_update_entity(
        "sensor.lift_load", new_entity_id="sensor.lift_3_load"
    )
    await wait_state(hub, "sensor.lift_3_load", "320")
    await hub.async_stop()
    assert hub.states.get("sensor.lift_3_load") is None

    again = await start_hub()
    await peer.async_wait_for(f"{topics.prefix}/status", 2)
    state = await wait_state(again, "sensor.lift_3_load", "320")  # the user's entity_id kept
    assert state.attributes["friendly_name"] == "Lift load"
    assert again.states.get("sensor.lift_load") is None
    assert get_discovery(again) is not None


async def test_device_discovery_with_components(
    start_hub: StartHub,
    mqtt_peer: PeerFactory,
    topics: Topics,
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    await peer.async_subscribe(topics("plug", "set"))
    device_topic = f"{topics.prefix}/device/plug-3/config"
    config: dict[str, Any] = {
        "~": topics("plug"),
        "dev": {"ids": "plug-3", "name": "Plug 3", "mf": "Acme"},
        "o": {"name": "acme2mqtt"},
        "stat_t": "~/state",
        "cmps": {
            "power": {
                "p": "sensor",
                "name": "Power",
                "uniq_id": "plug-3-power",
                "unit_of_meas": "W",
                "val_tpl": "{{ value_json.power }}",
            },
            "relay": {
                "p": "switch",
                "name": "Relay",
                "uniq_id": "plug-3-relay",
                "cmd_t": "~/set",
                "val_tpl": "{{ value_json.relay }}",
            },
        },
    }
    await publish_config(peer, device_topic, config)
    await wait_state(hub, "sensor.plug_3_power")
    await wait_state(hub, "switch.plug_3_relay")
    await peer.async_publish(topics("plug", "state"), '{"power": 60, "relay": "ON"}')
    await wait_state(hub, "sensor.plug_3_power", "60")
    await wait_state(hub, "switch.plug_3_relay", "on")
    await hub.services.async_call("switch", "turn_off", {"entity_id": "switch.plug_3_relay"})
    await peer.async_wait_for(topics("plug", "set"))
    assert peer.payloads(topics("plug", "set")) == [b"OFF"]

    config["cmps"]["power"] = {"p": "sensor"}  # removes only that component
    await publish_config(peer, device_topic, config)
    await wait_gone(hub, "sensor.plug_3_power")
    assert hub.states.get("switch.plug_3_relay") is not None
    await publish_config(peer, device_topic, "")
    await wait_gone(hub, "switch.plug_3_relay")
    await async_wait_until(
        lambda: hub.registries.devices.async_get_device(identifiers=[("mqtt", "plug-3")]) is None
    )


# ---------------------------------------------------------------------- a third-party library
async def test_a_device_made_with_ha_mqtt_discoverable(
    start_hub: StartHub,
    mqtt_broker: tuple[str, int],
    topics: Topics,
) -> None:
    """ha-mqtt-discoverable speaks Home Assistant's discovery; its device works unchanged."""
    pytest.importorskip("ha_mqtt_discoverable", reason="needs linli-mqtt's test extra")
    from ha_mqtt_discoverable import DeviceInfo, Settings
    from ha_mqtt_discoverable.sensors import Sensor, SensorInfo, Switch, SwitchInfo

    hub = await start_hub()
    loop = asyncio.get_running_loop()
    mqtt_settings = Settings.MQTT(
        host=mqtt_broker[0],
        port=mqtt_broker[1],
        discovery_prefix=topics.prefix,
        state_prefix=topics("hmd"),
    )
    device = DeviceInfo(
        name="Boiler room",
        identifiers=["boiler-7"],
        manufacturer="Wuxi Heating",
        model="WX-2",
        sw_version="3.1",
    )
    commands: list[bytes] = []

    def on_command(_client: Any, _userdata: Any, message: Any) -> None:
        commands.append(message.payload)

    def make() -> tuple[Any, Any]:
        sensor = Sensor(
            Settings(
                mqtt=mqtt_settings,
                entity=SensorInfo(
                    name="Water temperature",
                    unique_id="boiler-7-water",
                    device=device,
                    unit_of_measurement="°C",
                    device_class="temperature",
                ),
                manual_availability=True,
            ),
            retain=True,
        )
        switch = Switch(
            Settings(
                mqtt=mqtt_settings,
                entity=SwitchInfo(name="Pump", unique_id="boiler-7-pump", device=device),
            ),
            on_command,
        )
        sensor.set_availability(True)
        sensor.set_state(61.5)
        sensor.set_attributes({"pressure_bar": 1.8})
        switch.write_config()  # type: ignore[no-untyped-call]
        return sensor, switch

    sensor, switch = await loop.run_in_executor(None, make)
    try:
        state = await wait_state(hub, "sensor.boiler_room_water_temperature", "61.5")
        await async_wait_until(
            lambda: (
                state_of(hub, "sensor.boiler_room_water_temperature").attributes.get("pressure_bar")
                == 1.8
            )
        )
        state = state_of(hub, "sensor.boiler_room_water_temperature")
        assert state.attributes["unit_of_measurement"] == "°C"
        assert state.attributes["friendly_name"] == "Boiler room Water temperature"
        registered = hub.registries.devices.async_get_device(identifiers=[("mqtt", "boiler-7")])
        assert registered is not None
        assert (registered.name, registered.manufacturer, registered.model) == (
            "Boiler room",
            "Wuxi Heating",
            "WX-2",
        )
        assert registered.sw_version == "3.1"
        entities = hub.registries.entities.entities_for_device(registered.id)
        assert {entry.entity_id for entry in entities} == {
            "sensor.boiler_room_water_temperature",
            "switch.boiler_room_pump",
        }

        await wait_state(hub, "switch.boiler_room_pump", "unknown")
        await loop.run_in_executor(None, switch.off)  # its states are not retained
        await wait_state(hub, "switch.boiler_room_pump", "off")
        await hub.services.async_call("switch", "turn_on", {"entity_id": "switch.boiler_room_pump"})
        await async_wait_until(lambda: commands == [b"ON"], what="the library's command callback")
        await loop.run_in_executor(None, switch.on)
        await wait_state(hub, "switch.boiler_room_pump", "on")

        await loop.run_in_executor(None, sensor.set_availability, False)
        await wait_state(hub, "sensor.boiler_room_water_temperature", "unavailable")
        await loop.run_in_executor(None, sensor.delete)
        await wait_gone(hub, "sensor.boiler_room_water_temperature")
        await loop.run_in_executor(None, switch.delete)
        await wait_gone(hub, "switch.boiler_room_pump")
        await async_wait_until(
            lambda: (
                hub.registries.devices.async_get_device(identifiers=[("mqtt", "boiler-7")]) is None
            )
        )
    finally:
        for made in (sensor, switch):
            made.mqtt_client.disconnect()
            made.mqtt_client.loop_stop()


async def test_a_disabled_entity_takes_updates_and_returns_when_enabled(
    start_hub: StartHub, mqtt_peer: PeerFactory, topics: Topics
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    config = {"name": "Noise", "uniq_id": "noise-1", "stat_t": topics("noise")}
    await publish_config(peer, topics.config("sensor", "noise"), config)
    await wait_state(hub, "sensor.noise")
    hub.registries.entities.async_update_entity("sensor.noise", disabled_by="user")
    await wait_gone(hub, "sensor.noise")
    await publish_config(peer, topics.config("sensor", "noise"), {**config, "unit_of_meas": "dB"})
    await async_wait_until(lambda: discovery_diagnostics(hub)["counters"].get("updated") == 1)
    await peer.async_publish(topics("noise"), "40", retain=True)
    await settle(hub)
    assert hub.states.get("sensor.noise") is None

    hub.registries.entities.async_update_entity("sensor.noise", disabled_by=None)
    state = await wait_state(hub, "sensor.noise", "40")
    assert state.attributes["unit_of_measurement"] == "dB"
    await peer.async_publish(topics("noise"), "41")
    await wait_state(hub, "sensor.noise", "41")


async def test_a_duplicate_unique_id_is_refused(
    start_hub: StartHub, mqtt_peer: PeerFactory, topics: Topics
) -> None:
    hub = await start_hub()
    peer = await mqtt_peer()
    config = {"name": "Gas", "uniq_id": "gas-1", "stat_t": topics("gas")}
    await publish_config(peer, topics.config("sensor", "gas"), config)
    await wait_state(hub, "sensor.gas")
    await publish_config(peer, topics.config("sensor", "gas_copy"), {**config, "name": "Copy"})
    await async_wait_until(lambda: discovery_diagnostics(hub)["counters"].get("errors") == 1)
    assert discovered(hub) == {"sensor.gas"}
    await peer.async_publish(topics("gas"), "0.2")
    await wait_state(hub, "sensor.gas", "0.2")


async def test_state_and_attributes_on_one_topic(
    start_hub: StartHub, mqtt_peer: PeerFactory, topics: Topics
) -> None:
    """zigbee2mqtt's style: one JSON topic for the state and the attributes."""
    hub = await start_hub()
    peer = await mqtt_peer()
    await publish_config(
        peer,
        topics.config("binary_sensor", "0x00158d0001", node_id="zigbee2mqtt"),
        {
            "name": "Occupancy",
            "uniq_id": "0x00158d0001_occupancy",
            "stat_t": topics("z2m", "hall"),
            "json_attr_t": topics("z2m", "hall"),
            "val_tpl": "{{ value_json.occupancy }}",
            "pl_on": True,
            "pl_off": False,
            "avty_t": topics("z2m", "hall"),
            "avty_tpl": "{{ 'online' if value_json.linkquality > 0 else 'offline' }}",
        },
    )
    await wait_state(hub, "binary_sensor.occupancy", "unavailable")
    await peer.async_publish(topics("z2m", "hall"), '{"occupancy": true, "linkquality": 90}')
    state = await wait_state(hub, "binary_sensor.occupancy", "on")
    assert state.attributes["linkquality"] == 90
    assert state.attributes["occupancy"] is True
    await peer.async_publish(topics("z2m", "hall"), '{"occupancy": false, "linkquality": 0}')
    await wait_state(hub, "binary_sensor.occupancy", "unavailable")
