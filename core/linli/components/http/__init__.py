"""The HTTP server, bundled with the core as the ``http`` integration.

An aiohttp server that always runs (like Home Assistant's ``http``): it binds its sockets when
set up — so a port already in use fails this integration with the reason, and the rest of the
hub runs — starts serving at ``linli_start`` and stops at ``linli_stop``. Integrations add
endpoints with :func:`async_register_view` during their setup; the API, WebSocket and webhook
integrations are built on it.

Configuration (Home Assistant's keys; every one optional)::

    http:
      server_host: 0.0.0.0          # or a list; default every interface, IPv4 and IPv6
      server_port: 8123             # 0 takes any free port (tests); see get_http(hub).port
      base_url: https://hub.example.org   # what clients and zeroconf are told
      use_x_forwarded_for: true     # honour X-Forwarded-For from trusted_proxies (default on)
      trusted_proxies: [10.0.0.5, 172.16.0.0/12]
      cors_allowed_origins: [https://app.example.org]
      max_request_size: 16777216    # bytes; a bigger body is refused with 413
      access_log: true              # one INFO line per request on logger linli.http.access

Without ``server_host``/``server_port`` the environment's ``LINLI_HTTP_SERVER_HOST`` /
``LINLI_HTTP_SERVER_PORT`` apply (containers; the ``linli.testing`` pytest plugin sets
127.0.0.1 and 0 so no test ever takes port 8123).

Requests carry a bearer token (``Authorization: Bearer …``, checked by :mod:`linli.auth`);
views read ``request[KEY_USER]`` and ``request[KEY_PERMISSIONS]``. Missing or invalid token on
a view that requires auth: 401 ``401: Unauthorized`` (Home Assistant's body). A view raising
:class:`~linli.exceptions.Unauthorized`: 403 ``{"message": "Forbidden."}``. The access log
never shows token-like query values or webhook ids.
"""

from __future__ import annotations

import os
from ipaddress import ip_address, ip_network
from typing import Any, Final

import voluptuous as vol

from linli.components.http.const import (
    CONF_ACCESS_LOG,
    CONF_BASE_URL,
    CONF_CORS_ALLOWED_ORIGINS,
    CONF_MAX_REQUEST_SIZE,
    CONF_SERVER_HOST,
    CONF_SERVER_PORT,
    CONF_TRUSTED_PROXIES,
    DEFAULT_MAX_REQUEST_SIZE,
    DEFAULT_SERVER_HOST,
    DEFAULT_SERVER_PORT,
    DOMAIN,
    HA_API_VERSION,
    KEY_HUB,
    KEY_PERMISSIONS,
    KEY_REAL_IP,
    KEY_USER,
)
from linli.components.http.server import HttpServer
from linli.components.http.view import (
    BadRequest,
    HubView,
    context_for,
    json_message,
    json_response,
    read_json,
    read_json_object,
)
from linli.const import EVENT_LINLI_START, EVENT_LINLI_STOP, __version__
from linli.exceptions import LinliError
from linli.hub import Hub, HubKey
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl

__all__ = [
    "DOMAIN",
    "HA_API_VERSION",
    "KEY_HUB",
    "KEY_PERMISSIONS",
    "KEY_REAL_IP",
    "KEY_USER",
    "BadRequest",
    "HttpServer",
    "HubView",
    "async_register_view",
    "context_for",
    "get_http",
    "json_message",
    "json_response",
    "linli_integration",
    "read_json",
    "read_json_object",
]

CONF_USE_X_FORWARDED_FOR: Final = "use_x_forwarded_for"
ENV_SERVER_HOST: Final = "LINLI_HTTP_SERVER_HOST"
ENV_SERVER_PORT: Final = "LINLI_HTTP_SERVER_PORT"

HTTP_SERVER: Final = HubKey[HttpServer]("http_server")
_PENDING_VIEWS: Final = HubKey[list[HubView]]("http_pending_views")


def _ip(value: Any) -> str:
    try:
        return str(ip_address(str(value)))
    except ValueError:
        raise vol.Invalid(f"expected an IP address, got {value!r}") from None


def _network(value: Any) -> str:
    try:
        return str(ip_network(str(value), strict=False))
    except ValueError:
        raise vol.Invalid(
            f"expected an IP address or network (10.0.0.0/8), got {value!r}"
        ) from None


def _url(value: Any) -> str:
    text = str(value)
    if not text.startswith(("http://", "https://")) or len(text) < 10:
        raise vol.Invalid(f"expected an http:// or https:// URL, got {value!r}")
    return text.rstrip("/")


def _default_host() -> list[str]:
    env = os.environ.get(ENV_SERVER_HOST)
    return [_ip(env)] if env else list(DEFAULT_SERVER_HOST)


def _default_port() -> int:
    env = os.environ.get(ENV_SERVER_PORT)
    return int(env) if env else DEFAULT_SERVER_PORT


def _ensure_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


CONFIG_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_SERVER_HOST, default=_default_host): vol.All(
            _ensure_list, vol.Length(min=1), [_ip]
        ),
        vol.Optional(CONF_SERVER_PORT, default=_default_port): vol.All(
            vol.Coerce(int), vol.Range(min=0, max=65535)
        ),
        vol.Optional(CONF_BASE_URL): _url,
        vol.Optional(CONF_USE_X_FORWARDED_FOR, default=True): bool,
        vol.Optional(CONF_TRUSTED_PROXIES, default=list): vol.All(_ensure_list, [_network]),
        vol.Optional(CONF_CORS_ALLOWED_ORIGINS, default=list): vol.All(_ensure_list, [str]),
        vol.Optional(CONF_MAX_REQUEST_SIZE, default=DEFAULT_MAX_REQUEST_SIZE): vol.All(
            vol.Coerce(int), vol.Range(min=1024, max=1024**3)
        ),
        vol.Optional(CONF_ACCESS_LOG, default=True): bool,
    }
)

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="HTTP server",
    version=__version__,
    dependencies=("auth",),
    iot_class=IotClass.local_push,
    codeowners=("@linli/core",),
    load_by_default=True,
)


def async_register_view(hub: Hub, view: HubView) -> None:
    """Serve ``view``; call it from an integration's ``async_setup``.

    Views registered before the ``http`` integration is set up (by integrations it depends
    on, such as ``auth``) are kept and added when the server is built.
    """
    server = hub.data.get(HTTP_SERVER)
    if server is None:
        hub.data.setdefault(_PENDING_VIEWS, []).append(view)
        return
    server.register_view(view)


def get_http(hub: Hub) -> HttpServer:
    """Return the hub's HTTP server (``.port``, ``.base_url``, ``.app``)."""
    server = hub.data.get(HTTP_SERVER)
    if server is None:
        raise LinliError("The HTTP server is not set up")
    return server


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Bind the sockets (failing here if the port is taken); serve from ``linli_start``."""
    if not config[CONF_USE_X_FORWARDED_FOR]:
        config = {**config, CONF_TRUSTED_PROXIES: []}
    server = HttpServer(hub, config)
    for view in hub.data.pop(_PENDING_VIEWS, None) or []:
        server.register_view(view)
    await hub.async_add_executor_job(server.bind)
    hub.data[HTTP_SERVER] = server

    async def start(_event: Any) -> None:
        await server.async_start()

    async def stop(_event: Any) -> None:
        await server.async_stop()

    hub.bus.async_listen_once(EVENT_LINLI_START, start)
    hub.bus.async_listen_once(EVENT_LINLI_STOP, stop)
    return True


async def async_unload(hub: Hub) -> None:
    """Stop serving and close the sockets."""
    server = hub.data.pop(HTTP_SERVER)
    if server is not None:
        await server.async_stop()


@hookimpl
def linli_integration() -> Integration:
    """Describe the HTTP integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
