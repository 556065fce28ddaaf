"""The WebSocket API at ``/api/websocket``: Home Assistant's protocol, plus Linli's ``linli/…``.

Clients speak Home Assistant's protocol unchanged: the server sends ``auth_required``, the
client ``{"type": "auth", "access_token": …}`` (a long-lived token, or a short-lived one from
``/auth/token``), the server ``auth_ok`` or ``auth_invalid`` (then closes). Both carry
``ha_version``: the Home Assistant API level Linli implements (:data:`HA_VERSION`). Then
commands ``{"id": n, "type": …}`` (ids increasing) are answered with
``{"id": n, "type": "result", "success": true, "result": …}`` or
``{"id": n, "type": "result", "success": false, "error": {"code", "message"}}`` (HA's codes:
``invalid_format``, ``not_found``, ``unknown_command``, ``unauthorized``, ``id_reuse``,
``home_assistant_error``, ``service_validation_error``, ``template_error``, ``not_allowed``…),
and subscriptions send ``{"id": n, "type": "event", "event": …}`` until
``unsubscribe_events``. A client that sends ``supported_features`` with
``{"coalesce_messages": 1}`` receives what queued up meanwhile as one JSON array per frame.

Every command obeys the user's :class:`linli.auth.Permissions`: states and entity changes are
filtered, events are delivered only when ``can_read_event`` allows, services are checked by
the core (calls carry the user's context), admin-only commands answer ``unauthorized``.
Who may use what (tested cell by cell in ``tests/core/test_permission_matrix.py``)::

    command                                   admin  staff/grid_worker  police   resident
    ping, supported_features, auth/current_user, get_config ¹, get_services, validate_config,
    get_panels ²                              ✓      ✓                  ✓        ✓
    get_states, subscribe_entities            all    in their areas     none     their rooms
    subscribe_events                          all    state_changed in their areas and
                                                     alert_* of alerts in them, nothing else
    call_service                              ✓      the core checks the target (unauthorized)
    fire_event, subscribe_trigger, render_template, trace/list, trace/get
                                              ✓      unauthorized       unauthorized
    config/area_registry/list, …/device_registry/list
                                              all    in their areas     in scope  their rooms
    config/entity_registry/list               all    in their areas     none     their rooms
    linli/alerts/list, linli/alerts/subscribe all    in their areas     in scope  their rooms
    linli/alerts/acknowledge, …/resolve       ✓      in their areas ³   in scope ³  unauthorized
    linli/alerts/assign                       ✓      in their areas ³   unauthorized
    linli/households/list, …/get              ✓      in their areas ⁴   none / unauthorized  own
    linli/consents/list                       ✓      in their areas ⁴   none     own household
    linli/consents/grant, …/withdraw          ✓      in their areas ³   unauthorized  own household
    linli/integrations/list                   ✓      unauthorized       unauthorized  unauthorized
    linli/notices/list, linli/notices/subscribe
                                              ✓      addressed to them (all roles) ⁵
    linli/notices/publish, …/withdraw         ✓      in their areas ³ ⁵ unauthorized  unauthorized
    linli/blueprints/list, …/import           ✓      unauthorized       unauthorized  unauthorized

    ¹ ``config_dir`` for admins only. ² panels marked ``require_admin`` for admins only.
    ³ for non-admins, a missing id answers ``unauthorized`` like one outside their areas, so
      ids cannot be probed. ⁴ staff, grid workers and police reading personal data are audited.
    ⁵ the bundled ``notice`` integration (see :mod:`linli.components.notice`).

Writing commands (integrations)
-------------------------------
Register commands during ``async_setup`` (this integration must be a dependency)::

    import voluptuous as vol
    from linli.components import websocket_api

    @websocket_api.websocket_command(
        {vol.Required("type"): "plate_gate/list", vol.Optional("gate"): str}
    )
    @websocket_api.async_response          # the handler is a coroutine: run it as a task
    async def ws_list(hub, connection, msg):
        if not connection.permissions.area_in_scope(GATE_AREA):
            raise Unauthorized()           # answered {"code": "unauthorized"}
        connection.send_result(msg["id"], await load_gates(msg.get("gate")))

    websocket_api.async_register_command(hub, ws_list)

* The message is validated against the schema first (``invalid_format`` if it fails).
* Handlers get ``(hub, connection, msg)``. ``connection.user`` and
  ``connection.permissions`` say who asks; ``connection.context()`` makes a
  :class:`~linli.Context` carrying the user (pass it to service calls and state writes).
* Answer once with ``connection.send_result(msg["id"], result)`` or
  ``connection.send_error(msg["id"], code, message)``; an exception the handler raises is
  answered for it (``Unauthorized`` → ``unauthorized``, ``vol.Invalid`` →
  ``invalid_format``, other ``LinliError`` → ``home_assistant_error``).
* Subscriptions: store a function ending it in ``connection.subscriptions[msg["id"]]``,
  answer ``send_result``, then ``connection.send_event(msg["id"], data)`` for each update;
  ``unsubscribe_events`` and the client going away call the function.
* ``@require_admin`` refuses non-admins; a plain (non-async) handler must be a ``@callback``.
* Sending never waits: each connection has a bounded queue and a writer task; a client that
  falls behind is disconnected, so handlers never slow down for a slow client.

Panels for the web UI's sidebar are added with :func:`async_register_panel` and listed by
``get_panels``.

Configuration (optional)::

    websocket_api:
      max_pending_messages: 4096   # a client with more messages waiting is disconnected
      pending_peak_messages: 1024  # … or with more than this many
      pending_peak_seconds: 5      #     for this long
      auth_timeout: 10             # seconds to send the auth message
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol

from linli.components.websocket_api import commands, linli_commands
from linli.components.websocket_api.connection import (
    ActiveConnection,
    WebSocketCommandHandler,
    async_register_command,
)
from linli.components.websocket_api.const import (
    CONF_AUTH_TIMEOUT,
    CONF_MAX_PENDING_MESSAGES,
    CONF_PENDING_PEAK_MESSAGES,
    CONF_PENDING_PEAK_SECONDS,
    DEFAULT_AUTH_TIMEOUT,
    DEFAULT_MAX_PENDING_MESSAGES,
    DEFAULT_PENDING_PEAK_MESSAGES,
    DEFAULT_PENDING_PEAK_SECONDS,
    DOMAIN,
    ERR_HOME_ASSISTANT_ERROR,
    ERR_ID_REUSE,
    ERR_INVALID_FORMAT,
    ERR_NOT_ALLOWED,
    ERR_NOT_FOUND,
    ERR_NOT_SUPPORTED,
    ERR_SERVICE_VALIDATION_ERROR,
    ERR_TEMPLATE_ERROR,
    ERR_TIMEOUT,
    ERR_UNAUTHORIZED,
    ERR_UNKNOWN_COMMAND,
    ERR_UNKNOWN_ERROR,
    HA_VERSION,
    URL,
)
from linli.components.websocket_api.decorators import (
    AsyncWebSocketCommandHandler,
    async_response,
    require_admin,
    websocket_command,
)
from linli.components.websocket_api.handler import (
    Settings,
    WebSocketView,
    active_connections,
    async_close_all,
)
from linli.components.websocket_api.messages import (
    error_message,
    event_message,
    result_message,
)
from linli.components.websocket_api.panels import (
    Panel,
    async_register_panel,
    async_remove_panel,
    handle_get_panels,
)
from linli.const import EVENT_LINLI_STOP, __version__
from linli.hub import Hub
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl

__all__ = [
    "DOMAIN",
    "ERR_HOME_ASSISTANT_ERROR",
    "ERR_ID_REUSE",
    "ERR_INVALID_FORMAT",
    "ERR_NOT_ALLOWED",
    "ERR_NOT_FOUND",
    "ERR_NOT_SUPPORTED",
    "ERR_SERVICE_VALIDATION_ERROR",
    "ERR_TEMPLATE_ERROR",
    "ERR_TIMEOUT",
    "ERR_UNAUTHORIZED",
    "ERR_UNKNOWN_COMMAND",
    "ERR_UNKNOWN_ERROR",
    "HA_VERSION",
    "URL",
    "ActiveConnection",
    "AsyncWebSocketCommandHandler",
    "Panel",
    "WebSocketCommandHandler",
    "active_connections",
    "async_register_command",
    "async_register_panel",
    "async_remove_panel",
    "async_response",
    "error_message",
    "event_message",
    "linli_integration",
    "require_admin",
    "result_message",
    "websocket_command",
]

CONFIG_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_MAX_PENDING_MESSAGES, default=DEFAULT_MAX_PENDING_MESSAGES): vol.All(
            vol.Coerce(int), vol.Range(min=1)
        ),
        vol.Optional(CONF_PENDING_PEAK_MESSAGES, default=DEFAULT_PENDING_PEAK_MESSAGES): vol.All(
            vol.Coerce(int), vol.Range(min=1)
        ),
        vol.Optional(CONF_PENDING_PEAK_SECONDS, default=DEFAULT_PENDING_PEAK_SECONDS): vol.All(
            vol.Coerce(float), vol.Range(min=0.01)
        ),
        vol.Optional(CONF_AUTH_TIMEOUT, default=DEFAULT_AUTH_TIMEOUT): vol.All(
            vol.Coerce(float), vol.Range(min=0.1)
        ),
    }
)

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="WebSocket API",
    version=__version__,
    dependencies=("http",),
    after_dependencies=("alert",),
    iot_class=IotClass.local_push,
    codeowners=("@linli/core",),
    load_by_default=True,
)


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Register the commands and serve ``/api/websocket``; close the sockets at stop."""
    from linli.components.http import async_register_view

    commands.async_register_commands(hub)
    linli_commands.async_register_commands(hub)
    async_register_command(hub, handle_get_panels)
    settings = Settings(
        max_pending_messages=config[CONF_MAX_PENDING_MESSAGES],
        pending_peak_messages=min(
            config[CONF_PENDING_PEAK_MESSAGES], config[CONF_MAX_PENDING_MESSAGES]
        ),
        pending_peak_seconds=config[CONF_PENDING_PEAK_SECONDS],
        auth_timeout=config[CONF_AUTH_TIMEOUT],
    )
    async_register_view(hub, WebSocketView(hub, settings))

    async def close_all(_event: Any) -> None:
        await async_close_all(hub)

    hub.bus.async_listen_once(EVENT_LINLI_STOP, close_all)
    return True


async def async_unload(hub: Hub) -> None:
    """Close any connection still open."""
    await async_close_all(hub)


@hookimpl
def linli_integration() -> Integration:
    """Describe the WebSocket API integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
