"""Test fixtures for the mqtt integration and the integrations built on it.

Import the fixtures into a ``conftest.py``::

    from linli_mqtt.testing import (
        mqtt_base_topic, mqtt_broker, mqtt_hub, mqtt_hub_config, mqtt_hub_plugins, mqtt_peer,
        private_mosquitto,
    )

* ``mqtt_broker`` — ``(host, port)`` of the shared Mosquitto on 127.0.0.1:1883; the test is
  skipped when it does not answer, and fails instead under ``LINLI_REQUIRE_SERVICES=1``.
* ``mqtt_hub`` — ``(hub, prefixes)``: a started hub (fake clock) with the mqtt integration
  connected to the shared broker, using a unique discovery prefix, device topic prefix and
  status topic (:class:`MqttPrefixes`), all under ``mqtt_base_topic`` (``linli_test/<uuid>``,
  a fixture so that configs can use it). Override ``mqtt_hub_config`` (extra ``mqtt:`` keys
  and other sections) and ``mqtt_hub_plugins`` (extra integrations) in a test module.
  Retained messages under the test's base topic are cleared afterwards.
* ``mqtt_peer`` — a factory of plain paho clients (:class:`MqttPeer`) on their own thread,
  playing devices or watchers; the retained topics a peer wrote are cleared afterwards.
* ``private_mosquitto`` — a factory of private Mosquitto brokers on free ports
  (:class:`PrivateMosquitto`) that a test may stop and start again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

try:
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # pragma: no cover - without pytest-asyncio another asyncio plugin is needed
    async_fixture = pytest.fixture  # type: ignore[assignment]

from linli.hub import Hub, HubState
from linli.plugins.loader import IntegrationLoader, Status
from linli.testing.plugin import HubFactory

SHARED_BROKER: Final = ("127.0.0.1", 1883)
MOSQUITTO: Final = os.environ.get("LINLI_MOSQUITTO", "/usr/sbin/mosquitto")

__all__ = [
    "MqttPeer",
    "MqttPrefixes",
    "PrivateMosquitto",
    "async_clear_retained",
    "async_wait_until",
    "free_port",
    "mqtt_base_topic",
    "mqtt_broker",
    "mqtt_hub",
    "mqtt_hub_config",
    "mqtt_hub_plugins",
    "mqtt_peer",
    "private_mosquitto",
    "require_service",
]


# ---------------------------------------------------------------------------- helpers


def require_service(reason: str) -> None:
    """Skip the test for ``reason``, or fail it under ``LINLI_REQUIRE_SERVICES=1``."""
    if os.environ.get("LINLI_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (LINLI_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


async def async_wait_until(
    condition: Callable[[], bool],
    timeout: float = 5.0,  # noqa: ASYNC109 - a test helper polling real time
    what: str = "the condition",
) -> None:
    """Poll ``condition`` (real time) until it holds; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


def clear_retained(host: str, port: int, topic_filter: str, settle: float = 0.3) -> list[str]:
    """Clear every retained message under ``topic_filter`` (blocking); return the topics."""
    found: set[str] = set()
    lock = threading.Lock()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"clear-{uuid.uuid4().hex[:8]}")

    def on_message(_client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        if msg.retain and msg.payload:
            with lock:
                found.add(msg.topic)

    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    try:
        client.subscribe(topic_filter, qos=1)
        time.sleep(settle)
        with lock:
            topics = sorted(found)
        for topic in topics:
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()
    return topics


async def async_clear_retained(host: str, port: int, topic_filter: str) -> list[str]:
    """:func:`clear_retained` in a thread."""
    return await asyncio.get_running_loop().run_in_executor(
        None, clear_retained, host, port, topic_filter
    )


# ---------------------------------------------------------------------------- brokers


@pytest.fixture(scope="session")
def mqtt_broker() -> tuple[str, int]:
    """``(host, port)`` of the shared Mosquitto (skip, or fail under LINLI_REQUIRE_SERVICES)."""
    if not _answers(*SHARED_BROKER):
        require_service(
            f"no MQTT broker answers at {SHARED_BROKER[0]}:{SHARED_BROKER[1]} "
            "(run `bash script/services`)"
        )
    return SHARED_BROKER


class PrivateMosquitto:
    """A Mosquitto of the test's own on 127.0.0.1 and a free port; stop and start at will."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.directory = directory
        self._process: subprocess.Popen[bytes] | None = None
        config = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "persistence false",
            f"pid_file {directory / 'mosquitto.pid'}",
            f"log_dest file {directory / 'mosquitto.log'}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            config.append("user root")
        self.config_file = directory / "mosquitto.conf"
        self.config_file.write_text("\n".join(config) + "\n", encoding="utf-8")

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 5.0) -> None:
        """Start the broker and wait until its port answers (blocking)."""
        if self.running:
            return
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not _answers(self.host, self.port, 0.2):
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = self.directory / "mosquitto.log"
                text = log.read_text(encoding="utf-8") if log.exists() else ""
                self.stop()
                raise RuntimeError(f"private mosquitto did not start on {self.port}: {text}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL) and wait for it (blocking)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    async def async_start(self) -> None:
        """:meth:`start` in a thread."""
        await asyncio.get_running_loop().run_in_executor(None, self.start)

    async def async_stop(self) -> None:
        """:meth:`stop` in a thread."""
        await asyncio.get_running_loop().run_in_executor(None, self.stop)


@pytest.fixture
def private_mosquitto() -> Iterator[Callable[[], PrivateMosquitto]]:
    """A factory of started private Mosquitto brokers; all are stopped after the test."""
    if not os.access(MOSQUITTO, os.X_OK):
        require_service(f"{MOSQUITTO} is not installed (apt-get install mosquitto)")
    made: list[PrivateMosquitto] = []
    directories: list[str] = []

    def make() -> PrivateMosquitto:
        directory = tempfile.mkdtemp(prefix="linli-mosquitto-")
        directories.append(directory)
        broker = PrivateMosquitto(Path(directory))
        made.append(broker)
        broker.start()
        return broker

    yield make
    for broker in made:
        broker.stop()
    for directory in directories:
        shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------------------- peers


@dataclass
class MqttPeer:
    """A plain paho client on its own thread: a device, a bridge or a watcher in a test."""

    host: str
    port: int
    client: paho.Client
    messages: list[paho.MQTTMessage] = field(default_factory=list)
    retained_topics: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.append(msg)

    def received(self, topic: str | None = None) -> list[paho.MQTTMessage]:
        """The messages received so far (on ``topic`` only, when given)."""
        with self.lock:
            return [m for m in self.messages if topic is None or m.topic == topic]

    def payloads(self, topic: str) -> list[bytes]:
        """The payloads received on ``topic``, in order."""
        return [bytes(m.payload) for m in self.received(topic)]

    async def async_subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe and wait for the broker's acknowledgement."""
        done = threading.Event()
        lock = threading.Lock()
        acked: set[int] = set()
        sent: set[int] = set()

        def on_subscribe(*args: Any) -> None:  # on paho's thread, maybe before subscribe returns
            with lock:
                acked.add(args[2])
                if args[2] in sent:
                    done.set()

        self.client.on_subscribe = on_subscribe
        result, mid = self.client.subscribe(topic, qos)
        assert result == paho.MQTT_ERR_SUCCESS
        assert mid is not None
        with lock:
            sent.add(mid)
            if mid in acked:
                done.set()
        await asyncio.get_running_loop().run_in_executor(None, done.wait, 5)
        assert done.is_set(), f"no SUBACK for {topic}"

    async def async_publish(
        self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish and wait until it is sent (QoS 0) or acknowledged."""
        info = self.client.publish(topic, payload, qos, retain)
        if retain:
            self.retained_topics.add(topic)
        await async_wait_until(info.is_published, 5, f"a publish to {topic}")

    async def async_wait_for(
        self,
        topic: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - polls real time
    ) -> list[paho.MQTTMessage]:
        """Wait until ``count`` messages arrived on ``topic``; return them."""
        await async_wait_until(
            lambda: len(self.received(topic)) >= count, timeout, f"{count} message(s) on {topic}"
        )
        return self.received(topic)

    def close(self, clear: bool = True) -> None:
        """Clear the retained topics this peer wrote (unless ``clear`` is False); disconnect."""
        if clear:
            for topic in sorted(self.retained_topics):
                self.client.publish(topic, b"", 1, True).wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()


PeerFactory = Callable[..., Awaitable[MqttPeer]]


@async_fixture
async def mqtt_peer(mqtt_broker: tuple[str, int]) -> AsyncIterator[PeerFactory]:
    """``await mqtt_peer(will=("topic", b"payload"), broker=(host, port))`` → a connected
    :class:`MqttPeer` (default: the shared broker); closed after the test."""
    peers: list[MqttPeer] = []
    loop = asyncio.get_running_loop()

    async def make(
        *, broker: tuple[str, int] | None = None, will: tuple[str, bytes] | None = None
    ) -> MqttPeer:
        host, port = broker or mqtt_broker
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"peer-{uuid.uuid4().hex[:8]}")
        if will is not None:
            client.will_set(will[0], will[1], qos=1)
        peer = MqttPeer(host, port, client)
        client.on_message = peer._on_message
        connected = threading.Event()
        client.on_connect = lambda *args: connected.set()
        await loop.run_in_executor(None, client.connect, host, port, 30)
        client.loop_start()
        await loop.run_in_executor(None, connected.wait, 5)
        assert connected.is_set(), f"peer could not connect to {host}:{port}"
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        await loop.run_in_executor(None, peer.close)


# ---------------------------------------------------------------------------- a hub


@dataclass(frozen=True)
class MqttPrefixes:
    """The unique topics of one test's hub."""

    base: str
    discovery: str
    devices: str
    status: str


@pytest.fixture
def mqtt_base_topic() -> str:
    """This test's own topic tree, ``linli_test/<uuid>``; ``mqtt_hub``'s prefixes are under it."""
    return f"linli_test/{uuid.uuid4().hex}"


def mqtt_section(broker: tuple[str, int], base_topic: str, *, discovery: bool = False) -> str:
    """The ``mqtt:`` section of a test's configuration.yaml, on ``broker`` and under the
    test's own topic tree (status, device topics and, with ``discovery``, its prefix), so tests
    sharing one broker never hear each other."""
    host, port = broker
    lines = [
        "mqtt:",
        f"  broker: {host}",
        f"  port: {port}",
        f"  discovery: {'true' if discovery else 'false'}",
        f"  discovery_prefix: {base_topic}/homeassistant",
        f"  birth_message: {{topic: {base_topic}/status, payload: online}}",
        f"  will_message: {{topic: {base_topic}/status, payload: offline}}",
        f"  devices: {{topic_prefix: {base_topic}/linli}}",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def mqtt_hub_config() -> dict[str, Any]:
    """Extra config for ``mqtt_hub``: ``{"mqtt": {…}}`` merges into the mqtt section; other
    keys are whole sections of other integrations (registered via ``mqtt_hub_plugins``)."""
    return {}


@pytest.fixture
def mqtt_hub_plugins() -> list[tuple[str, object]]:
    """Extra integration plugins ``(domain, module)`` for ``mqtt_hub``."""
    return []


async def async_setup_mqtt_hub(
    hub: Hub,
    mqtt_config: dict[str, Any],
    other_sections: dict[str, Any] | None = None,
    plugins: list[tuple[str, object]] | None = None,
) -> IntegrationLoader:
    """Set up the mqtt integration (and ``plugins``) on a not yet started ``hub``; start it."""
    import linli_mqtt

    loader = IntegrationLoader(hub)
    loader.register(linli_mqtt, name="mqtt", source="test")
    for name, plugin in plugins or []:
        loader.register(plugin, name=name, source="test")
    await loader.async_setup_all({"mqtt": mqtt_config, **(other_sections or {})})
    failed = {
        domain: record.reason
        for domain, record in loader.records.items()
        if record.status is not Status.loaded
    }
    assert not failed, f"integrations not loaded: {failed}"
    await hub.async_start()
    return loader


@async_fixture
async def mqtt_hub(
    hub_factory: HubFactory,
    mqtt_broker: tuple[str, int],
    mqtt_hub_config: dict[str, Any],
    mqtt_hub_plugins: list[tuple[str, object]],
    mqtt_base_topic: str,
) -> AsyncIterator[tuple[Hub, MqttPrefixes]]:
    """A started hub connected to the shared broker with unique prefixes: ``(hub, prefixes)``."""
    base = mqtt_base_topic
    prefixes = MqttPrefixes(
        base=base,
        discovery=f"{base}/homeassistant",
        devices=f"{base}/linli",
        status=f"{base}/status",
    )
    extra = dict(mqtt_hub_config)
    mqtt_config: dict[str, Any] = {
        "broker": mqtt_broker[0],
        "port": mqtt_broker[1],
        "discovery_prefix": prefixes.discovery,
        "birth_message": {"topic": prefixes.status, "payload": "online"},
        "will_message": {"topic": prefixes.status, "payload": "offline"},
        "devices": {"topic_prefix": prefixes.devices},
        **extra.pop("mqtt", {}),
    }
    hub = await hub_factory(start=False)
    try:
        await async_setup_mqtt_hub(hub, mqtt_config, extra, mqtt_hub_plugins)
        yield hub, prefixes
    finally:
        if hub.state is not HubState.stopped:
            await hub.async_stop()
        await async_clear_retained(*mqtt_broker, f"{base}/#")
