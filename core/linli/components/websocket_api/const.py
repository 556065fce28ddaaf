"""Names of the WebSocket API: protocol level, error codes, limits, configuration keys."""

from __future__ import annotations

from typing import Final

from linli.components.http.const import HA_API_VERSION

DOMAIN: Final = "websocket_api"
URL: Final = "/api/websocket"

HA_VERSION: Final = HA_API_VERSION
"""The Home Assistant API level Linli speaks, sent as ``ha_version`` in the auth phase.

Clients switch features on this value (``atLeastHaVersion`` in home-assistant-js-websocket,
HAKit, the companion apps), so it names the HA release whose WebSocket API Linli implements:
by 2024.3 HA had ``coalesce_messages``, the compressed ``subscribe_entities`` (``lc``/``lu``
timestamps, bare context ids), ``call_service`` with ``target`` and ``return_response``, the
``service_validation_error`` code and ``render_template`` with ``report_errors`` — all
implemented here. Raise it only together with the features of the newer level. It is the
HTTP API's level too (one constant: ``/api/config`` says the same).
"""

# Error codes: Home Assistant's strings, so its clients recognise them.
ERR_ID_REUSE: Final = "id_reuse"
ERR_INVALID_FORMAT: Final = "invalid_format"
ERR_NOT_ALLOWED: Final = "not_allowed"
ERR_NOT_FOUND: Final = "not_found"
ERR_NOT_SUPPORTED: Final = "not_supported"
ERR_HOME_ASSISTANT_ERROR: Final = "home_assistant_error"
ERR_SERVICE_VALIDATION_ERROR: Final = "service_validation_error"
ERR_UNKNOWN_COMMAND: Final = "unknown_command"
ERR_UNKNOWN_ERROR: Final = "unknown_error"
ERR_UNAUTHORIZED: Final = "unauthorized"
ERR_TIMEOUT: Final = "timeout"
ERR_TEMPLATE_ERROR: Final = "template_error"

TYPE_RESULT: Final = "result"
FEATURE_COALESCE_MESSAGES: Final = "coalesce_messages"

# Configuration (``websocket_api:`` in configuration.yaml).
CONF_MAX_PENDING_MESSAGES: Final = "max_pending_messages"
CONF_PENDING_PEAK_MESSAGES: Final = "pending_peak_messages"
CONF_PENDING_PEAK_SECONDS: Final = "pending_peak_seconds"
CONF_AUTH_TIMEOUT: Final = "auth_timeout"

DEFAULT_MAX_PENDING_MESSAGES: Final = 4096
"""A connection with more messages waiting to be written is disconnected (HA 2024.3: 4096)."""
DEFAULT_PENDING_PEAK_MESSAGES: Final = 1024
"""… and so is one that stays above this many for ``pending_peak_seconds`` (HA: 1024)."""
DEFAULT_PENDING_PEAK_SECONDS: Final = 5.0
DEFAULT_AUTH_TIMEOUT: Final = 10.0
"""Seconds a client has to send its ``auth`` message (HA: 10)."""

TEMPLATE_TIME_INTERVAL: Final = 60.0
"""A subscribed template that reads the time is re-rendered this often (as HA)."""
