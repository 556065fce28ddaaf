"""Constants shared by the core and integrations: version, event names, wildcards."""

from __future__ import annotations

from typing import Final

__version__: Final = "0.1.0"

MATCH_ALL: Final = "*"
"""Listen to every event type."""

# Hub lifecycle events.
EVENT_LINLI_START: Final = "linli_start"
EVENT_LINLI_STARTED: Final = "linli_started"
EVENT_LINLI_STOP: Final = "linli_stop"
EVENT_LINLI_FINAL_WRITE: Final = "linli_final_write"

# Core events.
EVENT_STATE_CHANGED: Final = "state_changed"
EVENT_CALL_SERVICE: Final = "call_service"
EVENT_SERVICE_REGISTERED: Final = "service_registered"
EVENT_SERVICE_REMOVED: Final = "service_removed"
EVENT_INTEGRATION_LOADED: Final = "integration_loaded"
EVENT_INTEGRATION_FAILED: Final = "integration_failed"
EVENT_INTEGRATION_UNLOADED: Final = "integration_unloaded"
"""Fired when an integration's listeners and services were removed (it failed or unloaded)."""

MAX_STATE_LENGTH: Final = 255
ENTRY_POINT_GROUP: Final = "linli"
CONFIG_FILE: Final = "configuration.yaml"
SECRETS_FILE: Final = "secrets.yaml"
STORAGE_DIR: Final = ".linli"
