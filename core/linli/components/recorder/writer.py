"""The recorder's write side, run in the database worker thread.

A batch of events becomes rows in one transaction: entity ids, event types, attribute sets
and event payloads are looked up (in memory first, then in the database) and inserted only
when new, then the state and event rows are inserted in bulk. Caches are undone when the
transaction fails and cleared after a purge, so they never point at rows that do not exist.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import insert, select

from linli.bus import EventOrigin
from linli.const import EVENT_STATE_CHANGED
from linli.db.models import EventData, Events, EventTypes, StateAttributes, States, StatesMeta
from linli.util.json import json_dumps

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from linli.bus import Event
    from linli.db import Database
    from linli.state import State

_LOGGER = logging.getLogger(__name__)

SHARED_CACHE_SIZE: Final = 8192
"""Attribute sets and event payloads remembered by their JSON text."""


def fingerprint(text: str) -> int:
    """Return a signed 64-bit hash of ``text`` (the ``hash`` column of shared rows)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _Lru(OrderedDict[str, int]):
    """A small LRU map from shared JSON text to its row id."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def hit(self, key: str) -> int | None:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: str, value: int) -> None:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)


class RecorderWriter:
    """Turns batches of events into rows; lives in (and is only used by) the worker thread."""

    def __init__(self, database: Database) -> None:
        """Write through ``database`` (started)."""
        self._database = database
        self._meta: dict[str, int] = {}
        self._event_types: dict[str, int] = {}
        self._attrs = _Lru(SHARED_CACHE_SIZE)
        self._data = _Lru(SHARED_CACHE_SIZE)
        self._new: list[tuple[dict[str, int], str]] = []
        self._unencodable: set[str] = set()
        self.states_written = 0
        self.events_written = 0

    # ------------------------------------------------------------------ entry points
    def write(self, events: Sequence[Event[Any]]) -> int:
        """Write ``events`` in one transaction; return how many rows were written."""
        self._new = []
        try:
            return self._database.run_in_session(lambda session: self._write(session, events))
        except BaseException:
            for cache, key in self._new:  # ids of a rolled-back transaction
                cache.pop(key, None)
            raise
        finally:
            self._new = []

    def write_states(self, session: Session, states: Iterable[State]) -> int:
        """Insert rows for ``states`` (bulk loading: benchmarks, imports); no commit."""
        rows = [self._state_row(session, state, 0) for state in states]
        if rows:
            session.execute(insert(States), rows)
        return len(rows)

    def forget(self) -> None:
        """Drop the caches (after a purge deleted shared rows)."""
        self._meta.clear()
        self._event_types.clear()
        self._attrs.clear()
        self._data.clear()

    # ------------------------------------------------------------------ internals
    def _write(self, session: Session, events: Sequence[Event[Any]]) -> int:
        state_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        for event in events:
            origin = 1 if event.origin is EventOrigin.remote else 0
            if event.event_type == EVENT_STATE_CHANGED:
                state_rows.append(self._state_row(session, event.data["new_state"], origin))
                continue
            row = self._event_row(session, event, origin)
            if row is not None:
                event_rows.append(row)
        if state_rows:
            session.execute(insert(States), state_rows)
        if event_rows:
            session.execute(insert(Events), event_rows)
        self.states_written += len(state_rows)
        self.events_written += len(event_rows)
        return len(state_rows) + len(event_rows)

    def _state_row(self, session: Session, state: State, origin: int) -> dict[str, Any]:
        context = state.context
        return {
            "metadata_id": self._metadata_id(session, state.entity_id),
            "state": state.state,
            "attributes_id": self._shared_id(
                session, StateAttributes, self._attrs, json_dumps(dict(state.attributes))
            ),
            "last_changed_ts": state.last_changed_timestamp,
            "last_updated_ts": state.last_updated_timestamp,
            "context_id": context.id,
            "context_user_id": context.user_id,
            "context_parent_id": context.parent_id,
            "origin_idx": origin,
        }

    def _event_row(self, session: Session, event: Event[Any], origin: int) -> dict[str, Any] | None:
        data_id = None
        if event.data:
            try:
                shared = json_dumps(event.data)
            except TypeError as err:
                if event.event_type not in self._unencodable:
                    self._unencodable.add(event.event_type)
                    _LOGGER.warning("Not recording %s events: %s", event.event_type, err)
                return None
            data_id = self._shared_id(session, EventData, self._data, shared)
        context = event.context
        return {
            "event_type_id": self._event_type_id(session, event.event_type),
            "data_id": data_id,
            "origin_idx": origin,
            "time_fired_ts": event.time_fired_timestamp,
            "context_id": context.id,
            "context_user_id": context.user_id,
            "context_parent_id": context.parent_id,
        }

    def _metadata_id(self, session: Session, entity_id: str) -> int:
        found = self._meta.get(entity_id)
        if found is not None:
            return found
        found = session.scalar(
            select(StatesMeta.metadata_id).where(StatesMeta.entity_id == entity_id)
        )
        if found is None:
            found = session.execute(
                insert(StatesMeta).returning(StatesMeta.metadata_id), {"entity_id": entity_id}
            ).scalar_one()
            self._new.append((self._meta, entity_id))
        self._meta[entity_id] = found
        return found

    def _event_type_id(self, session: Session, event_type: str) -> int:
        found = self._event_types.get(event_type)
        if found is not None:
            return found
        found = session.scalar(
            select(EventTypes.event_type_id).where(EventTypes.event_type == event_type)
        )
        if found is None:
            found = session.execute(
                insert(EventTypes).returning(EventTypes.event_type_id),
                {"event_type": event_type},
            ).scalar_one()
            self._new.append((self._event_types, event_type))
        self._event_types[event_type] = found
        return found

    def _shared_id(
        self,
        session: Session,
        model: type[StateAttributes] | type[EventData],
        cache: _Lru,
        shared: str,
    ) -> int:
        found = cache.hit(shared)
        if found is not None:
            return found
        digest = fingerprint(shared)
        if model is StateAttributes:
            query = select(StateAttributes.attributes_id, StateAttributes.shared_attrs).where(
                StateAttributes.hash == digest
            )
            statement = insert(StateAttributes).returning(StateAttributes.attributes_id)
            values = {"hash": digest, "shared_attrs": shared}
        else:
            query = select(EventData.data_id, EventData.shared_data).where(EventData.hash == digest)
            statement = insert(EventData).returning(EventData.data_id)
            values = {"hash": digest, "shared_data": shared}
        for row_id, text in session.execute(query):
            if text == shared:
                cache.put(shared, row_id)
                return int(row_id)
        new_id = int(session.execute(statement, values).scalar_one())
        cache.put(shared, new_id)
        self._new.append((cache, shared))
        return new_id
