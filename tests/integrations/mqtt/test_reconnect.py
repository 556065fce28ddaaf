"""Reconnection: a private Mosquitto is stopped and started again under a running hub."""

from __future__ import annotations

from typing import Any

import pytest

from linli import Hub
from linli.testing.plugin import HubFactory
from linli_mqtt import (
    EVENT_MQTT_CONNECTION_CHANGED,
    MqttError,
    ReceiveMessage,
    async_publish,
    async_subscribe,
    get_mqtt,
)
from linli_mqtt.testing import MqttPeer, async_setup_mqtt_hub, async_wait_until

Peers = Any


async def test_reconnects_and_restores_subscriptions(
    hub_factory: HubFactory, private_mosquitto: Any, mqtt_peer: Peers
) -> None:
    broker = private_mosquitto()
    hub: Hub = await hub_factory(start=False)
    await async_setup_mqtt_hub(
        hub,
        {"broker": broker.host, "port": broker.port, "discovery": False},
    )
    client = get_mqtt(hub)
    events: list[bool] = []
    hub.bus.async_listen(
        EVENT_MQTT_CONNECTION_CHANGED, lambda event: events.append(event.data["connected"])
    )
    got: list[ReceiveMessage] = []
    await async_subscribe(hub, "site/+/state", got.append, qos=1)

    await broker.async_stop()
    await async_wait_until(lambda: not client.connected, 5, "the disconnect")
    # the hub keeps serving while the broker is away
    hub.states.async_set("sensor.still_here", "yes")
    assert hub.states.get("sensor.still_here") is not None
    with pytest.raises(MqttError):
        await async_publish(hub, "site/a/state", "lost")
    # a subscription made while disconnected is sent once connected again
    later: list[ReceiveMessage] = []
    await async_subscribe(hub, "site/later", later.append)

    await broker.async_start()
    await async_wait_until(lambda: client.connected, 10, "the reconnect")
    assert events == [False, True]
    device: MqttPeer = await mqtt_peer(broker=(broker.host, broker.port))
    await device.async_publish("site/a/state", "back")
    await device.async_publish("site/later", "also")
    await async_wait_until(lambda: len(got) == 1 and len(later) == 1, what="restored subscriptions")
    assert got[0].payload == "back"
    assert client.diagnostics["connects"] == 2
    assert client.diagnostics["disconnects"] == 1
    assert client.diagnostics["connect_attempts"] == 2


async def test_starts_without_a_broker_and_connects_when_it_comes(
    hub_factory: HubFactory, private_mosquitto: Any
) -> None:
    broker = private_mosquitto()
    await broker.async_stop()
    hub: Hub = await hub_factory(start=False)
    import linli_mqtt

    original = linli_mqtt.FIRST_CONNECT_TIMEOUT
    linli_mqtt.FIRST_CONNECT_TIMEOUT = 0.2  # do not make the test wait for the first connect
    try:
        await async_setup_mqtt_hub(hub, {"broker": broker.host, "port": broker.port})
    finally:
        linli_mqtt.FIRST_CONNECT_TIMEOUT = original
    client = get_mqtt(hub)
    assert not client.connected
    got: list[ReceiveMessage] = []
    await async_subscribe(hub, "x/#", got.append)
    await broker.async_start()
    await async_wait_until(lambda: client.connected, 10, "the first connect")
    await async_publish(hub, "x/y", "z", qos=1)
    await async_wait_until(lambda: len(got) == 1, what="the message")
    await hub.async_stop()
