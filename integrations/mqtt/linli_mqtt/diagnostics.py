"""Diagnostics of the mqtt integration: the connection, its counters and its parts'.

``async_get_diagnostics(hub)`` returns plain data (never the password); the WebSocket
command ``mqtt/diagnostics`` (admins only) answers with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from linli.callback import callback
from linli.components.websocket_api import (
    async_register_command,
    require_admin,
    websocket_command,
)

if TYPE_CHECKING:
    from linli import Hub
    from linli.components.websocket_api import ActiveConnection

_PARTS = (
    ("discovery", "linli_mqtt.discovery", "discovery_diagnostics"),
    ("devices", "linli_mqtt.devices", "devices_diagnostics"),
)


def async_get_diagnostics(hub: Hub) -> dict[str, Any]:
    """The connection (broker, client id, connected, embedded), counters and the parts'."""
    from linli_mqtt import DATA

    data = hub.data.get(DATA)
    if data is None:
        return {"set_up": False}
    client = data.client
    result: dict[str, Any] = {
        "set_up": True,
        "broker": {"host": client.broker[0], "port": client.broker[1]},
        "embedded_broker": data.broker is not None,
        "client_id": client.client_id,
        "connected": client.connected,
        "tls": client.settings.tls is not None,
        "username_set": client.settings.username is not None,
        "subscribed_filters": client.subscribed_filters(),
        "counters": dict(client.diagnostics),
    }
    for name, module_name, function_name in _PARTS:
        function = getattr(importlib.import_module(module_name), function_name, None)
        if function is not None:
            result[name] = function(hub)
    return result


@websocket_command({vol.Required("type"): "mqtt/diagnostics"})
@require_admin
@callback
def handle_diagnostics(hub: Hub, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Answer with :func:`async_get_diagnostics`."""
    connection.send_result(msg["id"], async_get_diagnostics(hub))


def async_register(hub: Hub) -> None:
    """Register the ``mqtt/diagnostics`` WebSocket command."""
    async_register_command(hub, handle_diagnostics)
