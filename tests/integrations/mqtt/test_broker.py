"""The embedded broker: a hub without ``broker:`` still speaks real MQTT."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest

from linli import Hub
from linli.testing.plugin import HubFactory
from linli_mqtt import ReceiveMessage, async_publish, async_subscribe, get_mqtt
from linli_mqtt.testing import MqttPeer, async_setup_mqtt_hub, async_wait_until, free_port


async def test_embedded_broker_serves_the_hub_and_devices(
    hub_factory: HubFactory, mqtt_peer: Any
) -> None:
    port = free_port()
    hub: Hub = await hub_factory(start=False)
    await async_setup_mqtt_hub(hub, {"embedded_port": port, "discovery": False})
    client = get_mqtt(hub)
    assert client.connected
    assert client.broker == ("127.0.0.1", port)
    # amqtt's per-connection INFO lines stay out of the hub's log
    assert logging.getLogger("amqtt").level == logging.WARNING
    got: list[ReceiveMessage] = []
    await async_subscribe(hub, "linli/meter/+/state", got.append)
    device: MqttPeer = await mqtt_peer(broker=("127.0.0.1", port))
    await device.async_publish("linli/meter/m1/state", '{"v": 1, "power_w": 5}')
    await async_wait_until(lambda: len(got) == 1, what="the device's message")
    assert got[0].topic == "linli/meter/m1/state"
    # the devices part subscribes linli/+/+/+ too: the broker is sent only that filter, so
    # amqtt (which sends one copy per matching filter) delivers the message once
    assert client.diagnostics["messages_received"] == 1
    await device.async_subscribe("linli/meter/m1/command")
    await async_publish(hub, "linli/meter/m1/command", '{"v": 1}', qos=1)
    await device.async_wait_for("linli/meter/m1/command")
    await hub.async_stop()
    with pytest.raises(ConnectionRefusedError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


async def test_embedded_broker_moves_off_a_taken_port(
    hub_factory: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        hub: Hub = await hub_factory(start=False)
        await async_setup_mqtt_hub(hub, {"embedded_port": port, "discovery": False})
        client = get_mqtt(hub)
        assert client.connected
        assert client.broker[1] != port
        assert f"Port {port} is taken" in caplog.text
        assert str(client.broker[1]) in caplog.text
        await hub.async_stop()
