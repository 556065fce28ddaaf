"""The alert manager: owns the alerts, applies changes, keeps and announces them.

Every change goes the same way, one at a time: the model makes the new version of the alert
(refusing invalid changes), the store keeps it, then the manager indexes it, fires
``alert_raised`` or ``alert_updated`` with the change's context and refreshes
``sensor.open_alerts``. Queries read the in-memory index and never wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from linli.callback import callback
from linli.components.alert.const import (
    DEFAULT_RETENTION_DAYS,
    EVENT_ALERT_RAISED,
    EVENT_ALERT_UPDATED,
    EVENT_ALERTS_PURGED,
    OPEN_ALERTS_ENTITY_ID,
    PURGE_INTERVAL_SECONDS,
)
from linli.components.alert.model import (
    MAX_DEDUP_KEY_LENGTH,
    SYSTEM_ACTOR,
    Alert,
    AlertError,
    AlertState,
    AuditAction,
    Evidence,
    Severity,
    Stamp,
    UnknownAlertError,
    check_text,
)
from linli.components.alert.store import AlertStore
from linli.const import EVENT_LINLI_FINAL_WRITE
from linli.context import Context
from linli.exceptions import LinliError, RegistryError
from linli.hub import HubKey
from linli.util.dt import as_utc
from linli.util.ids import ulid

if TYPE_CHECKING:
    from linli.bus import Event
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)

SENSOR_ATTRIBUTES: Final = {"friendly_name": "Open alerts", "icon": "mdi:alert"}


class AlertManager:
    """The hub's alerts: raise and change them, query them, purge the old closed ones."""

    def __init__(
        self,
        hub: Hub,
        store: AlertStore,
        *,
        retention: timedelta = timedelta(days=DEFAULT_RETENTION_DAYS),
        default_assignees: Mapping[str, str] | None = None,
    ) -> None:
        """Create an empty manager; :meth:`async_load` fills it, :meth:`async_start` runs it."""
        self._hub = hub
        self._store = store
        self.retention = retention
        """Closed alerts older than this (counted from closing) are purged."""
        self._default_assignees = dict(default_assignees or {})
        self._alerts: dict[str, Alert] = {}
        # Indexes kept in step with _alerts: open alert ids in creation order, and the open
        # alert holding each dedup key.
        self._open: dict[str, None] = {}
        self._by_dedup_key: dict[str, str] = {}
        # One change at a time, so a store that really waits (a database) keeps changes and
        # their events in order, and two raises with one dedup key make one alert.
        self._lock = asyncio.Lock()
        self._unsubscribe: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ lifecycle
    async def async_load(self) -> None:
        """Load the stored alerts."""
        for alert in await self._store.async_load():
            self._index(alert)

    async def async_start(self) -> None:
        """Purge expired alerts, publish the sensor, purge daily and write at final write."""
        await self.async_purge()
        self._update_sensor(None)
        self._unsubscribe.append(
            self._hub.async_track_time_interval(self._async_purge_tick, PURGE_INTERVAL_SECONDS)
        )
        self._unsubscribe.append(
            self._hub.bus.async_listen(EVENT_LINLI_FINAL_WRITE, self._async_final_write)
        )

    async def async_stop(self) -> None:
        """Stop the timers and write every pending change."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        await self._store.async_flush()

    async def _async_final_write(self, _event: Event[Any]) -> None:
        await self._store.async_flush()

    async def _async_purge_tick(self, now: datetime) -> None:
        await self.async_purge(now)

    # ------------------------------------------------------------------ queries
    @callback
    def get(self, alert_id: str) -> Alert | None:
        """Return the alert ``alert_id``, or None."""
        return self._alerts.get(alert_id)

    @callback
    def open_alerts(
        self, area_id: str | None = None, include_descendants: bool = True
    ) -> list[Alert]:
        """Return the open alerts (new or acknowledged), oldest first.

        With ``area_id``, only those in that area or (``include_descendants``) below it.
        """
        wanted = self._area_ids(area_id, include_descendants)
        alerts = (self._alerts[alert_id] for alert_id in self._open)
        return [alert for alert in alerts if wanted is None or alert.area_id in wanted]

    @callback
    def alerts(
        self,
        *,
        states: Iterable[AlertState | str] | None = None,
        kinds: Iterable[str] | None = None,
        since: datetime | None = None,
        area_id: str | None = None,
        include_descendants: bool = True,
    ) -> list[Alert]:
        """Return the alerts matching every filter given, oldest first.

        ``states`` and ``kinds`` match any of their values; ``since`` keeps alerts created at
        or after it; ``area_id`` is as for :meth:`open_alerts`.
        """
        since = None if since is None else as_utc(since)
        wanted_states = None if states is None else {AlertState(s) for s in states}
        wanted_kinds = None if kinds is None else set(kinds)
        wanted_areas = self._area_ids(area_id, include_descendants)
        return [
            alert
            for alert in self._alerts.values()
            if (wanted_states is None or alert.state in wanted_states)
            and (wanted_kinds is None or alert.kind in wanted_kinds)
            and (since is None or alert.created_at >= since)
            and (wanted_areas is None or alert.area_id in wanted_areas)
        ]

    def __len__(self) -> int:
        return len(self._alerts)

    def _area_ids(self, area_id: str | None, include_descendants: bool) -> set[str] | None:
        if area_id is None:
            return None
        if not include_descendants:
            return {area_id}
        try:
            return self._hub.registries.areas.descendant_ids(area_id)
        except RegistryError:
            # An area deleted since: the alerts raised there still carry its id.
            return {area_id}

    # ------------------------------------------------------------------ changes
    async def async_raise(
        self,
        kind: str,
        title: str,
        *,
        severity: Severity | str = Severity.WARNING,
        message: str | None = None,
        area_id: str | None = None,
        source_entity_id: str | None = None,
        evidence: Iterable[Evidence] = (),
        dedup_key: str | None = None,
        assignee: str | None = None,
        data: Mapping[str, Any] | None = None,
        context: Context | None = None,
        actor: str | None = None,
    ) -> tuple[Alert, bool]:
        """Raise an alert; return it and whether it is new.

        While an open alert has the same ``dedup_key``, that one is repeated instead (one
        more occurrence, escalated if ``severity`` is higher) and returned with False. Without
        ``area_id`` the area of ``source_entity_id`` is used, else the community. Without
        ``assignee`` the configured default for ``kind`` applies. The actor is ``actor``,
        else the context's user, else ``"system"``.
        """
        context = context or Context()
        if dedup_key is not None:
            dedup_key = check_text(dedup_key, "dedup_key", MAX_DEDUP_KEY_LENGTH)
        evidence = tuple(evidence)
        async with self._lock:
            stamp = self._stamp(context, actor)
            # Built (and so checked) even when it turns out to be a repeat: a call is valid
            # or not whatever else is open.
            candidate = Alert.create(
                ulid(stamp.at.timestamp()),
                stamp,
                kind=kind,
                title=title,
                severity=severity,
                message=message,
                area_id=self._resolve_area(area_id, source_entity_id),
                source_entity_id=source_entity_id,
                evidence=evidence,
                dedup_key=dedup_key,
                assignee=assignee if assignee is not None else self._default_assignees.get(kind),
                data=data,
            )
            existing_id = None if dedup_key is None else self._by_dedup_key.get(dedup_key)
            if existing_id is None:
                await self._async_commit(candidate, AuditAction.RAISED, context)
                _LOGGER.info(
                    "Alert %s raised: %s, %s, in %s",
                    candidate.id,
                    candidate.kind,
                    candidate.severity,
                    candidate.area_id,
                )
                return candidate, True
            existing = self._alerts[existing_id]
            repeated = existing.repeat(stamp, severity=candidate.severity, evidence=evidence)
            action = (
                AuditAction.ESCALATED
                if repeated.severity is not existing.severity
                else AuditAction.REPEATED
            )
            await self._async_commit(repeated, action, context)
            _LOGGER.debug("Alert %s %s (%d times)", existing_id, action, repeated.occurrences)
            return repeated, False

    async def async_acknowledge(
        self,
        alert_id: str,
        *,
        note: str | None = None,
        context: Context | None = None,
        actor: str | None = None,
    ) -> Alert:
        """Acknowledge an open alert: someone is on it."""
        return await self._async_change(
            alert_id,
            lambda alert, stamp: alert.acknowledge(stamp, note),
            AuditAction.ACKNOWLEDGED,
            context,
            actor,
        )

    async def async_resolve(
        self,
        alert_id: str,
        *,
        note: str | None = None,
        context: Context | None = None,
        actor: str | None = None,
    ) -> Alert:
        """Resolve an open alert; its dedup key is free again."""
        return await self._async_change(
            alert_id,
            lambda alert, stamp: alert.resolve(stamp, note),
            AuditAction.RESOLVED,
            context,
            actor,
        )

    async def async_dismiss(
        self,
        alert_id: str,
        *,
        note: str | None = None,
        context: Context | None = None,
        actor: str | None = None,
    ) -> Alert:
        """Dismiss an open alert (a false alarm); its dedup key is free again."""
        return await self._async_change(
            alert_id,
            lambda alert, stamp: alert.dismiss(stamp, note),
            AuditAction.DISMISSED,
            context,
            actor,
        )

    async def async_assign(
        self,
        alert_id: str,
        assignee: str,
        *,
        note: str | None = None,
        context: Context | None = None,
        actor: str | None = None,
    ) -> Alert:
        """Give an open alert to a user id or a role (``role:staff``)."""
        return await self._async_change(
            alert_id,
            lambda alert, stamp: alert.assign(assignee, stamp, note),
            AuditAction.ASSIGNED,
            context,
            actor,
        )

    async def async_note(
        self,
        alert_id: str,
        note: str,
        *,
        context: Context | None = None,
        actor: str | None = None,
    ) -> Alert:
        """Add a note to an alert's history, in any state."""
        return await self._async_change(
            alert_id,
            lambda alert, stamp: alert.add_note(note, stamp),
            AuditAction.NOTE,
            context,
            actor,
        )

    async def async_purge(self, now: datetime | None = None) -> int:
        """Delete alerts closed longer than :attr:`retention` before ``now``; return how many."""
        cutoff = (now or self._hub.clock.utcnow()) - self.retention
        async with self._lock:
            doomed = [alert.id for alert in self._alerts.values() if alert.closed_before(cutoff)]
            if not doomed:
                return 0
            await self._store.async_delete(doomed)
            for alert_id in doomed:
                del self._alerts[alert_id]
            self._hub.bus.async_fire(EVENT_ALERTS_PURGED, {"alert_ids": doomed})
        _LOGGER.info(
            "Purged %d closed alert%s older than %s",
            len(doomed),
            "" if len(doomed) == 1 else "s",
            self.retention,
        )
        return len(doomed)

    # ------------------------------------------------------------------ internals
    def _stamp(self, context: Context, actor: str | None) -> Stamp:
        return Stamp(actor or context.user_id or SYSTEM_ACTOR, self._hub.clock.utcnow(), context.id)

    def _resolve_area(self, area_id: str | None, source_entity_id: str | None) -> str:
        areas = self._hub.registries.areas
        if area_id is not None:
            if area_id not in areas:
                raise AlertError(f"unknown area {area_id!r}")
            return area_id
        if source_entity_id is not None and source_entity_id in self._hub.registries.entities:
            inferred = self._hub.registries.entities.effective_area_id(source_entity_id)
            if inferred is not None and inferred in areas:
                return inferred
        # Every alert has a place: one that cannot be placed concerns the whole community.
        return areas.root_id

    async def _async_change(
        self,
        alert_id: str,
        change: Callable[[Alert, Stamp], Alert],
        action: AuditAction,
        context: Context | None,
        actor: str | None,
    ) -> Alert:
        context = context or Context()
        async with self._lock:
            alert = self._alerts.get(alert_id)
            if alert is None:
                raise UnknownAlertError(alert_id)
            updated = change(alert, self._stamp(context, actor))
            await self._async_commit(updated, action, context)
        _LOGGER.debug("Alert %s %s", alert_id, action)
        return updated

    async def _async_commit(self, alert: Alert, action: AuditAction, context: Context) -> None:
        # Kept before it is announced: what the API and the UI are told about is stored.
        await self._store.async_save(alert)
        self._index(alert)
        self._hub.bus.async_fire(
            EVENT_ALERT_RAISED if action is AuditAction.RAISED else EVENT_ALERT_UPDATED,
            {"alert_id": alert.id, "action": action.value, "alert": alert.as_dict()},
            context=context,
        )
        self._update_sensor(context)

    def _index(self, alert: Alert) -> None:
        self._alerts[alert.id] = alert
        key = alert.dedup_key
        if alert.is_open:
            self._open[alert.id] = None
            if key is not None:
                self._by_dedup_key[key] = alert.id
        else:
            self._open.pop(alert.id, None)
            if key is not None and self._by_dedup_key.get(key) == alert.id:
                del self._by_dedup_key[key]

    @callback
    def _update_sensor(self, context: Context | None) -> None:
        counts: dict[str, int] = {severity.value: 0 for severity in Severity}
        counts.update({AlertState.NEW.value: 0, AlertState.ACKNOWLEDGED.value: 0})
        for alert_id in self._open:
            alert = self._alerts[alert_id]
            counts[alert.severity.value] += 1
            counts[alert.state.value] += 1
        self._hub.states.async_set(
            OPEN_ALERTS_ENTITY_ID,
            str(len(self._open)),
            {**counts, **SENSOR_ATTRIBUTES},
            context=context,
        )


ALERT_MANAGER: Final[HubKey[AlertManager]] = HubKey("alert.manager")


def get_manager(hub: Hub) -> AlertManager:
    """Return the hub's :class:`AlertManager`; raise if the alert integration is not set up."""
    manager = hub.data.get(ALERT_MANAGER)
    if manager is None:
        raise LinliError("The alert integration is not set up on this hub")
    return manager
