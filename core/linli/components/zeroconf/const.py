"""Names the zeroconf integration shares with its callers: domain, service type, options."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "zeroconf"

SERVICE_TYPE: Final = "_linli._tcp.local."
"""The DNS-SD service type every hub advertises."""

CONF_ADVERTISE: Final = "advertise"
CONF_INTERFACES: Final = "interfaces"
INTERFACES_ALL: Final = "all"
ENV_INTERFACES: Final = "LINLI_ZEROCONF_INTERFACES"
"""Addresses to use when the config names none (containers, test suites: ``127.0.0.1``)."""

STORAGE_KEY: Final = "linli.instance_id"
"""Store (``<config>/.linli/linli.instance_id``) keeping the hub's stable instance id."""
STORAGE_VERSION: Final = 1

RESOLVE_TIMEOUT_MS: Final = 3000
"""How long a browse waits for a found service's address, port and TXT records."""

MAX_INSTANCE_NAME_BYTES: Final = 56
"""A DNS label holds 63 bytes; the rest is room for zeroconf's ``-2``, ``-3``… on a conflict."""

TXT_VERSION: Final = "version"
TXT_BASE_URL: Final = "base_url"
TXT_ID: Final = "id"
TXT_NAME: Final = "name"
TXT_API: Final = "api"
TXT_WS: Final = "ws"

API_PATH: Final = "/api/"
WS_PATH: Final = "/api/websocket"
