"""The connection: subscribe, publish, wildcards, encodings, callbacks, connection events."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from linli import Hub
from linli_mqtt import (
    EVENT_MQTT_CONNECTION_CHANGED,
    MqttError,
    ReceiveMessage,
    async_publish,
    async_subscribe,
    async_wait_for_connection,
    get_mqtt,
    topic_matches,
)
from linli_mqtt.client import filter_covers
from linli_mqtt.testing import MqttPeer, MqttPrefixes, async_wait_until

Peers = Any


@pytest.mark.parametrize(
    ("topic_filter", "topic", "matches"),
    [
        ("a/b", "a/b", True),
        ("a/+", "a/b", True),
        ("a/+", "a/b/c", False),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("+/+", "a/b", True),
        ("+", "/a", False),
        ("#", "$SYS/x", False),
        ("+/x", "$SYS/x", False),
        ("$SYS/#", "$SYS/x", True),
        ("a/+/c", "a//c", True),
        ("a/b", "a/b/", False),
    ],
)
def test_topic_matches(topic_filter: str, topic: str, matches: bool) -> None:
    assert topic_matches(topic_filter, topic) is matches


@pytest.mark.parametrize(
    ("wider", "narrower", "covers"),
    [
        ("a/#", "a/+/c", True),
        ("a/#", "a", True),
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/#", False),
        ("a/+", "a/+/c", False),
        ("+/+/+", "a/+/c", True),
        ("a/b", "a/+", False),
        ("#", "$SYS/#", False),
        ("$SYS/#", "$SYS/a", True),
        ("a/+/#", "a/b", True),
    ],
)
def test_filter_covers(wider: str, narrower: str, covers: bool) -> None:
    assert filter_covers(wider, narrower) is covers


async def test_connects_and_reports(mqtt_hub: tuple[Hub, MqttPrefixes]) -> None:
    hub, _ = mqtt_hub
    client = get_mqtt(hub)
    assert client.connected
    assert await async_wait_for_connection(hub, 1)
    assert client.broker == ("127.0.0.1", 1883)
    assert client.diagnostics["connects"] == 1


async def test_subscribe_and_publish_round_trip(mqtt_hub: tuple[Hub, MqttPrefixes]) -> None:
    hub, prefixes = mqtt_hub
    got: list[ReceiveMessage] = []
    unsubscribe = await async_subscribe(hub, f"{prefixes.base}/a/+/c", got.append, qos=1)
    await async_publish(hub, f"{prefixes.base}/a/b/c", "héllo", qos=1)
    await async_publish(hub, f"{prefixes.base}/a/b/d", "not me")
    await async_wait_until(lambda: len(got) == 1, what="the message")
    message = got[0]
    assert message.topic == f"{prefixes.base}/a/b/c"
    assert message.payload == "héllo"
    assert message.subscribed_topic == f"{prefixes.base}/a/+/c"
    assert message.qos == 1
    assert message.retain is False
    assert message.timestamp > 1.7e9
    unsubscribe()
    unsubscribe()  # harmless twice
    await async_publish(hub, f"{prefixes.base}/a/b/c", "after", qos=1)
    await asyncio.sleep(0.1)
    assert len(got) == 1


async def test_wildcards_bytes_and_overlapping_subscriptions(
    mqtt_hub: tuple[Hub, MqttPrefixes],
) -> None:
    hub, prefixes = mqtt_hub
    hashes: list[ReceiveMessage] = []
    raw: list[ReceiveMessage] = []
    exact: list[ReceiveMessage] = []
    await async_subscribe(hub, f"{prefixes.base}/#", hashes.append)
    await async_subscribe(hub, f"{prefixes.base}/x/+", raw.append, encoding=None)
    remove_exact = await async_subscribe(hub, f"{prefixes.base}/x/y", exact.append)
    await async_publish(hub, f"{prefixes.base}/x/y", b"\xff\x00")  # not UTF-8
    await async_publish(hub, f"{prefixes.base}/x/y", "ok")
    await async_publish(hub, f"{prefixes.base}/z", "deep")
    await async_wait_until(lambda: len(hashes) == 2 and len(raw) == 2, what="messages")
    assert [m.payload for m in raw] == [b"\xff\x00", b"ok"]
    assert [m.payload for m in hashes] == ["ok", "deep"]
    assert [m.payload for m in exact] == ["ok"]
    assert get_mqtt(hub).diagnostics["messages_undecodable"] == 2
    # removing one of two subscribers of a topic keeps the other one served
    remove_exact()
    await async_publish(hub, f"{prefixes.base}/x/y", "again")
    await async_wait_until(lambda: len(raw) == 3, what="the third message")
    assert len(exact) == 1


async def test_coroutine_callbacks_and_errors_are_contained(
    mqtt_hub: tuple[Hub, MqttPrefixes], caplog: pytest.LogCaptureFixture
) -> None:
    hub, prefixes = mqtt_hub
    seen: list[str] = []

    async def slow(msg: ReceiveMessage) -> None:
        await asyncio.sleep(0)
        seen.append(str(msg.payload))

    def broken(msg: ReceiveMessage) -> None:
        raise ValueError("boom")

    await async_subscribe(hub, f"{prefixes.base}/t", broken)
    await async_subscribe(hub, f"{prefixes.base}/t", slow)
    await async_publish(hub, f"{prefixes.base}/t", "1")
    await async_wait_until(lambda: seen == ["1"], what="the coroutine callback")
    assert get_mqtt(hub).diagnostics["callback_errors"] == 1
    assert "boom" in caplog.text


async def test_messages_from_a_device_and_retained(
    mqtt_hub: tuple[Hub, MqttPrefixes], mqtt_peer: Peers
) -> None:
    hub, prefixes = mqtt_hub
    device: MqttPeer = await mqtt_peer()
    topic = f"{prefixes.base}/device/state"
    await device.async_publish(topic, json.dumps({"v": 1}), retain=True)
    got: list[ReceiveMessage] = []
    await async_subscribe(hub, topic, got.append)
    await async_wait_until(lambda: len(got) == 1, what="the retained message")
    assert got[0].retain is True
    assert json.loads(got[0].payload) == {"v": 1}
    watcher: MqttPeer = await mqtt_peer()
    await watcher.async_subscribe(f"{prefixes.base}/cmd")
    await async_publish(hub, f"{prefixes.base}/cmd", b"\x01\x02", qos=2, retain=False)
    messages = await watcher.async_wait_for(f"{prefixes.base}/cmd")
    assert messages[0].payload == b"\x01\x02"


async def test_will_birth_and_connection_events_on_a_dropped_connection(
    mqtt_hub: tuple[Hub, MqttPrefixes], mqtt_peer: Peers
) -> None:
    hub, prefixes = mqtt_hub
    watcher: MqttPeer = await mqtt_peer()
    await watcher.async_subscribe(prefixes.status)
    # the connection drops without a DISCONNECT: the broker publishes the will, and the
    # hub publishes its birth again once it has reconnected
    events: list[dict[str, Any]] = []
    hub.bus.async_listen(EVENT_MQTT_CONNECTION_CHANGED, lambda event: events.append(event.data))
    client = get_mqtt(hub)
    client._async_drop_socket()  # the network goes away under the client
    client._async_handle_disconnect("test")
    assert not client.connected
    await async_wait_until(lambda: client.connected, 5, "the reconnect")
    await watcher.async_wait_for(prefixes.status, 2)
    assert watcher.payloads(prefixes.status) == [b"offline", b"online"]
    assert events == [{"connected": False}, {"connected": True}]


async def test_publish_without_connection_raises(mqtt_hub: tuple[Hub, MqttPrefixes]) -> None:
    hub, prefixes = mqtt_hub
    client = get_mqtt(hub)
    client.connected = False
    try:
        with pytest.raises(MqttError):
            await async_publish(hub, f"{prefixes.base}/x", "y")
    finally:
        client.connected = True
