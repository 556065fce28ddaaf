"""Diagnostics over the WebSocket API, and a clean unload."""

from __future__ import annotations

from typing import Any

import pytest

import linli_mqtt
from linli import Hub
from linli.testing.http import HubClient
from linli_mqtt import ReceiveMessage, async_subscribe, get_mqtt
from linli_mqtt.diagnostics import async_get_diagnostics
from linli_mqtt.testing import MqttPeer, MqttPrefixes, async_wait_until

Peers = Any


@pytest.fixture
def hub_plugins() -> list[tuple[str, object]]:
    return [("mqtt", linli_mqtt)]


@pytest.fixture
def hub_config(mqtt_broker: tuple[str, int], mqtt_base_topic: str) -> str:
    return f"""
mqtt:
  broker: {mqtt_broker[0]}
  port: {mqtt_broker[1]}
  password: hunter2
  username: hub
  discovery_prefix: {mqtt_base_topic}/ha
  birth_message: {{topic: {mqtt_base_topic}/status}}
  will_message: {{topic: {mqtt_base_topic}/status}}
  devices: {{topic_prefix: {mqtt_base_topic}/linli}}
"""


async def test_diagnostics_command(hub_client: HubClient, mqtt_base_topic: str) -> None:
    hub = hub_client.hub
    await async_subscribe(hub, f"{mqtt_base_topic}/a/#", lambda msg: None)
    await async_subscribe(hub, f"{mqtt_base_topic}/a/b", lambda msg: None)
    async with hub_client.ws() as socket:
        await socket.send_json({"id": 1, "type": "mqtt/diagnostics"})
        answer = await socket.receive_json(timeout=5)
    assert answer["success"], answer
    result = answer["result"]
    assert result["connected"] is True
    assert result["broker"] == {"host": "127.0.0.1", "port": 1883}
    assert result["embedded_broker"] is False
    assert result["username_set"] is True
    assert "hunter2" not in str(result)
    assert result["counters"]["connects"] == 1
    filters = result["subscribed_filters"]
    assert f"{mqtt_base_topic}/a/#" in filters["broker_filters"]
    assert f"{mqtt_base_topic}/a/b" not in filters["broker_filters"]  # covered by a/#
    assert "devices" in result
    assert "discovery" in result


async def test_unload_disconnects_and_leaves_nothing(
    mqtt_hub: tuple[Hub, MqttPrefixes], mqtt_peer: Peers
) -> None:
    hub, prefixes = mqtt_hub
    watcher: MqttPeer = await mqtt_peer()
    await watcher.async_subscribe(prefixes.status)
    got: list[ReceiveMessage] = []
    await async_subscribe(hub, f"{prefixes.base}/x", got.append)
    client = get_mqtt(hub)
    assert hub.services.has_service("mqtt", "publish")
    await hub.async_stop()
    assert not client.connected
    assert async_get_diagnostics(hub) == {"set_up": False}
    assert not hub.services.has_service("mqtt", "publish")
    # a clean stop publishes the will itself
    await async_wait_until(
        lambda: watcher.payloads(prefixes.status)[-1:] == [b"offline"], what="the will"
    )
