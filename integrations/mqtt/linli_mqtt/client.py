"""The hub's one broker connection: paho-mqtt driven by the event loop, no paho thread.

As in Home Assistant's MQTT integration, paho's socket is watched with the loop's
``add_reader``/``add_writer``; ``loop_misc`` (keepalive pings) runs once a second in a
background task. Only the TCP (and TLS) connect runs in an executor, because paho's
``reconnect`` blocks on it; while it runs, paho's socket callbacks hop back to the loop with
``call_soon_threadsafe``. Messages are dispatched to subscribers inline on the loop.

Timers here follow real time (``asyncio.sleep``/``loop.call_later``), never the hub's clock:
keepalive, acknowledgement timeouts and the reconnect backoff are about the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from linli import LinliError, callback
from linli_mqtt.config import DEFAULT_ENCODING, EVENT_MQTT_CONNECTION_CHANGED

if TYPE_CHECKING:
    from linli import Hub

_LOGGER = logging.getLogger(__name__)

RECONNECT_MIN_DELAY: Final = 1.0
RECONNECT_MAX_DELAY: Final = 30.0
CONNACK_TIMEOUT: Final = 10.0
ACK_TIMEOUT: Final = 10.0
MISC_INTERVAL: Final = 1.0
MAX_PACKETS_PER_READ: Final = 1000
"""Packets read per readable event before yielding to the loop again (fairness)."""
MATCH_CACHE_SIZE: Final = 50_000
"""Topics whose matching subscriptions are cached; the cache is emptied when it is full."""
SOCKET_BUFFER: Final = 1024 * 1024
RECV_SIZE: Final = 256 * 1024


class MqttError(LinliError):
    """Publishing or subscribing failed (not connected, or the broker refused)."""


@dataclass(slots=True)
class ReceiveMessage:
    """A message as a subscriber receives it.

    ``payload`` is ``str`` when the subscription has an encoding (default UTF-8), else
    ``bytes``. ``timestamp`` is the POSIX time (``time.time()``) when it was received.
    """

    topic: str
    payload: str | bytes
    qos: int
    retain: bool
    subscribed_topic: str
    timestamp: float


MessageCallback = Callable[[ReceiveMessage], Coroutine[Any, Any, None] | None]


@dataclass(frozen=True, slots=True)
class PublishMessage:
    """A message the client sends on its own: the birth and the last will."""

    topic: str
    payload: str
    qos: int = 0
    retain: bool = False


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Everything needed to reach the broker."""

    host: str
    port: int = 1883
    client_id: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in logs or reprs
    keepalive: int = 60
    tls: dict[str, Any] | None = None
    birth: PublishMessage | None = None
    will: PublishMessage | None = None


class _Subscription:
    """One subscriber of one topic filter."""

    __slots__ = ("callback", "encoding", "is_coroutine", "qos", "topic")

    def __init__(
        self, topic: str, msg_callback: MessageCallback, qos: int, encoding: str | None
    ) -> None:
        self.topic = topic
        self.callback = msg_callback
        self.qos = qos
        self.encoding = encoding
        self.is_coroutine = inspect.iscoroutinefunction(msg_callback)


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic`` matches ``topic_filter`` (MQTT rules: ``+``, ``#``, ``$`` topics)."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    filter_levels = topic_filter.split("/")
    levels = topic.split("/")
    for index, wanted in enumerate(filter_levels):
        if wanted == "#":
            return True
        if index >= len(levels):
            return False
        if wanted not in ("+", levels[index]):
            return False
    return len(levels) == len(filter_levels)


def filter_covers(wider: str, narrower: str) -> bool:
    """Whether every topic matching filter ``narrower`` also matches filter ``wider``."""
    if wider == narrower:
        return True
    if narrower.startswith("$") and wider[:1] in ("+", "#"):
        return False
    wide_levels = wider.split("/")
    levels = narrower.split("/")
    for index, wanted in enumerate(wide_levels):
        if wanted == "#":
            return True
        if index >= len(levels):
            return False
        if wanted == "+":
            if levels[index] == "#":
                return False
        elif wanted != levels[index]:
            return False
    return len(wide_levels) == len(levels)


class _LoopClient(paho.Client):
    """paho's client with two shortcuts on the hot path, for a client driven by the loop.

    Reads are buffered: paho asks the socket for 1, 1 and n bytes per packet; here one
    ``recv`` per readable event fills a buffer the packets are parsed from (``buffered`` says
    whether bytes are left, since the selector will not report those). And a message goes
    straight to ``on_message``: this client uses neither per-topic callbacks nor paho's
    thread, so paho's matching and locks are skipped.
    """

    _linli_buffer: bytes = b""
    _linli_pos: int = 0

    @property
    def buffered(self) -> bool:
        """Whether received bytes wait in the buffer."""
        return self._linli_pos < len(self._linli_buffer)

    def reconnect(self) -> MQTTErrorCode:
        """Start a new connection with an empty buffer."""
        self._linli_buffer, self._linli_pos = b"", 0
        return super().reconnect()

    def _sock_recv(self, bufsize: int) -> bytes:
        buffer, pos = self._linli_buffer, self._linli_pos
        if pos >= len(buffer):
            buffer = super()._sock_recv(RECV_SIZE)  # BlockingIOError when there is nothing
            if not buffer:
                return buffer  # the broker closed the connection
            pos = 0
        end = pos + bufsize
        self._linli_buffer, self._linli_pos = buffer, min(end, len(buffer))
        return buffer[pos:end]

    def _handle_on_message(self, message: paho.MQTTMessage) -> None:
        on_message = self.on_message
        if on_message is not None:
            on_message(self, self._userdata, message)


def _is_wildcard(topic_filter: str) -> bool:
    return "+" in topic_filter or "#" in topic_filter


class MqttClient:
    """The hub's MQTT connection: subscribe, publish, reconnect, birth and last will.

    ``connected`` says whether the broker has accepted the connection; ``broker`` is
    ``(host, port)``; ``diagnostics`` holds counters (messages received and published,
    connects, disconnects, reconnect attempts, callback errors …) that other parts may add to.
    """

    def __init__(self, hub: Hub, settings: ClientSettings) -> None:
        self.hub = hub
        self.settings = settings
        self.connected = False
        self.client_id = settings.client_id or f"linli-{uuid.uuid4().hex[:12]}"
        self.diagnostics: dict[str, int] = {
            "messages_received": 0,
            "messages_dispatched": 0,
            "messages_published": 0,
            "messages_undecodable": 0,
            "callback_errors": 0,
            "connects": 0,
            "disconnects": 0,
            "connect_attempts": 0,
            "connect_failures": 0,
            "subscriptions": 0,
        }
        self._loop = asyncio.get_running_loop()
        self._simple: dict[str, list[_Subscription]] = {}
        self._wildcard: list[_Subscription] = []
        self._match_cache: dict[str, tuple[_Subscription, ...]] = {}
        self._sent_filters: dict[str, int] = {}
        self._pending_acks: dict[int, asyncio.Future[None]] = {}
        self._connack: asyncio.Future[bool] | None = None
        self._connected_event = asyncio.Event()
        self._reconnect_task: asyncio.Task[None] | None = None
        self._misc_task: asyncio.Task[None] | None = None
        self._birth_task: asyncio.Task[None] | None = None
        self._socket: Any = None
        self._stopping = False
        self._loop_thread = threading.get_ident()
        self._mqttc = self._make_paho_client()

    @property
    def broker(self) -> tuple[str, int]:
        """The broker's ``(host, port)``."""
        return (self.settings.host, self.settings.port)

    # ------------------------------------------------------------------ paho set-up
    def _make_paho_client(self) -> _LoopClient:
        settings = self.settings
        mqttc = _LoopClient(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=paho.MQTTv311,
            clean_session=True,
            reconnect_on_failure=False,
        )
        mqttc.suppress_exceptions = True
        if settings.username is not None:
            mqttc.username_pw_set(settings.username, settings.password)
        if settings.will is not None:
            will = settings.will
            mqttc.will_set(will.topic, will.payload, will.qos, will.retain)
        mqttc.on_connect = self._on_connect
        mqttc.on_disconnect = self._on_disconnect
        mqttc.on_message = self._on_message
        mqttc.on_publish = self._on_ack
        mqttc.on_subscribe = self._on_ack
        mqttc.on_unsubscribe = self._on_ack
        mqttc.on_socket_close = self._on_socket_close
        mqttc.on_socket_unregister_write = self._on_socket_unregister_write
        mqttc.on_socket_open = self._on_socket_open
        mqttc.on_socket_register_write = self._on_socket_register_write
        mqttc.connect_async(settings.host, settings.port, settings.keepalive)
        return mqttc

    def _tls_context(self) -> ssl.SSLContext:
        """Build the TLS context (reads certificate files: run it in an executor)."""
        tls = self.settings.tls or {}
        context = ssl.create_default_context(cafile=tls.get("ca_certs"))
        if tls.get("certfile"):
            context.load_cert_chain(tls["certfile"], tls.get("keyfile"))
        if tls.get("insecure"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    # ------------------------------------------------------------------ connecting
    async def async_start(self) -> None:
        """Start connecting (and keep reconnecting with backoff until stopped)."""
        if self.settings.tls is not None:
            context = await self.hub.async_add_executor_job(self._tls_context)
            self._mqttc.tls_set_context(context)
            if self.settings.tls.get("insecure"):
                self._mqttc.tls_insecure_set(True)
        self._stopping = False
        self._async_schedule_reconnect(initial=True)

    async def async_wait_for_connection(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait up to ``timeout`` seconds for the broker to accept the connection."""
        if self.connected:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected_event.wait(), timeout)
        return self.connected

    @callback
    def _async_schedule_reconnect(self, initial: bool = False) -> None:
        if self._stopping or self.connected:
            return
        if self._reconnect_task is not None and not self._reconnect_task.done():
            return
        self._reconnect_task = self.hub.async_create_background_task(
            self._async_reconnect_loop(immediately=initial), "mqtt reconnect"
        )

    async def _async_reconnect_loop(self, immediately: bool) -> None:
        """Try to connect; on failure wait 1 s, 2 s, 4 s … up to 30 s between attempts."""
        delay = RECONNECT_MIN_DELAY
        if not immediately:
            await asyncio.sleep(delay)
        while not self._stopping and not self.connected:
            if await self._async_try_connect():
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_DELAY)

    async def _async_try_connect(self) -> bool:
        """One attempt: TCP (+TLS) in an executor, then wait for the CONNACK."""
        self.diagnostics["connect_attempts"] += 1
        self._connack = connack = self._loop.create_future()
        mqttc = self._mqttc
        # While paho runs in the executor its socket callbacks must hop to the loop.
        mqttc.on_socket_open = self._on_socket_open_threadsafe
        mqttc.on_socket_register_write = self._on_socket_register_write_threadsafe
        try:
            result = await self.hub.async_add_executor_job(mqttc.reconnect)
        except (OSError, ssl.SSLError) as err:
            self._log_connect_failure(str(err))
            return False
        finally:
            mqttc.on_socket_open = self._on_socket_open
            mqttc.on_socket_register_write = self._on_socket_register_write
        if result != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._log_connect_failure(paho.error_string(result))
            return False
        try:
            accepted: bool = await asyncio.wait_for(asyncio.shield(connack), CONNACK_TIMEOUT)
        except TimeoutError:
            self._log_connect_failure("no CONNACK from the broker")
            self._async_drop_socket()
            return False
        finally:
            if self._connack is connack:
                self._connack = None
        return accepted

    def _log_connect_failure(self, reason: str) -> None:
        self.diagnostics["connect_failures"] += 1
        log = _LOGGER.warning if self.diagnostics["connect_failures"] == 1 else _LOGGER.debug
        log("Cannot connect to the MQTT broker %s:%s: %s", *self.broker, reason)

    @callback
    def _async_connection_result(self, accepted: bool) -> None:
        connack = self._connack
        if connack is not None and not connack.done():
            connack.set_result(accepted)

    @callback
    def _on_connect(
        self,
        _client: paho.Client,
        _userdata: Any,
        _flags: paho.ConnectFlags,
        reason: ReasonCode,
        _properties: Any,
    ) -> None:
        if reason.is_failure:
            _LOGGER.error("The MQTT broker %s:%s refused the connection: %s", *self.broker, reason)
            self.diagnostics["connect_failures"] += 1
            self._async_connection_result(False)
            return
        self.connected = True
        self.diagnostics["connects"] += 1
        self._connected_event.set()
        _LOGGER.info("Connected to the MQTT broker %s:%s", *self.broker)
        self._async_resubscribe()
        self._async_connection_result(True)
        if self.settings.birth is not None:
            self._birth_task = self.hub.async_create_background_task(
                self._async_publish_birth(self.settings.birth), "mqtt birth"
            )
        self.hub.bus.async_fire(EVENT_MQTT_CONNECTION_CHANGED, {"connected": True})

    async def _async_publish_birth(self, birth: PublishMessage) -> None:
        try:
            await self.async_publish(birth.topic, birth.payload, birth.qos, birth.retain)
        except MqttError as err:
            _LOGGER.warning("Cannot publish the birth message: %s", err)

    @callback
    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: Any,
        _flags: paho.DisconnectFlags,
        reason: ReasonCode,
        _properties: Any,
    ) -> None:
        self._async_handle_disconnect(str(reason))

    @callback
    def _async_handle_disconnect(self, reason: str) -> None:
        self._async_connection_result(False)
        if self.connected:
            self.connected = False
            self.diagnostics["disconnects"] += 1
            self._connected_event.clear()
            for future in self._pending_acks.values():
                if not future.done():
                    future.set_exception(MqttError("disconnected from the MQTT broker"))
            log = _LOGGER.info if self._stopping else _LOGGER.warning
            log("Disconnected from the MQTT broker %s:%s (%s)", *self.broker, reason)
            self.hub.bus.async_fire(EVENT_MQTT_CONNECTION_CHANGED, {"connected": False})
        self._async_schedule_reconnect()

    @callback
    def _async_drop_socket(self) -> None:
        """Close the socket without a DISCONNECT packet (the broker sends the will)."""
        sock = self._mqttc.socket()
        if sock is not None:
            self._async_on_socket_close(self._mqttc, None, sock)
            with contextlib.suppress(OSError):
                sock.close()
            self._mqttc._sock = None  # paho has no public call to drop a socket

    # ------------------------------------------------------------------ socket callbacks
    def _on_socket_open_threadsafe(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._loop.call_soon_threadsafe(self._on_socket_open, client, userdata, sock)

    def _on_socket_register_write_threadsafe(
        self, client: paho.Client, userdata: Any, sock: Any
    ) -> None:
        self._loop.call_soon_threadsafe(self._on_socket_register_write, client, userdata, sock)

    @callback
    def _on_socket_open(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        if sock.fileno() < 0:
            return
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        self._socket = sock
        self._loop.add_reader(sock, self._on_readable)
        if self._misc_task is None or self._misc_task.done():
            self._misc_task = self.hub.async_create_background_task(
                self._async_misc_loop(), "mqtt keepalive"
            )

    def _on_socket_close(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if threading.get_ident() != self._loop_thread:  # paho's reconnect, in the executor
            self._loop.call_soon_threadsafe(self._async_on_socket_close, client, userdata, sock)
        else:
            self._async_on_socket_close(client, userdata, sock)

    def _on_socket_unregister_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(
                self._async_on_socket_unregister_write, client, userdata, sock
            )
        else:
            self._async_on_socket_unregister_write(client, userdata, sock)

    @callback
    def _async_on_socket_close(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        if sock is self._socket:
            self._socket = None
        if sock.fileno() >= 0:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)
        if self._misc_task is not None and self._misc_task is not asyncio.current_task():
            self._misc_task.cancel()
            self._misc_task = None

    @callback
    def _on_socket_register_write(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        if sock.fileno() >= 0:
            self._loop.add_writer(sock, self._on_writable)

    @callback
    def _async_on_socket_unregister_write(
        self, _client: paho.Client, _userdata: Any, sock: Any
    ) -> None:
        if sock.fileno() >= 0:
            self._loop.remove_writer(sock)

    @callback
    def _on_readable(self) -> None:
        """Read what arrived, up to MAX_PACKETS_PER_READ packets before yielding to the loop."""
        mqttc = self._mqttc
        read = mqttc.loop_read
        for _ in range(MAX_PACKETS_PER_READ):
            status = read()
            if status != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._async_handle_disconnect(paho.error_string(status))
                return
            if not mqttc.buffered:
                return
        self._loop.call_soon(self._continue_reading, self._socket)

    @callback
    def _continue_reading(self, sock: Any) -> None:
        if sock is not None and sock is self._socket:
            self._on_readable()

    @callback
    def _on_writable(self) -> None:
        status = self._mqttc.loop_write()
        if status != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._async_handle_disconnect(paho.error_string(status))

    async def _async_misc_loop(self) -> None:
        """Send keepalive pings and notice a silent broker."""
        # paho's housekeeping is polled, as paho's own loop does: there is nothing to wait on
        while self._mqttc.loop_misc() == MQTTErrorCode.MQTT_ERR_SUCCESS:  # noqa: ASYNC110
            await asyncio.sleep(MISC_INTERVAL)

    # ------------------------------------------------------------------ acknowledgements
    @callback
    def _on_ack(self, _client: paho.Client, _userdata: Any, mid: int, *_args: Any) -> None:
        future = self._pending_acks.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)

    async def _async_wait_for_ack(self, mid: int, what: str) -> None:
        future = self._pending_acks[mid] = self._loop.create_future()
        try:
            await asyncio.wait_for(future, ACK_TIMEOUT)
        except TimeoutError:
            _LOGGER.warning(
                "No acknowledgement from the MQTT broker for %s in %ss", what, ACK_TIMEOUT
            )
        finally:
            if self._pending_acks.get(mid) is future:
                del self._pending_acks[mid]

    # ------------------------------------------------------------------ publishing
    async def async_publish(
        self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False
    ) -> None:
        """Publish; returns once it is written (QoS 0) or acknowledged (QoS 1 and 2).

        Raises :class:`MqttError` when not connected.
        """
        if not self.connected:
            raise MqttError(f"not connected to the MQTT broker (publishing to {topic!r})")
        info = self._mqttc.publish(topic, payload, qos, retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise MqttError(f"cannot publish to {topic!r}: {paho.error_string(info.rc)}")
        self.diagnostics["messages_published"] += 1
        if not info.is_published():
            await self._async_wait_for_ack(info.mid, f"a publish to {topic!r}")

    # ------------------------------------------------------------------ subscribing
    async def async_subscribe(
        self,
        topic: str,
        msg_callback: MessageCallback,
        qos: int = 0,
        encoding: str | None = DEFAULT_ENCODING,
    ) -> Callable[[], None]:
        """Subscribe ``msg_callback`` to ``topic`` (wildcards ``+`` and ``#``).

        Returns once the broker has acknowledged the subscription (at once when not
        connected: every subscription is sent again on each connect). The callback runs on
        the loop for each message; a coroutine function is run as a task. Call the
        returned function to unsubscribe.
        """
        subscription = _Subscription(topic, msg_callback, qos, encoding)
        if _is_wildcard(topic):
            self._wildcard.append(subscription)
        else:
            self._simple.setdefault(topic, []).append(subscription)
        self._match_cache.clear()
        self.diagnostics["subscriptions"] += 1

        removed = False

        @callback
        def async_unsubscribe() -> None:
            nonlocal removed
            if removed:
                return
            removed = True
            self._async_remove(subscription)

        if self.connected:
            mid = self._async_sync_broker_filters(topic)
            if mid is not None:
                await self._async_wait_for_ack(mid, f"a subscription to {topic!r}")
        return async_unsubscribe

    def subscribed_filters(self) -> dict[str, Any]:
        """Local subscriptions and the (minimal) filters the broker was sent, for diagnostics."""
        return {
            "subscriptions": self.diagnostics["subscriptions"],
            "filters": len(self._wanted_filters()),
            "broker_filters": dict(sorted(self._sent_filters.items())),
        }

    def _topic_qos(self, topic: str) -> int:
        """The highest QoS subscribed on exactly this filter, -1 when none."""
        subs: Iterable[_Subscription] = (
            (s for s in self._wildcard if s.topic == topic)
            if _is_wildcard(topic)
            else self._simple.get(topic, ())
        )
        return max((s.qos for s in subs), default=-1)

    @callback
    def _async_remove(self, subscription: _Subscription) -> None:
        topic = subscription.topic
        if _is_wildcard(topic):
            self._wildcard.remove(subscription)
        else:
            remaining = self._simple[topic]
            remaining.remove(subscription)
            if not remaining:
                del self._simple[topic]
        self._match_cache.clear()
        self.diagnostics["subscriptions"] -= 1
        if self.connected:
            self._async_sync_broker_filters(topic)

    # The broker is sent a minimal set of filters: one covered by another subscribed filter
    # (``a/b/c`` by ``a/+/c``, ``a/+/c`` by ``a/#``) of at least its QoS is not sent, so every
    # broker sends each message once (amqtt would send one copy per matching filter) and
    # every local subscriber of a matching filter still gets it.

    def _wanted_filters(self) -> dict[str, int]:
        """Every subscribed filter with its highest QoS."""
        wanted = {topic: max(s.qos for s in subs) for topic, subs in self._simple.items()}
        for sub in self._wildcard:
            wanted[sub.topic] = max(sub.qos, wanted.get(sub.topic, 0))
        return wanted

    def _minimal_filters(self) -> dict[str, int]:
        wanted = self._wanted_filters()
        wild = [(g, q) for g, q in wanted.items() if _is_wildcard(g)]
        return {
            topic: qos
            for topic, qos in wanted.items()
            if not any(g != topic and g_qos >= qos and filter_covers(g, topic) for g, g_qos in wild)
        }

    @callback
    def _async_sync_broker_filters(self, changed: str | None = None) -> int | None:
        """Subscribe/unsubscribe on the broker after ``changed`` changed (None: connected).

        Returns the SUBSCRIBE's message id when one was sent.
        """
        sent = self._sent_filters
        if changed is not None and not _is_wildcard(changed):
            # a plain topic only affects itself: check the sent wildcards that may cover it
            qos = self._topic_qos(changed)
            if qos < 0:
                target: dict[str, int] = {}
            elif any(
                g_qos >= qos and topic_matches(g, changed)
                for g, g_qos in sent.items()
                if _is_wildcard(g)
            ):
                target = {}
            else:
                target = {changed: qos}
            to_subscribe = [(changed, q) for q in target.values() if sent.get(changed) != q]
            to_unsubscribe = [changed] if changed in sent and not target else []
        else:
            full = self._minimal_filters()
            if changed is None:
                sent.clear()
            to_subscribe = [(t, q) for t, q in full.items() if sent.get(t) != q]
            to_unsubscribe = [t for t in sent if t not in full]
        mid: int | None = None
        if to_subscribe:
            result, mid = self._mqttc.subscribe(to_subscribe)
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS:
                mid = None
            sent.update(to_subscribe)
        if to_unsubscribe:
            self._mqttc.unsubscribe(to_unsubscribe)
            for topic in to_unsubscribe:
                del sent[topic]
        return mid

    @callback
    def _async_resubscribe(self) -> None:
        """Send every subscribed filter again (with its highest QoS) after a connect."""
        self._async_sync_broker_filters(None)

    def _matching(self, topic: str) -> tuple[_Subscription, ...]:
        matches = list(self._simple.get(topic, ()))
        matches.extend(sub for sub in self._wildcard if topic_matches(sub.topic, topic))
        found = tuple(matches)
        cache = self._match_cache
        if len(cache) >= MATCH_CACHE_SIZE:
            cache.clear()
        cache[topic] = found
        return found

    # ------------------------------------------------------------------ receiving
    @callback
    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        """Hand one message to its subscribers (the hot path: keep it lean)."""
        diagnostics = self.diagnostics
        diagnostics["messages_received"] += 1
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            diagnostics["messages_undecodable"] += 1
            return
        subscriptions = self._match_cache.get(topic)
        if subscriptions is None:
            subscriptions = self._matching(topic)
        if not subscriptions:
            return
        timestamp = time.time()
        raw = cast(bytes, msg.payload)
        qos, retain = msg.qos, msg.retain
        for sub in subscriptions:
            payload: str | bytes = raw
            if sub.encoding is not None:
                try:
                    payload = raw.decode(sub.encoding)
                except (UnicodeDecodeError, LookupError):
                    diagnostics["messages_undecodable"] += 1
                    _LOGGER.debug("Cannot decode a payload on %s as %s", topic, sub.encoding)
                    continue
            message = ReceiveMessage(topic, payload, qos, retain, sub.topic, timestamp)
            diagnostics["messages_dispatched"] += 1
            if sub.is_coroutine:
                coro = sub.callback(message)
                assert coro is not None
                self.hub.async_create_task(self._async_run(sub, coro), "mqtt message")
                continue
            try:
                sub.callback(message)
            except Exception:
                diagnostics["callback_errors"] += 1
                _LOGGER.exception("Error handling an MQTT message on %s (%r)", topic, sub.callback)

    async def _async_run(self, sub: _Subscription, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except Exception:
            self.diagnostics["callback_errors"] += 1
            _LOGGER.exception("Error handling an MQTT message on %s (%r)", sub.topic, sub.callback)

    # ------------------------------------------------------------------ stopping
    async def async_stop(self) -> None:
        """Publish the will ourselves (a clean exit), disconnect, and cancel every timer."""
        self._stopping = True
        for task in (self._reconnect_task, self._birth_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.connected:
            will = self.settings.will
            if will is not None:
                with contextlib.suppress(MqttError):
                    await self.async_publish(will.topic, will.payload, will.qos, will.retain)
            disconnected = self._loop.create_future()
            self._connack = disconnected
            self._mqttc.disconnect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(disconnected, 2)
        self._async_drop_socket()
        self.connected = False
        if self._misc_task is not None:
            self._misc_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._misc_task
            self._misc_task = None
        for future in self._pending_acks.values():
            future.cancel()
        self._pending_acks.clear()
