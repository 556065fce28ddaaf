"""Keys and defaults of the HTTP server."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from linli.auth import Permissions, User
from linli.hub import Hub

DOMAIN: Final = "http"

CONF_SERVER_HOST: Final = "server_host"
CONF_SERVER_PORT: Final = "server_port"
CONF_BASE_URL: Final = "base_url"
CONF_TRUSTED_PROXIES: Final = "trusted_proxies"
CONF_CORS_ALLOWED_ORIGINS: Final = "cors_allowed_origins"
CONF_MAX_REQUEST_SIZE: Final = "max_request_size"
CONF_ACCESS_LOG: Final = "access_log"

DEFAULT_SERVER_HOST: Final = ("0.0.0.0", "::")
"""Every interface, IPv4 and IPv6, as Home Assistant: residents' phones reach the hub on the LAN."""
DEFAULT_SERVER_PORT: Final = 8123
DEFAULT_MAX_REQUEST_SIZE: Final = 16 * 1024 * 1024
"""Bytes a request body may have (16 MiB); a bigger one is refused with 413."""

SHUTDOWN_TIMEOUT: Final = 5.0
"""Seconds open requests get to finish when the server stops."""

HA_API_VERSION: Final = "2024.3.0"
"""The Home Assistant API level Linli speaks (``version`` of ``/api/config``)."""

KEY_HUB: Final = web.AppKey("linli_hub", Hub)
KEY_USER: Final = web.RequestKey("linli_user", User)
"""The authenticated :class:`linli.auth.User` of a request (absent when unauthenticated)."""
KEY_PERMISSIONS: Final = web.RequestKey("linli_permissions", Permissions)
"""The :class:`linli.auth.Permissions` of the request's user."""
KEY_REAL_IP: Final = web.RequestKey("linli_real_ip", str)
"""The client's address: the peer, or X-Forwarded-For's client behind a trusted proxy."""
