"""The socket side: ``/api/websocket``, the auth phase, the reader and the per-connection writer.

Each connection has a bounded send queue of serialised messages and one writer task that
drains it (all queued messages in one frame, as a JSON array, for clients that enabled
``coalesce_messages``). Queuing never waits, so a slow client never slows the hub: a client
with more than ``max_pending_messages`` waiting, or more than ``pending_peak_messages`` for
``pending_peak_seconds``, is disconnected (logged with its user and the reason) and the hub
goes on serving the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
import voluptuous.humanize
from aiohttp import WSCloseCode, WSMsgType, web

from linli.callback import callback
from linli.components.http import HubView
from linli.components.http.const import KEY_REAL_IP
from linli.components.websocket_api.connection import ActiveConnection
from linli.components.websocket_api.const import (
    DEFAULT_AUTH_TIMEOUT,
    DEFAULT_MAX_PENDING_MESSAGES,
    DEFAULT_PENDING_PEAK_MESSAGES,
    DEFAULT_PENDING_PEAK_SECONDS,
    FEATURE_COALESCE_MESSAGES,
    HA_VERSION,
    URL,
)
from linli.hub import HubKey
from linli.util.json import JSONDecodeError, json_bytes, json_loads

if TYPE_CHECKING:
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

HEARTBEAT: Final = 55.0
"""Seconds between pings aiohttp sends to notice dead peers (as HA)."""
CLOSE_TIMEOUT: Final = 2.0
"""Seconds a close handshake may take before the connection is cut."""

AUTH_MESSAGE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("type"): "auth",
        vol.Exclusive("access_token", "auth"): str,
        vol.Exclusive("api_password", "auth"): str,
    },
    extra=vol.ALLOW_EXTRA,
)

CONNECTIONS: Final[HubKey[set[WebSocketHandler]]] = HubKey("websocket_api.connections")


@dataclass(frozen=True, slots=True)
class Settings:
    """Limits of every connection (the ``websocket_api:`` configuration)."""

    max_pending_messages: int = DEFAULT_MAX_PENDING_MESSAGES
    pending_peak_messages: int = DEFAULT_PENDING_PEAK_MESSAGES
    pending_peak_seconds: float = DEFAULT_PENDING_PEAK_SECONDS
    auth_timeout: float = DEFAULT_AUTH_TIMEOUT


class WebSocketView(HubView):
    """``GET /api/websocket``: upgrade, authenticate in the socket, then serve commands."""

    url = URL
    name = "websocket_api"
    requires_auth = False

    def __init__(self, hub: Hub, settings: Settings) -> None:
        """Serve connections of ``hub`` with ``settings``."""
        self._hub = hub
        self._settings = settings

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Serve one WebSocket connection until it closes."""
        return await WebSocketHandler(self._hub, request, self._settings).async_handle()


def active_connections(hub: Hub) -> int:
    """Return how many WebSocket clients are connected (authenticated or not)."""
    handlers = hub.data.get(CONNECTIONS)
    return 0 if handlers is None else len(handlers)


async def async_close_all(hub: Hub) -> None:
    """Close every connection (the hub is stopping)."""
    handlers = list(hub.data.get(CONNECTIONS) or ())
    if handlers:
        await asyncio.gather(
            *(handler.async_close(WSCloseCode.GOING_AWAY, b"Hub stopping") for handler in handlers)
        )


class WebSocketHandler:
    """One client connection, from upgrade to close."""

    def __init__(self, hub: Hub, request: web.Request, settings: Settings) -> None:
        """Prepare to serve ``request``."""
        self._hub = hub
        self._request = request
        self._settings = settings
        self._ws = web.WebSocketResponse(heartbeat=HEARTBEAT)
        self._loop = asyncio.get_running_loop()
        self._queue: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self._peak_handle: asyncio.TimerHandle | None = None
        self._closing = False
        self._close_task: asyncio.Task[None] | None = None
        self._connection: ActiveConnection | None = None
        self.peer: str = request.get(KEY_REAL_IP) or request.remote or "?"
        self._coalesce = False
        self._max_pending = settings.max_pending_messages
        self._peak = settings.pending_peak_messages

    def __repr__(self) -> str:
        user = self._connection.user if self._connection is not None else None
        who = "unauthenticated" if user is None else f"user {user.id} ({user.role})"
        return f"<WebSocket {self.peer} {who}>"

    @property
    def pending(self) -> int:
        """How many messages wait to be written."""
        return len(self._queue)

    # ------------------------------------------------------------------ lifecycle
    async def async_handle(self) -> web.WebSocketResponse:
        """Run the connection: auth phase, command phase, clean-up."""
        ws = self._ws
        await ws.prepare(self._request)
        handlers = self._hub.data.setdefault(CONNECTIONS, set())
        handlers.add(self)
        try:
            connection = await self._async_auth_phase()
            if connection is not None:
                self._connection = connection
                self._writer_task = self._hub.async_create_background_task(
                    self._async_writer(), f"websocket_api writer {self.peer}"
                )
                _LOGGER.debug("%s connected", self)
                await self._async_command_phase(connection)
        except ConnectionError:
            _LOGGER.debug("%s: connection lost", self)
        finally:
            handlers.discard(self)
            self._closing = True
            if self._connection is not None:
                self._connection.async_handle_close()
            self._cancel_peak()
            self._queue.clear()
            if self._writer_task is not None:
                self._writer_task.cancel()
            await self.async_close()
            _LOGGER.debug("%s disconnected", self)
        return ws

    async def async_close(self, code: int = WSCloseCode.OK, message: bytes = b"") -> None:
        """Close the socket (at most ``CLOSE_TIMEOUT`` seconds, then cut it)."""
        self._closing = True
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._close(code, message))
        await asyncio.shield(self._close_task)

    async def _close(self, code: int, message: bytes) -> None:
        writer = self._writer_task
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._ws.close(code=code, message=message)
        except (TimeoutError, ConnectionError, RuntimeError):
            # The peer does not read (its socket is full) or is gone: cut the connection.
            self._abort()
        except asyncio.CancelledError:
            # Also raised when the cancelled writer was waiting for the socket to drain:
            # aiohttp shares that wait, so the close frame's drain ends cancelled too.
            self._abort()
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise

    def _abort(self) -> None:
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    # ------------------------------------------------------------------ auth phase
    async def _async_auth_phase(self) -> ActiveConnection | None:
        ws = self._ws
        await self._send_now({"type": "auth_required", "ha_version": HA_VERSION})
        try:
            msg = await ws.receive(timeout=self._settings.auth_timeout)
        except TimeoutError:
            _LOGGER.warning(
                "WebSocket client %s sent no auth message within %s s",
                self.peer,
                self._settings.auth_timeout,
            )
            return None
        if msg.type is not WSMsgType.TEXT:
            return None
        try:
            data = json_loads(msg.data)
            auth_msg = AUTH_MESSAGE_SCHEMA(data)
        except (JSONDecodeError, vol.Invalid) as err:
            reason = (
                voluptuous.humanize.humanize_error(data, err)
                if isinstance(err, vol.Invalid)
                else "invalid JSON"
            )
            await self._send_now(
                {"type": "auth_invalid", "message": f"Auth message incorrectly formatted: {reason}"}
            )
            return None
        from linli.auth import get_auth

        auth = get_auth(self._hub)
        token = auth_msg.get("access_token")
        user = None if not token else await auth.async_validate_access_token(token)
        if user is None or not user.is_active:
            _LOGGER.warning("WebSocket client %s sent an invalid access token", self.peer)
            await self._send_now(
                {"type": "auth_invalid", "message": "Invalid access token or password"}
            )
            return None
        await self._send_now({"type": "auth_ok", "ha_version": HA_VERSION})
        return ActiveConnection(
            self._hub,
            self.enqueue,
            user,
            auth.permissions(user),
            on_features=self.set_features,
        )

    async def _send_now(self, message: dict[str, Any]) -> None:
        await self._ws.send_frame(json_bytes(message), WSMsgType.TEXT)

    # ------------------------------------------------------------------ command phase
    async def _async_command_phase(self, connection: ActiveConnection) -> None:
        ws = self._ws
        handle = connection.async_handle
        while not self._closing:
            msg = await ws.receive()
            if msg.type is not WSMsgType.TEXT:
                if msg.type is WSMsgType.BINARY:
                    _LOGGER.warning("%s sent a binary message; disconnecting", self)
                return
            try:
                data = json_loads(msg.data)
            except JSONDecodeError:
                _LOGGER.warning("%s sent invalid JSON; disconnecting", self)
                return
            if isinstance(data, list):  # a client that coalesces its own messages
                for item in data:
                    handle(item)
            else:
                handle(data)

    # ------------------------------------------------------------------ sending
    @callback
    def enqueue(self, message: bytes) -> None:
        """Queue a serialised message; never waits. A client too far behind is disconnected."""
        if self._closing:
            return
        queue = self._queue
        queue.append(message)
        size = len(queue)
        if size > self._peak:
            if size > self._max_pending:
                self._disconnect_slow(f"more than {self._max_pending} messages waiting to be sent")
                return
            if self._peak_handle is None:
                self._peak_handle = self._loop.call_later(
                    self._settings.pending_peak_seconds, self._check_peak
                )
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @callback
    def set_features(self, features: dict[str, Any]) -> None:
        """Apply the client's ``supported_features`` (``coalesce_messages``)."""
        self._coalesce = bool(features.get(FEATURE_COALESCE_MESSAGES))

    async def _async_writer(self) -> None:
        queue = self._queue
        send = self._ws.send_frame
        text = WSMsgType.TEXT
        try:
            while not self._closing:
                if not queue:
                    self._waiter = self._loop.create_future()
                    await self._waiter
                    self._waiter = None
                    continue
                if len(queue) == 1 or not self._coalesce:
                    data = queue.popleft()
                else:
                    data = b"[" + b",".join(queue) + b"]"
                    queue.clear()
                await send(data, text)
                if self._peak_handle is not None and len(queue) <= self._peak:
                    self._cancel_peak()
        except (ConnectionError, RuntimeError) as err:
            _LOGGER.debug("%s: cannot write: %s", self, err)
            self._closing = True
            self._queue.clear()
            self._close_task = asyncio.ensure_future(self._close(WSCloseCode.OK, b""))

    def _check_peak(self) -> None:
        self._peak_handle = None
        if len(self._queue) > self._peak:
            self._disconnect_slow(
                f"more than {self._peak} messages waiting to be sent for "
                f"{self._settings.pending_peak_seconds:g} s"
            )

    def _cancel_peak(self) -> None:
        if self._peak_handle is not None:
            self._peak_handle.cancel()
            self._peak_handle = None

    def _disconnect_slow(self, reason: str) -> None:
        """Drop a client that cannot keep up; the others are not affected."""
        if self._closing:
            return
        self._closing = True
        self._queue.clear()
        self._cancel_peak()
        _LOGGER.warning("Disconnecting WebSocket client %s: %s", self, reason)
        self._close_task = asyncio.ensure_future(
            self._close(WSCloseCode.POLICY_VIOLATION, b"Too far behind")
        )
