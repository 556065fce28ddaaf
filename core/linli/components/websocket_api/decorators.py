"""Decorators for command handlers: declare the command, run it as a task, require admin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from linli.callback import callback
from linli.components.websocket_api.messages import BASE_COMMAND_MESSAGE_SCHEMA
from linli.exceptions import Unauthorized

if TYPE_CHECKING:
    from linli.components.websocket_api.connection import (
        ActiveConnection,
        WebSocketCommandHandler,
    )
    from linli.hub import Hub

AsyncWebSocketCommandHandler = Callable[
    ["Hub", "ActiveConnection", dict[str, Any]], Awaitable[None]
]
"""A coroutine command handler, made runnable by :func:`async_response`."""

ATTR_COMMAND = "_ws_command"
ATTR_SCHEMA = "_ws_schema"


def websocket_command(
    schema: dict[Any, Any],
) -> Callable[[WebSocketCommandHandler], WebSocketCommandHandler]:
    """Declare a handler's command: ``schema`` maps ``vol.Required("type")`` to its name.

    The message is validated against ``schema`` (plus the ``id``) before the handler runs;
    an invalid one is answered with ``invalid_format``.
    """
    command = schema["type"]
    if not isinstance(command, str):
        raise TypeError("the schema must map vol.Required('type') to the command's name")
    validator = BASE_COMMAND_MESSAGE_SCHEMA.extend(schema)

    def decorate(func: WebSocketCommandHandler) -> WebSocketCommandHandler:
        setattr(func, ATTR_COMMAND, command)
        setattr(func, ATTR_SCHEMA, validator)
        return func

    return decorate


def command_of(handler: WebSocketCommandHandler) -> tuple[str, vol.Schema]:
    """Return the command name and schema :func:`websocket_command` gave ``handler``."""
    try:
        return getattr(handler, ATTR_COMMAND), getattr(handler, ATTR_SCHEMA)
    except AttributeError:
        raise TypeError(
            f"{getattr(handler, '__qualname__', handler)} is not a @websocket_command"
        ) from None


def async_response(func: AsyncWebSocketCommandHandler) -> WebSocketCommandHandler:
    """Run a coroutine handler as a task; what it raises is answered as an error."""

    async def run(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
        try:
            await func(hub, connection, msg)
        except Exception as err:
            connection.async_handle_exception(msg, err)

    @callback
    @wraps(func)
    def schedule(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
        connection.async_create_task(
            run(hub, connection, msg), f"websocket_api command {msg.get('type')}"
        )

    return schedule


def require_admin(func: WebSocketCommandHandler) -> WebSocketCommandHandler:
    """Refuse the command with ``unauthorized`` unless the user is an admin."""

    @callback
    @wraps(func)
    def check(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
        if not connection.permissions.is_admin:
            raise Unauthorized(user_id=connection.user.id, permission="admin")
        func(hub, connection, msg)

    return check
