"""Where alerts are kept: a small interface, and a JSON file behind it for now.

The manager only speaks :class:`AlertStore`, one alert at a time, so a store writing each
change to a database ledger can replace :class:`JsonAlertStore` without touching it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Final, Protocol

from linli.callback import callback
from linli.components.alert.model import Alert
from linli.exceptions import StorageError
from linli.storage import Store

if TYPE_CHECKING:
    from linli.hub import Hub

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
