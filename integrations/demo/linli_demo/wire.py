"""A simulated device's own MQTT connection: paho-mqtt driven by the event loop, no thread.

The device side of the wire, deliberately not the hub's client: every simulated device
connects to the broker as itself (its own client id, its own last will on its availability
topic), as a real device would. paho runs from the loop's socket callbacks (``add_reader``/
``add_writer`` and a one-second timer for keepalive), like Home Assistant drives its client;
only the TCP connect runs in an executor. A dropped connection is retried with backoff.

:class:`LinliDevice` is what the access devices on Linli's device topics share: their topics,
their connection and the envelope of their messages.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Final, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from linli_demo.devices import MANUFACTURER, VERSION, topic

_LOGGER = logging.getLogger(__name__)

MISC_INTERVAL: Final = 1.0
MAX_PACKETS: Final = 100
BACKOFF: Final = (1.0, 2.0, 5.0, 10.0, 30.0)


class DeviceLink:
    """One MQTT connection of one simulated device."""

    def __init__(
        self,
        client_id: str,
        host: str,
        port: int,
        *,
        will_topic: str | None = None,
        online_payload: str = "online",
        offline_payload: str = "offline",
        keepalive: int = 60,
        hello: Callable[[], tuple[str, bytes]] | None = None,
        subscribe: tuple[str, ...] = (),
        on_message: Callable[[str, bytes], None] | None = None,
    ) -> None:
        """Prepare the connection; :meth:`async_connect` opens it.

        ``hello`` gives a message sent on every (re)connect before ``online``: the device's
        state with what it is and where (so the hub meets it with its facts). The device
        subscribes to the ``subscribe`` topics (its command topic) on every (re)connect and
        hands each message to ``on_message(topic, payload)`` on the event loop.
        """
        self.client_id = client_id
        self.host = host
        self.port = port
        self._will_topic = will_topic
        self._online = online_payload
        self._hello = hello
        self._subscriptions = subscribe
        self._on_message_cb = on_message
        self._keepalive = keepalive
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._misc: asyncio.TimerHandle | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._connecting: asyncio.Future[Any] | None = None
        self._attempt = 0
        self._closing = False
        self.connected = asyncio.Event()
        self.subscribed = asyncio.Event()
        """Set once the broker granted this connection's subscriptions."""
        self.published = 0
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            reconnect_on_failure=False,
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        if will_topic is not None:
            client.will_set(will_topic, offline_payload, qos=1, retain=True)
        self._client = client

    # ------------------------------------------------------------------ lifecycle
    async def async_connect(self, wait: float = 10.0) -> None:
        """Connect and wait for the broker's CONNACK; TimeoutError/OSError when it fails."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._closing = False
        self._connecting = self._loop.run_in_executor(
            None, self._client.connect, self.host, self.port, self._keepalive
        )
        try:
            await self._connecting
        finally:
            self._connecting = None
        await asyncio.wait_for(self.connected.wait(), wait)
        if self._subscriptions:
            # A command sent right after connecting must not go past a device not yet listening.
            await asyncio.wait_for(self.subscribed.wait(), wait)

    def publish(self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False) -> bool:
        """Queue one message; False when the device is not connected (it is dropped, as a
        QoS 0 message of a disconnected device is)."""
        if not self.connected.is_set():
            return False
        self._client.publish(topic, payload, qos=qos, retain=retain)
        self.published += 1
        return True

    def flush_pending(self) -> bool:
        """Whether messages are still waiting to be written to the socket."""
        return self._client.want_write()

    def disconnect(self) -> None:
        """Say goodbye (a clean DISCONNECT: the broker does not send the last will)."""
        self._closing = True
        self._cancel_timers()
        if self.connected.is_set():
            self._client.disconnect()
            for _ in range(100):  # a few KiB at most: the socket takes them at once
                if not self._client.want_write() or self._client.socket() is None:
                    break
                self._client.loop_write()
        self._close_socket()

    def kill(self) -> None:
        """Drop the connection without DISCONNECT, as a device losing power: the broker
        publishes the last will (``offline``). No reconnect follows."""
        self._closing = True
        self._cancel_timers()
        self._close_socket()

    def _close_socket(self) -> None:
        sock = self._client.socket()
        self.connected.clear()
        self.subscribed.clear()
        if sock is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)
        # paho closes the socket and calls on_socket_close; no network round trip.
        self._client._sock_close()  # paho has no public "drop" call

    def _cancel_timers(self) -> None:
        for handle in (self._misc, self._retry):
            if handle is not None:
                handle.cancel()
        self._misc = self._retry = None

    # ------------------------------------------------------------------ paho callbacks
    def _on_loop(self, func: Callable[..., None], *args: Any) -> None:
        """Run ``func`` on the loop: directly from the loop's thread, else thread-safely."""
        assert self._loop is not None
        if threading.get_ident() == self._loop_thread:
            func(*args)
        else:
            self._loop.call_soon_threadsafe(func, *args)

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._on_loop(self._socket_opened, sock)

    def _socket_opened(self, sock: Any) -> None:
        assert self._loop is not None
        if sock.fileno() < 0:
            return
        self._loop.add_reader(sock, self._read)
        if self._misc is None:
            self._misc = self._loop.call_later(MISC_INTERVAL, self._run_misc)

    def _read(self) -> None:
        self._client.loop_read(MAX_PACKETS)

    def _write(self) -> None:
        if self._client.want_write():
            self._client.loop_write()

    def _on_socket_close(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._on_loop(self._socket_closed, sock)

    def _socket_closed(self, sock: Any) -> None:
        assert self._loop is not None
        if sock.fileno() > -1:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)

    def _on_register_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._on_loop(self._register_write, sock)

    def _register_write(self, sock: Any) -> None:
        assert self._loop is not None
        if sock.fileno() > -1:
            self._loop.add_writer(sock, self._write)

    def _on_unregister_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._on_loop(self._unregister_write, sock)

    def _unregister_write(self, sock: Any) -> None:
        assert self._loop is not None
        if sock.fileno() > -1:
            self._loop.remove_writer(sock)

    def _run_misc(self) -> None:
        assert self._loop is not None
        self._client.loop_misc()
        self._misc = self._loop.call_later(MISC_INTERVAL, self._run_misc)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            _LOGGER.warning("Device %s: the broker refused it: %s", self.client_id, reason)
            return
        self._attempt = 0
        self.subscribed.clear()
        if self._subscriptions:
            client.subscribe([(topic, 1) for topic in self._subscriptions])
        if self._hello is not None:
            hello_topic, hello_payload = self._hello()
            client.publish(hello_topic, hello_payload)
            self.published += 1
        if self._will_topic is not None:
            client.publish(self._will_topic, self._online, qos=1, retain=True)
        self.connected.set()

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        self._on_loop(self.subscribed.set)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self._on_message_cb is not None:
            self._on_loop(self._on_message_cb, message.topic, bytes(message.payload))

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if self._closing or self._loop is None:
            return
        delay = BACKOFF[min(self._attempt, len(BACKOFF) - 1)]
        self._attempt += 1
        _LOGGER.info("Device %s lost the broker (%s); retry in %g s", self.client_id, reason, delay)
        self._on_loop(self._schedule_retry, delay)

    def _schedule_retry(self, delay: float) -> None:
        assert self._loop is not None
        if self._misc is not None:
            self._misc.cancel()
            self._misc = None
        self._retry = self._loop.call_later(delay, self._start_retry)

    def _start_retry(self) -> None:
        assert self._loop is not None
        self._retry = None
        if self._closing:
            return
        future = self._loop.run_in_executor(None, self._reconnect)
        future.add_done_callback(lambda _: None)

    def _reconnect(self) -> None:
        try:
            self._client.reconnect()
        except OSError as err:
            self._on_disconnect(self._client, None, None, err, None)


class _Device(Protocol):
    """What :class:`LinliDevice` needs of the class it is mixed into."""

    kind: ClassVar[str]
    area_id: str
    name: str
    model: str
    prefix: str
    run_id: str
    sequence: int
    link: DeviceLink | None
    _introduced: bool

    @property
    def device_id(self) -> str:
        """The device's id in its topics."""

    def topic(self, channel: str) -> str:
        """A topic of the device."""

    def on_command(self, topic: str, raw: bytes) -> None:
        """Obey one message on the ``command`` topic."""


class LinliDevice:
    """A mixin of the slotted dataclasses of simulated devices on Linli's device topics: their
    topics, their own connection and the envelope of their messages (see :class:`_Device`)."""

    __slots__ = ()
    link: DeviceLink | None
    sequence: int
    _introduced: bool

    def topic(self: _Device, channel: str) -> str:
        """``<prefix>/<kind>/<device_id>/<channel>``."""
        return topic(self.prefix, self.kind, self.device_id, channel)

    def _link(
        self: _Device, host: str, port: int, hello: Callable[[], tuple[str, bytes]] | None = None
    ) -> DeviceLink:
        """The device's own connection: last will ``offline``, subscribed to its commands."""
        self._introduced = False
        link = DeviceLink(
            f"linli-demo-{self.kind}-{self.device_id}-{self.run_id}",
            host,
            port,
            will_topic=self.topic("availability"),
            hello=hello,
            subscribe=(self.topic("command"),),
            on_message=self.on_command,
        )
        self.link = link
        return link

    def message(self: _Device, now: datetime, **fields: Any) -> dict[str, Any]:
        """A message; the first one of a connection also says where and what the device is."""
        self.sequence += 1
        payload: dict[str, Any] = {
            "v": VERSION,
            "ts": now.isoformat(timespec="milliseconds"),
            "id": f"{self.device_id}-{self.run_id}-{self.sequence}",
            **fields,
        }
        if not self._introduced:
            payload["area_id"] = self.area_id
            payload["device"] = {
                "name": self.name,
                "manufacturer": MANUFACTURER,
                "model": self.model,
            }
            self._introduced = True
        return payload
