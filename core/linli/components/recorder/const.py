"""Names and defaults of the recorder integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "recorder"

CONF_DB_URL: Final = "db_url"
CONF_COMMIT_INTERVAL: Final = "commit_interval"
CONF_PURGE_KEEP_DAYS: Final = "purge_keep_days"
CONF_AUTO_PURGE: Final = "auto_purge"
CONF_AUDIT_KEEP_DAYS: Final = "audit_keep_days"
CONF_CONSENT_KEEP_DAYS: Final = "consent_keep_days"
CONF_MAX_BACKLOG: Final = "max_backlog"
CONF_EVENT_TYPES: Final = "event_types"
CONF_FILTER: Final = "filter"

DEFAULT_COMMIT_INTERVAL: Final = 1.0
DEFAULT_PURGE_KEEP_DAYS: Final = 10
DEFAULT_AUDIT_KEEP_DAYS: Final = 1095
DEFAULT_CONSENT_KEEP_DAYS: Final = 1095
DEFAULT_MAX_BACKLOG: Final = 50_000
PURGE_INTERVAL_SECONDS: Final = 24 * 3600.0

SERVICE_PURGE: Final = "purge"
EVENT_RECORDER_PURGED: Final = "recorder_purged"
"""Fired after a purge: ``{"states", "events", "audit", "consents", ...}`` rows deleted."""

SIGNIFICANT_DOMAINS: Final = frozenset(
    {"climate", "device_tracker", "humidifier", "thermostat", "water_heater"}
)
"""Domains whose attribute-only changes count as significant (Home Assistant's list)."""
NEED_ATTRIBUTE_DOMAINS: Final = frozenset(
    {"climate", "humidifier", "input_datetime", "thermostat", "water_heater"}
)
"""Domains whose every history row keeps its attributes even with ``minimal_response``."""

ALWAYS_EXCLUDED_EVENT_TYPES: Final = frozenset({"linli_final_write"})
"""Event types never recorded (``state_changed`` goes to the states table instead)."""
