"""The recorder on the loop: takes events, batches them, hands batches to the worker.

The event listener only appends to a list; a timer hands the list to the database worker
every ``commit_interval`` seconds (one transaction per batch). The backlog (events waiting
plus those being written) is bounded: past ``max_backlog`` new events are dropped, counted
and logged, so a database that cannot keep up costs data, never all the memory. Ledgers
(alerts, audit, consents) do not go through here: they commit through
:meth:`linli.db.Database.async_run`, each change in its own transaction, and are never
dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from linli.bus import Event
from linli.callback import callback
from linli.components.recorder import history
from linli.components.recorder.const import (
    ALWAYS_EXCLUDED_EVENT_TYPES,
    EVENT_RECORDER_PURGED,
    PURGE_INTERVAL_SECONDS,
)
from linli.components.recorder.purge import PurgeCutoffs, purge
from linli.components.recorder.writer import RecorderWriter
from linli.const import EVENT_STATE_CHANGED, MATCH_ALL
from linli.exceptions import LinliError
from linli.hub import HubKey
from linli.util.dt import as_utc

if TYPE_CHECKING:
    from linli.clock import CancelCallback
    from linli.db import Database
    from linli.helpers.entityfilter import EntityFilter
    from linli.hub import Hub

_LOGGER = logging.getLogger(__name__)


class Recorder:
    """Records states and events in batches; answers history and logbook queries."""

    def __init__(
        self,
        hub: Hub,
        database: Database,
        *,
        commit_interval: float,
        keep_days: float,
        audit_keep_days: float,
        consent_keep_days: float,
        auto_purge: bool,
        entity_filter: EntityFilter,
        exclude_event_types: Sequence[str] = (),
        max_backlog: int,
    ) -> None:
        """Describe the recorder; :meth:`async_start` starts recording."""
        self._hub = hub
        self.database = database
        self.commit_interval = commit_interval
        self.keep_days = keep_days
        self.audit_keep_days = audit_keep_days
        self.consent_keep_days = consent_keep_days
        self.auto_purge = auto_purge
        self.entity_filter = entity_filter
        self.exclude_event_types = frozenset(exclude_event_types) | ALWAYS_EXCLUDED_EVENT_TYPES
        self.max_backlog = max_backlog
        self.writer = RecorderWriter(database)
        self.dropped = 0
        """Events dropped because the backlog was full (since start)."""
        self._dropping = 0
        self._pending: list[Event[Any]] = []
        self._in_flight = 0
        self._commit: asyncio.Future[int] | None = None
        self._cancel_timer: CancelCallback | None = None
        self._unsubscribe: list[CancelCallback] = []

    # ------------------------------------------------------------------ lifecycle
    @callback
    def async_start(self) -> None:
        """Record the states set before the recorder was (integrations set up earlier), then
        listen to every event; purge daily when ``auto_purge``."""
        for state in self._hub.states.async_all():
            self._async_record(
                Event(
                    EVENT_STATE_CHANGED,
                    {"entity_id": state.entity_id, "old_state": None, "new_state": state},
                    time_fired_timestamp=state.last_updated_timestamp,
                    context=state.context,
                )
            )
        self._unsubscribe.append(self._hub.bus.async_listen(MATCH_ALL, self._async_record))
        if self.auto_purge:
            self._unsubscribe.append(
                self._hub.async_track_time_interval(self._async_purge_tick, PURGE_INTERVAL_SECONDS)
            )

    async def async_stop(self) -> None:
        """Stop listening and write everything still waiting."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        await self.async_flush()

    @property
    def backlog(self) -> int:
        """Events recorded but not yet committed (waiting, or being written)."""
        return len(self._pending) + self._in_flight

    # ------------------------------------------------------------------ recording
    @callback
    def _async_record(self, event: Event[Any]) -> None:
        event_type = event.event_type
        if event_type == EVENT_STATE_CHANGED:
            new_state = event.data.get("new_state")
            if new_state is None or not self.entity_filter(new_state.entity_id):
                return
        elif event_type in self.exclude_event_types:
            return
        if self.backlog >= self.max_backlog:
            self._drop()
            return
        self._pending.append(event)
        if self._cancel_timer is None and (self._commit is None or self._commit.done()):
            self._arm_timer()

    def _drop(self) -> None:
        self.dropped += 1
        self._dropping += 1
        if self._dropping == 1:
            _LOGGER.warning(
                "The database is not keeping up: %d events wait to be written; dropping new "
                "events until it catches up (raise recorder.max_backlog or use a faster "
                "database)",
                self.max_backlog,
            )

    @callback
    def _arm_timer(self) -> None:
        self._cancel_timer = self._hub.async_call_later(self.commit_interval, self._commit_due)

    @callback
    def _commit_due(self, _now: datetime) -> None:
        self._cancel_timer = None
        self._start_commit()

    @callback
    def _start_commit(self) -> asyncio.Future[int] | None:
        if self._commit is not None and not self._commit.done():
            return self._commit
        if not self._pending:
            return None
        batch, self._pending = self._pending, []
        self._in_flight = len(batch)
        self._commit = commit = self.database.submit(partial(self.writer.write, batch))
        commit.add_done_callback(self._commit_done)
        return commit

    def _commit_done(self, commit: asyncio.Future[int]) -> None:
        lost = self._in_flight
        self._in_flight = 0
        if commit.cancelled():
            return
        if (error := commit.exception()) is not None:
            self.dropped += lost
            _LOGGER.error("Could not record %d events: %r", lost, error, exc_info=error)
        if self._dropping:
            _LOGGER.warning("The database caught up; %d events were dropped", self._dropping)
            self._dropping = 0
        if self._pending and self._cancel_timer is None:
            self._arm_timer()

    async def async_flush(self) -> None:
        """Write every event recorded so far; return when it is committed."""
        while True:
            if self._commit is not None and not self._commit.done():
                with contextlib.suppress(Exception):  # logged by _commit_done
                    await asyncio.shield(self._commit)
                continue
            if not self._pending:
                break
            if self._cancel_timer is not None:
                self._cancel_timer()
                self._cancel_timer = None
            self._start_commit()
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None

    # ------------------------------------------------------------------ queries
    async def async_state_changes_during_period(
        self,
        start: datetime,
        end: datetime | None = None,
        entity_ids: list[str] | None = None,
        *,
        significant_changes_only: bool = True,
        minimal_response: bool = False,
        no_attributes: bool = False,
        include_start_time_state: bool = True,
    ) -> dict[str, list[dict[str, Any]]]:
        """Return each entity's states in the period, in Home Assistant's history shape.

        See :mod:`linli.components.recorder.history` for the shape and the options.
        """
        await self.async_flush()
        return await self.database.async_run(
            partial(
                history.state_changes_during_period,
                start_ts=as_utc(start).timestamp(),
                end_ts=None if end is None else as_utc(end).timestamp(),
                entity_ids=entity_ids,
                significant_changes_only=significant_changes_only,
                minimal_response=minimal_response,
                no_attributes=no_attributes,
                include_start_time_state=include_start_time_state,
            )
        )

    async def async_logbook(
        self,
        start: datetime,
        end: datetime | None = None,
        entity_ids: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Return the logbook entries of the period, oldest first (Home Assistant's shape)."""
        await self.async_flush()
        return await self.database.async_run(
            partial(
                history.logbook,
                start_ts=as_utc(start).timestamp(),
                end_ts=None if end is None else as_utc(end).timestamp(),
                entity_ids=entity_ids,
            )
        )

    # ------------------------------------------------------------------ retention
    async def _async_purge_tick(self, now: datetime) -> None:
        await self.async_purge(now=now)

    async def async_purge(
        self, keep_days: float | None = None, *, now: datetime | None = None
    ) -> dict[str, int]:
        """Delete rows past their retention (``keep_days`` overrides states and events)."""
        await self.async_flush()
        now_ts = (now or self._hub.clock.utcnow()).timestamp()
        day = timedelta(days=1).total_seconds()
        cutoffs = PurgeCutoffs(
            states_and_events=now_ts - (self.keep_days if keep_days is None else keep_days) * day,
            audit=now_ts - self.audit_keep_days * day,
            consents=now_ts - self.consent_keep_days * day,
        )

        def run() -> dict[str, int]:
            try:
                return self.database.run_in_session(lambda session: purge(session, cutoffs))
            finally:
                self.writer.forget()

        deleted = await self.database.async_submit(run)
        if any(deleted.values()):
            _LOGGER.info("Purged %s", ", ".join(f"{n} {kind}" for kind, n in deleted.items() if n))
        self._hub.bus.async_fire(EVENT_RECORDER_PURGED, deleted)
        return deleted


RECORDER: Final[HubKey[Recorder]] = HubKey("recorder")


def get_recorder(hub: Hub) -> Recorder:
    """Return the hub's :class:`Recorder`; raise if the recorder is not set up."""
    recorder = hub.data.get(RECORDER)
    if recorder is None:
        raise LinliError("The recorder integration is not set up on this hub")
    return recorder
