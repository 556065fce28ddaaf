"""Names the alert integration shares with its callers: domain, events, entity, defaults."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "alert"

EVENT_ALERT_RAISED: Final = "alert_raised"
"""A new alert: ``{"alert_id", "action": "raised", "alert": <Alert.as_dict()>}``."""
EVENT_ALERT_UPDATED: Final = "alert_updated"
"""An alert changed: ``{"alert_id", "action", "alert"}``; ``action`` is the audit action
(``repeated``, ``escalated``, ``acknowledged``, ``assigned``, ``resolved``, ``dismissed``,
``note``)."""
EVENT_ALERTS_PURGED: Final = "alert_purged"
"""Closed alerts past retention were deleted: ``{"alert_ids": [...]}``."""

OPEN_ALERTS_ENTITY_ID: Final = "sensor.open_alerts"

CONF_RETENTION_DAYS: Final = "retention_days"
CONF_DEFAULT_ASSIGNEE_BY_KIND: Final = "default_assignee_by_kind"
DEFAULT_RETENTION_DAYS: Final = 180
PURGE_INTERVAL_SECONDS: Final = 24 * 3600.0
