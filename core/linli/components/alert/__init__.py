"""Alerts: the community's incident model, bundled with the core as the ``alert`` integration.

Every capability raises its incidents here, through the ``alert.raise`` service or
:func:`get_manager`; staff acknowledge, assign, annotate, resolve or dismiss them. Each change
is kept in the alert's audit trail, committed to the database (the recorder's, one
transaction per change) before it is announced with an ``alert_raised`` or
``alert_updated`` event; ``sensor.open_alerts`` counts the open ones by severity. Alerts are
records, not entity states.

Configuration (optional)::

    alert:
      retention_days: 180          # closed alerts are purged this long after closing
      default_assignee_by_kind:    # who gets an alert raised without an assignee
        falling_object: role:staff
        no_activity: role:grid_worker
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import voluptuous as vol

from linli.components.alert.const import (
    CONF_DEFAULT_ASSIGNEE_BY_KIND,
    CONF_RETENTION_DAYS,
    DEFAULT_RETENTION_DAYS,
    DOMAIN,
    EVENT_ALERT_RAISED,
    EVENT_ALERT_UPDATED,
    EVENT_ALERTS_PURGED,
    OPEN_ALERTS_ENTITY_ID,
)
from linli.components.alert.manager import ALERT_MANAGER, AlertManager, get_manager
from linli.components.alert.model import (
    Alert,
    AlertError,
    AlertState,
    AuditAction,
    AuditEntry,
    Evidence,
    EvidenceKind,
    InvalidTransitionError,
    Severity,
    UnknownAlertError,
)
from linli.components.alert.services import assignee, async_register_services, kind
from linli.components.alert.store import AlertStore, SqlAlertStore
from linli.const import __version__
from linli.hub import Hub
from linli.plugins import ConfigType, Integration, IotClass, Manifest, hookimpl

__all__ = [
    "DOMAIN",
    "EVENT_ALERTS_PURGED",
    "EVENT_ALERT_RAISED",
    "EVENT_ALERT_UPDATED",
    "OPEN_ALERTS_ENTITY_ID",
    "Alert",
    "AlertError",
    "AlertManager",
    "AlertState",
    "AlertStore",
    "AuditAction",
    "AuditEntry",
    "Evidence",
    "EvidenceKind",
    "InvalidTransitionError",
    "Severity",
    "UnknownAlertError",
    "get_manager",
    "linli_integration",
]

CONFIG_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_RETENTION_DAYS, default=DEFAULT_RETENTION_DAYS): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=36500)
        ),
        vol.Optional(CONF_DEFAULT_ASSIGNEE_BY_KIND, default=dict): vol.Schema({kind: assignee}),
    }
)

MANIFEST: Final = Manifest(
    domain=DOMAIN,
    name="Alerts",
    version=__version__,
    dependencies=("recorder",),
    iot_class=IotClass.calculated,
    codeowners=("@linli/core",),
    load_by_default=True,
)


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Load the stored alerts, purge expired ones, register the services."""
    from linli.db import get_database

    manager = AlertManager(
        hub,
        SqlAlertStore(hub, get_database(hub)),
        retention=timedelta(days=config[CONF_RETENTION_DAYS]),
        default_assignees=config[CONF_DEFAULT_ASSIGNEE_BY_KIND],
    )
    await manager.async_load()
    await manager.async_start()
    hub.data[ALERT_MANAGER] = manager
    async_register_services(hub, manager)
    return True


async def async_unload(hub: Hub) -> None:
    """Stop purging and write pending changes."""
    manager = hub.data.pop(ALERT_MANAGER)
    if manager is not None:
        await manager.async_stop()


@hookimpl
def linli_integration() -> Integration:
    """Describe the alert integration."""
    return Integration(MANIFEST, async_setup, async_unload, CONFIG_SCHEMA)
