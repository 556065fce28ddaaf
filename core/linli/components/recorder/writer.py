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

WRITE_SLICE: Final = 1000
"""Events written per slice of one commit (bounds the memory a burst takes)."""
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


_LOOKUP_CHUNK: Final = 500
"""Values per ``IN (…)`` lookup: well under SQLite's and PostgreSQL's parameter limits."""


class RecorderWriter:
    """Turns batches of events into rows; lives in (and is only used by) the worker thread.

    A batch costs a handful of statements whatever its size: the entity ids, event types,
    attribute sets and payloads it needs that are not cached are looked up with one
    ``IN (…)`` query per kind, the missing ones inserted with one multi-row ``INSERT …
    RETURNING``, and the state and event rows inserted with one executemany each.
    """

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
        pending = [(state, json_dumps(dict(state.attributes)), 0) for state in states]
        return self._insert_states(session, pending)

    def forget(self) -> None:
        """Drop the caches (after a purge deleted shared rows)."""
        self._meta.clear()
        self._event_types.clear()
        self._attrs.clear()
        self._data.clear()

    # ------------------------------------------------------------------ internals
    def _write(self, session: Session, events: Sequence[Event[Any]]) -> int:
        # In slices: a burst of thousands of events would otherwise build every row at once,
        # and the memory that peak takes is not given back to the system afterwards.
        return sum(
            self._write_slice(session, events[start : start + WRITE_SLICE])
            for start in range(0, len(events), WRITE_SLICE)
        )

    def _write_slice(self, session: Session, events: Sequence[Event[Any]]) -> int:
        states: list[tuple[State, str, int]] = []
        others: list[tuple[Event[Any], str | None, int]] = []
        for event in events:
            origin = 1 if event.origin is EventOrigin.remote else 0
            if event.event_type == EVENT_STATE_CHANGED:
                state = event.data["new_state"]
                states.append((state, json_dumps(dict(state.attributes)), origin))
                continue
            shared = None
            if event.data:
                try:
                    shared = json_dumps(event.data)
                except TypeError as err:
                    if event.event_type not in self._unencodable:
                        self._unencodable.add(event.event_type)
                        _LOGGER.warning("Not recording %s events: %s", event.event_type, err)
                    continue
            others.append((event, shared, origin))
        written_states = self._insert_states(session, states)
        written_events = self._insert_events(session, others)
        self.states_written += written_states
        self.events_written += written_events
        return written_states + written_events

    def _insert_states(self, session: Session, pending: Sequence[tuple[State, str, int]]) -> int:
        if not pending:
            return 0
        meta = self._names(
            session,
            StatesMeta.__table__,
            "entity_id",
            "metadata_id",
            self._meta,
            {state.entity_id for state, _, _ in pending},
        )
        attrs = self._shared(
            session,
            StateAttributes.__table__,
            "shared_attrs",
            "attributes_id",
            self._attrs,
            {shared for _, shared, _ in pending},
        )
        rows = []
        for state, shared, origin in pending:
            context = state.context
            rows.append(
                {
                    "metadata_id": meta[state.entity_id],
                    "state": state.state,
                    "attributes_id": attrs[shared],
                    "last_changed_ts": state.last_changed_timestamp,
                    "last_updated_ts": state.last_updated_timestamp,
                    "context_id": context.id,
                    "context_user_id": context.user_id,
                    "context_parent_id": context.parent_id,
                    "origin_idx": origin,
                }
            )
        session.connection().execute(insert(States), rows)
        return len(rows)

    def _insert_events(
        self, session: Session, pending: Sequence[tuple[Event[Any], str | None, int]]
    ) -> int:
        if not pending:
            return 0
        types = self._names(
            session,
            EventTypes.__table__,
            "event_type",
            "event_type_id",
            self._event_types,
            {event.event_type for event, _, _ in pending},
        )
        data = self._shared(
            session,
            EventData.__table__,
            "shared_data",
            "data_id",
            self._data,
            {shared for _, shared, _ in pending if shared is not None},
        )
        rows = []
        for event, shared, origin in pending:
            context = event.context
            rows.append(
                {
                    "event_type_id": types[event.event_type],
                    "data_id": None if shared is None else data[shared],
                    "origin_idx": origin,
                    "time_fired_ts": event.time_fired_timestamp,
                    "context_id": context.id,
                    "context_user_id": context.user_id,
                    "context_parent_id": context.parent_id,
                }
            )
        session.connection().execute(insert(Events), rows)
        return len(rows)

    def _names(
        self,
        session: Session,
        table: Any,
        name_column: str,
        id_column: str,
        cache: dict[str, int],
        wanted: set[str],
    ) -> dict[str, int]:
        """Ids of the unique names ``wanted`` (entity ids, event types), inserting new ones."""
        found = {name: cache[name] for name in wanted if name in cache}
        missing = sorted(wanted.difference(found))
        if not missing:
            return found
        connection = session.connection()
        names, ids = table.c[name_column], table.c[id_column]
        for chunk in _chunks(missing):
            for name, row_id in connection.execute(select(names, ids).where(names.in_(chunk))):
                found[name] = cache[name] = int(row_id)
        new = [name for name in missing if name not in found]
        if new:
            statement = insert(table).returning(ids, sort_by_parameter_order=True)
            result = connection.execute(statement, [{name_column: name} for name in new])
            for name, row_id in zip(new, result.scalars(), strict=True):
                found[name] = cache[name] = int(row_id)
                self._new.append((cache, name))
        return found

    def _shared(
        self,
        session: Session,
        table: Any,
        text_column: str,
        id_column: str,
        cache: _Lru,
        wanted: set[str],
    ) -> dict[str, int]:
        """Ids of the JSON texts ``wanted`` (found by hash, then text), inserting new ones."""
        found: dict[str, int] = {}
        missing: dict[int, list[str]] = {}
        for text in wanted:
            row_id = cache.hit(text)
            if row_id is None:
                missing.setdefault(fingerprint(text), []).append(text)
            else:
                found[text] = row_id
        if not missing:
            return found
        connection = session.connection()
        hashes, texts, ids = table.c.hash, table.c[text_column], table.c[id_column]
        for chunk in _chunks(sorted(missing)):
            query = select(ids, hashes, texts).where(hashes.in_(chunk))
            for row_id, digest, text in connection.execute(query):
                if text in missing.get(digest, ()):
                    found[text] = int(row_id)
                    cache.put(text, int(row_id))
        new = [
            (digest, text)
            for digest, candidates in missing.items()
            for text in candidates
            if text not in found
        ]
        if new:
            statement = insert(table).returning(ids, sort_by_parameter_order=True)
            values = [{"hash": digest, text_column: text} for digest, text in new]
            result = connection.execute(statement, values)
            for (_, text), row_id in zip(new, result.scalars(), strict=True):
                found[text] = int(row_id)
                cache.put(text, int(row_id))
                self._new.append((cache, text))
        return found


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _LOOKUP_CHUNK):
        yield values[start : start + _LOOKUP_CHUNK]
