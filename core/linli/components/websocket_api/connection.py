"""One authenticated WebSocket connection: dispatches commands, holds subscriptions, answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
import voluptuous.humanize

from linli.callback import callback
from linli.components.websocket_api import const, messages
from linli.context import Context
from linli.exceptions import LinliError, Unauthorized
from linli.hub import HubKey

if TYPE_CHECKING:
    from linli.auth import Permissions, User
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

WebSocketCommandHandler = Callable[["Hub", "ActiveConnection", dict[str, Any]], None]
"""A command handler: ``handler(hub, connection, msg)``, a ``@callback`` on the loop."""

Handlers = dict[str, tuple[WebSocketCommandHandler, "vol.Schema | None"]]
HANDLERS: Final[HubKey[Handlers]] = HubKey("websocket_api.handlers")
"""Registered commands: ``type`` → (handler, schema)."""

Unsubscribe = Callable[[], None]


class ActiveConnection:
    """The command phase of one client: who it is, what it subscribed to, how to answer it."""

    __slots__ = (
        "_on_features",
        "_send",
        "handlers",
        "hub",
        "last_id",
        "logger",
        "permissions",
        "send_bytes",
        "subscriptions",
        "supported_features",
        "user",
    )

    def __init__(
        self,
        hub: Hub,
        send_message: Callable[[bytes], None],
        user: User,
        permissions: Permissions,
        logger: logging.Logger | None = None,
        on_features: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """Bind a connection to its user; ``send_message`` queues serialised messages."""
        self.hub = hub
        self._send = send_message
        self.send_bytes = send_message
        """Queue an already serialised message (the fast path of subscriptions)."""
        self._on_features = on_features
        self.user = user
        self.permissions = permissions
        self.logger = logger or _LOGGER
        self.handlers: Handlers = hub.data.setdefault(HANDLERS, {})
        self.subscriptions: dict[int, Unsubscribe] = {}
        """Live subscriptions by the id of the command that made them; each value ends one."""
        self.last_id = 0
        self.supported_features: dict[str, Any] = {}

    # ------------------------------------------------------------------ answering
    @callback
    def context(self, msg: Mapping[str, Any] | None = None) -> Context:
        """Return a context for a change made by this connection's user."""
        return Context(user_id=self.user.id)

    @callback
    def send_message(self, message: bytes | Mapping[str, Any]) -> None:
        """Queue a message (serialised bytes, or a dict serialised here)."""
        self._send(message if isinstance(message, bytes) else messages.message_to_json(message))

    @callback
    def send_result(self, msg_id: int, result: Any = None) -> None:
        """Answer command ``msg_id`` with success and ``result``."""
        self._send(messages.message_to_json(messages.result_message(msg_id, result)))

    @callback
    def send_error(self, msg_id: int, code: str, message: str) -> None:
        """Answer command ``msg_id`` with an error (one of the ``ERR_*`` codes)."""
        self._send(messages.message_to_json(messages.error_message(msg_id, code, message)))

    @callback
    def send_event(self, msg_id: int, event: Any) -> None:
        """Send an event of subscription ``msg_id`` (any JSON-able value)."""
        self._send(messages.message_to_json(messages.event_message(msg_id, event)))

    @callback
    def async_set_supported_features(self, features: dict[str, Any]) -> None:
        """Record the client's ``supported_features`` and apply them to the socket."""
        self.supported_features = dict(features)
        if self._on_features is not None:
            self._on_features(self.supported_features)

    # ------------------------------------------------------------------ dispatching
    @callback
    def async_handle(self, msg: Any) -> None:
        """Dispatch one incoming command message (HA's rules for ids and errors)."""
        if (
            not isinstance(msg, dict)
            or type(cur_id := msg.get("id")) is not int
            or cur_id < 1
            or not isinstance(type_ := msg.get("type"), str)
        ):
            self.logger.error("Received invalid command: %.200r", msg)
            msg_id = msg.get("id") if isinstance(msg, dict) else None
            self._send(
                messages.message_to_json(
                    messages.error_message(
                        msg_id if type(msg_id) is int else None,
                        const.ERR_INVALID_FORMAT,
                        "Message incorrectly formatted.",
                    )
                )
            )
            return
        if cur_id <= self.last_id:
            self.send_error(cur_id, const.ERR_ID_REUSE, "Identifier values have to increase.")
            return
        self.last_id = cur_id
        entry = self.handlers.get(type_)
        if entry is None:
            self.logger.info("Received unknown command: %s", type_)
            self.send_error(cur_id, const.ERR_UNKNOWN_COMMAND, "Unknown command.")
            return
        handler, schema = entry
        try:
            handler(self.hub, self, msg if schema is None else schema(msg))
        except Exception as err:  # every failure is answered, never raised into the reader
            self.async_handle_exception(msg, err)

    @callback
    def async_handle_exception(self, msg: Mapping[str, Any], err: Exception) -> None:
        """Answer a command whose handler raised, with HA's error code for the exception."""
        msg_id = msg["id"]
        log: Callable[..., None] = self.logger.error
        code = const.ERR_UNKNOWN_ERROR
        text = ""
        if isinstance(err, Unauthorized):
            code, text = const.ERR_UNAUTHORIZED, "Unauthorized"
            log = self.logger.info
        elif isinstance(err, vol.Invalid):
            code = const.ERR_INVALID_FORMAT
            text = voluptuous.humanize.humanize_error(dict(msg), err)
            log = self.logger.info
        elif isinstance(err, TimeoutError):
            code, text = const.ERR_TIMEOUT, "Timeout"
        elif isinstance(err, LinliError):
            code, text = const.ERR_HOME_ASSISTANT_ERROR, str(err)
        if text:
            log("Error handling message %s (%s): %s", msg.get("type"), code, text)
        else:
            text = "Unknown error"
            self.logger.error("Error handling message %s", msg.get("type"), exc_info=err)
        self.send_error(msg_id, code, text)

    @callback
    def async_handle_close(self) -> None:
        """End every subscription (the client has gone)."""
        for unsubscribe in list(self.subscriptions.values()):
            try:
                unsubscribe()
            except Exception:
                self.logger.exception("Error ending a subscription")
        self.subscriptions.clear()

    def async_create_task(self, coro: Any, name: str) -> asyncio.Task[Any]:
        """Run a command's coroutine; it is cancelled if the hub stops first."""
        return self.hub.async_create_background_task(coro, name)


@callback
def async_register_command(
    hub: Hub,
    command_or_handler: str | WebSocketCommandHandler,
    handler: WebSocketCommandHandler | None = None,
    schema: vol.Schema | None = None,
) -> None:
    """Register a command: a :func:`websocket_command`-decorated handler, or name + handler.

    ``async_register_command(hub, handle_x)`` uses the name and schema the decorator gave;
    ``async_register_command(hub, "my/x", handle_x, schema)`` registers them explicitly
    (``schema`` None: the message is passed unchecked). A second registration of a name
    replaces the first.
    """
    from linli.components.websocket_api.decorators import command_of

    if isinstance(command_or_handler, str):
        if handler is None:
            raise TypeError("a handler is needed with a command name")
        command = command_or_handler
    else:
        handler = command_or_handler
        command, schema = command_of(handler)
    hub.data.setdefault(HANDLERS, {})[command] = (handler, schema)
