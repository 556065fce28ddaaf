"""Fixtures of the demo's tests: the shared Mosquitto, and a subscriber that watches it."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

BROKER = ("127.0.0.1", 1883)


@pytest.fixture(scope="session")
def broker() -> tuple[str, int]:
    """The shared Mosquitto (skipped when it does not answer; fails under
    LINLI_REQUIRE_SERVICES=1)."""
    try:
        with socket.create_connection(BROKER, timeout=2):
            pass
    except OSError as err:
        if os.environ.get("LINLI_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Mosquitto is not answering at {BROKER[0]}:{BROKER[1]}: {err}")
        pytest.skip(f"no MQTT broker at {BROKER[0]}:{BROKER[1]} (start Mosquitto)")
    return BROKER


@dataclass
class Watcher:
    """A plain paho client subscribed to a unique prefix: what went over the wire."""

    prefix: str
    messages: list[tuple[str, bytes, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def topics(self) -> list[str]:
        """Topics seen so far, in order."""
        with self.lock:
            return [topic for topic, _, _ in self.messages]

    def payloads(self, topic: str) -> list[bytes]:
        """Payloads seen on ``topic``, in order."""
        with self.lock:
            return [payload for seen, payload, _ in self.messages if seen == topic]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        """Block until ``count`` messages arrived (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} arrived"
            time.sleep(0.01)


@pytest.fixture
def watcher(broker: tuple[str, int]) -> Iterator[Watcher]:
    """Watch ``linli_test/<uuid>/#``; clears the retained topics written under it after."""
    seen = Watcher(f"linli_test/{uuid.uuid4().hex}")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{uuid.uuid4().hex[:8]}")

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with seen.lock:
            seen.messages.append((message.topic, message.payload, message.retain))

    subscribed = threading.Event()
    client.on_message = on_message
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect(*broker)
    client.subscribe(f"{seen.prefix}/#", qos=1)
    client.loop_start()
    assert subscribed.wait(5)
    yield seen
    for topic, _, retained in list(seen.messages):
        if retained or topic.endswith("/availability"):
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()
