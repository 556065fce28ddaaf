"""Where alerts are kept: a small interface, the SQL ledger behind it, and the old JSON file.

The manager only speaks :class:`AlertStore`, one alert at a time. :class:`SqlAlertStore`
commits each change in its own transaction before the manager announces it (a ledger row is
never lost or batched): the alert's current version in ``alerts`` and the new entries of its
audit trail, appended to ``alert_audit``. :class:`JsonAlertStore` is the store of earlier
versions; its file is imported into the database once, then renamed ``linli.alerts.imported``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Final, Protocol

from sqlalchemy import delete, func, select

from linli.callback import callback
from linli.components.alert.model import Alert
from linli.db.models import AlertAuditRow, AlertRow
from linli.exceptions import StorageError
from linli.storage import Store
from linli.util.json import json_dumps, json_loads

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

    from linli.db import Database
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "linli.alerts"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 2.0
"""Seconds a change may wait before it is written; changes meanwhile share one write."""


class AlertStore(Protocol):
    """What the alert manager needs from storage."""

    async def async_load(self) -> list[Alert]:
        """Return every stored alert, oldest first."""

    async def async_save(self, alert: Alert) -> None:
        """Keep ``alert`` (new, or a new version of a stored one)."""

    async def async_delete(self, alert_ids: Collection[str]) -> None:
        """Forget the alerts with these ids."""

    async def async_flush(self) -> None:
        """Make everything saved so far durable before returning."""


class JsonAlertStore:
    """Every alert in one versioned JSON file (``linli.alerts``), written with a short delay."""

    def __init__(self, hub: Hub, *, save_delay: float = SAVE_DELAY) -> None:
        """Describe the store; nothing is read until :meth:`async_load`."""
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self.path: Path = self._store.path
        self._save_delay = save_delay
        # Serialised alerts in creation order, and the alerts changed since the last write:
        # a write serialises only those, however many alerts there are.
        self._rows: dict[str, dict[str, Any]] = {}
        self._dirty: dict[str, Alert] = {}

    async def async_load(self) -> list[Alert]:
        """Return the stored alerts; a malformed file is refused, never overwritten."""
        data = await self._store.async_load()
        if data is None:
            return []
        try:
            alerts = [Alert.from_dict(item) for item in data["alerts"]]
        except (KeyError, TypeError, ValueError) as err:
            raise StorageError(f"{self._store.path} holds a malformed alert: {err!r}") from err
        self._rows = {alert.id: alert.as_dict() for alert in alerts}
        return alerts

    async def async_save(self, alert: Alert) -> None:
        """Schedule writing ``alert``."""
        self._dirty[alert.id] = alert
        self._store.async_delay_save(self._data_to_save, self._save_delay)

    async def async_delete(self, alert_ids: Collection[str]) -> None:
        """Schedule removing the alerts ``alert_ids``."""
        for alert_id in alert_ids:
            self._rows.pop(alert_id, None)
            self._dirty.pop(alert_id, None)
        self._store.async_delay_save(self._data_to_save, self._save_delay)

    async def async_flush(self) -> None:
        """Write pending changes now."""
        await self._store.async_flush()

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        for alert_id, alert in self._dirty.items():
            self._rows[alert_id] = alert.as_dict()
        self._dirty.clear()
        # A new list of rows that are replaced, never changed, so the executor can encode it
        # while the loop goes on.
        return {"alerts": list(self._rows.values())}


class SqlAlertStore:
    """Alerts in the database: one committed transaction per change (the alert ledger)."""

    def __init__(self, hub: Hub, database: Database) -> None:
        """Describe the store; nothing is read until :meth:`async_load`."""
        self._hub = hub
        self._database = database

    async def async_load(self) -> list[Alert]:
        """Import the old JSON file if there is one, then return every alert, oldest first."""
        legacy = JsonAlertStore(self._hub)
        if legacy.path.exists():
            await self._async_import(legacy)
        return await self._database.async_run(_load)

    async def _async_import(self, legacy: JsonAlertStore) -> None:
        alerts = await legacy.async_load()  # a malformed file is refused and left alone

        def write(session: Session) -> int:
            known = set(session.scalars(select(AlertRow.alert_id)))
            fresh = [alert for alert in alerts if alert.id not in known]
            for alert in fresh:
                _save(session, alert)
            return len(fresh)

        imported = await self._database.async_run(write)
        target = legacy.path.with_name(legacy.path.name + ".imported")
        await self._hub.async_add_executor_job(legacy.path.replace, target)
        _LOGGER.info("Imported %d alerts from %s (now %s)", imported, legacy.path, target.name)

    async def async_save(self, alert: Alert) -> None:
        """Commit ``alert`` (new or changed) and its new audit entries."""
        await self._database.async_run(lambda session: _save(session, alert))

    async def async_delete(self, alert_ids: Collection[str]) -> None:
        """Delete the alerts ``alert_ids`` and their audit trails."""
        ids = list(alert_ids)

        def write(session: Session) -> None:
            session.execute(delete(AlertAuditRow).where(AlertAuditRow.alert_id.in_(ids)))
            session.execute(delete(AlertRow).where(AlertRow.alert_id.in_(ids)))

        await self._database.async_run(write)

    async def async_flush(self) -> None:
        """Nothing waits: every change is committed before :meth:`async_save` returns."""


def _load(session: Session) -> list[Alert]:
    history: dict[str, list[dict[str, Any]]] = {}
    audit = select(AlertAuditRow.alert_id, AlertAuditRow.entry).order_by(
        AlertAuditRow.alert_id, AlertAuditRow.seq
    )
    for alert_id, entry in session.execute(audit):
        history.setdefault(alert_id, []).append(json_loads(entry))
    alerts = []
    rows = select(AlertRow.alert_id, AlertRow.document).order_by(
        AlertRow.created_ts, AlertRow.alert_id
    )
    for alert_id, document in session.execute(rows):
        data = json_loads(document)
        data["history"] = history.get(alert_id, [])
        try:
            alerts.append(Alert.from_dict(data))
        except (KeyError, TypeError, ValueError) as err:
            raise StorageError(f"the database holds a malformed alert {alert_id}: {err!r}") from err
    return alerts


def _save(session: Session, alert: Alert) -> None:
    document = alert.as_dict()
    entries = document.pop("history")
    values = {
        "kind": alert.kind,
        "severity": alert.severity.value,
        "state": alert.state.value,
        "area_id": alert.area_id,
        "source_entity_id": alert.source_entity_id,
        "dedup_key": alert.dedup_key,
        "created_ts": alert.created_at.timestamp(),
        "updated_ts": alert.updated_at.timestamp(),
        "closed_ts": None if alert.closed_at is None else alert.closed_at.timestamp(),
        "document": json_dumps(document),
    }
    row = session.get(AlertRow, alert.id)
    if row is None:
        session.add(AlertRow(alert_id=alert.id, **values))
        stored = 0
    else:
        for key, value in values.items():
            setattr(row, key, value)
        stored = session.scalar(select(func.count()).where(AlertAuditRow.alert_id == alert.id)) or 0
    session.flush()
    for seq, entry in enumerate(entries[stored:], start=stored):
        session.add(
            AlertAuditRow(
                alert_id=alert.id,
                seq=seq,
                action=entry["action"],
                actor=entry["actor"],
                at_ts=alert.history[seq].at.timestamp(),
                entry=json_dumps(entry),
            )
        )
