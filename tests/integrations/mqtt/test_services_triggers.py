"""``mqtt.publish`` and the ``mqtt`` trigger, through the real broker and a real automation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from linli import Hub, ServiceValidationError
from linli.components import automation
from linli_mqtt import get_mqtt
from linli_mqtt.testing import MqttPeer, MqttPrefixes, async_wait_until

Peers = Any


@pytest.fixture
def mqtt_hub_plugins() -> list[tuple[str, object]]:
    return [("automation", automation)]


@pytest.fixture
def mqtt_hub_config(mqtt_base_topic: str) -> dict[str, Any]:
    base = mqtt_base_topic
    return {
        "automation": [
            {
                "id": "gate_open",
                "triggers": [
                    {
                        "trigger": "mqtt",
                        "topic": f"{base}/gate/+/event",
                        "payload": "open",
                        "value_template": "{{ value_json.action }}",
                    }
                ],
                "actions": [
                    {
                        "action": "mqtt.publish",
                        "data": {
                            "topic": "{{ trigger.topic | replace('/event', '/ack') }}",
                            "payload": (
                                "{{ {'seen': trigger.payload_json.action, 'qos': trigger.qos,"
                                " 'description': trigger.description} | tojson }}"
                            ),
                            "qos": 1,
                        },
                    }
                ],
            },
            {
                "id": "raw",
                "trigger_variables": {"base": base},
                "triggers": [{"trigger": "mqtt", "topic": "{{ base }}/raw/#", "encoding": ""}],
                "actions": [
                    {
                        "event": "raw_seen",
                        "event_data": {
                            "topic": "{{ trigger.topic }}",
                            "size": "{{ trigger.payload | length }}",
                        },
                    }
                ],
            },
        ]
    }


async def test_mqtt_trigger_runs_an_automation_that_publishes(
    mqtt_hub: tuple[Hub, MqttPrefixes], mqtt_peer: Peers
) -> None:
    hub, prefixes = mqtt_hub
    gate: MqttPeer = await mqtt_peer()
    await gate.async_subscribe(f"{prefixes.base}/gate/+/ack")
    await gate.async_publish(f"{prefixes.base}/gate/north/event", json.dumps({"action": "close"}))
    await gate.async_publish(f"{prefixes.base}/gate/north/event", "not json")
    await gate.async_publish(f"{prefixes.base}/gate/north/event", json.dumps({"action": "open"}))
    acks = await gate.async_wait_for(f"{prefixes.base}/gate/north/ack")
    assert json.loads(acks[0].payload) == {
        "seen": "open",
        "qos": 0,
        "description": f"mqtt topic {prefixes.base}/gate/north/event",
    }
    assert acks[0].qos == 1
    await hub.async_block_till_done()
    assert len(gate.received(f"{prefixes.base}/gate/north/ack")) == 1


async def test_mqtt_trigger_with_template_topic_and_bytes(
    mqtt_hub: tuple[Hub, MqttPrefixes], mqtt_peer: Peers
) -> None:
    hub, prefixes = mqtt_hub
    seen: list[dict[str, Any]] = []
    hub.bus.async_listen("raw_seen", lambda event: seen.append(dict(event.data)))
    device: MqttPeer = await mqtt_peer()
    await device.async_publish(f"{prefixes.base}/raw/a/b", b"\x00\xff\x10")
    await async_wait_until(lambda: len(seen) == 1, what="the raw automation")
    assert seen[0]["topic"] == f"{prefixes.base}/raw/a/b"
    assert seen[0]["size"] in (3, "3")


async def test_publish_service(mqtt_hub: tuple[Hub, MqttPrefixes], mqtt_peer: Peers) -> None:
    hub, prefixes = mqtt_hub
    watcher: MqttPeer = await mqtt_peer()
    await watcher.async_subscribe(f"{prefixes.base}/svc/#", qos=2)
    hub.states.async_set("sensor.level", "42")
    await hub.services.async_call(
        "mqtt",
        "publish",
        {"topic": f"{prefixes.base}/svc/plain", "payload": "hello", "qos": 2, "retain": True},
        blocking=True,
    )
    await hub.services.async_call(
        "mqtt",
        "publish",
        {
            "topic": f"{prefixes.base}/svc/templated",
            "payload_template": "{{ states('sensor.level') | int + 1 }}",
        },
        blocking=True,
    )
    await hub.services.async_call(
        "mqtt",
        "publish",
        {
            "topic": f"{prefixes.base}/svc/bytes",
            "payload": "b'\\x01\\x02'",
            "evaluate_payload": True,
        },
        blocking=True,
    )
    await watcher.async_wait_for(f"{prefixes.base}/svc/bytes")
    assert watcher.payloads(f"{prefixes.base}/svc/plain") == [b"hello"]
    assert watcher.received(f"{prefixes.base}/svc/plain")[0].qos == 2
    assert watcher.payloads(f"{prefixes.base}/svc/templated") == [b"43"]
    assert watcher.payloads(f"{prefixes.base}/svc/bytes") == [b"\x01\x02"]
    assert get_mqtt(hub).diagnostics["messages_published"] >= 4  # + the birth


@pytest.mark.parametrize(
    "data",
    [
        {"topic": "a/+/c", "payload": "x"},  # no wildcards when publishing
        {"payload": "x"},  # no topic
        {"topic": "a", "payload": "x", "qos": 3},
    ],
)
async def test_publish_service_rejects_bad_calls(
    mqtt_hub: tuple[Hub, MqttPrefixes], data: dict[str, Any]
) -> None:
    hub, _ = mqtt_hub
    with pytest.raises((ServiceValidationError, Exception)) as err:
        await hub.services.async_call("mqtt", "publish", data, blocking=True)
    assert "mqtt" in str(err.value).lower() or "topic" in str(err.value) or "qos" in str(err.value)
