"""History and logbook queries, run in the database worker thread.

The answers have Home Assistant's JSON shapes, so its clients read them unchanged:

* history (``/api/history/period``): per entity, a list of states in time order. The first
  is a full state (``entity_id``, ``state``, ``attributes``, ``last_changed``,
  ``last_updated``); with ``minimal_response`` the rest are ``{"state", "last_changed"}``
  and only where the state differs from the one before. ``significant_changes_only`` keeps
  the rows where the state itself changed, except in :data:`SIGNIFICANT_DOMAINS` (climate,
  device trackers …) where attribute changes count too. ``include_start_time_state`` puts
  first the state each entity had when the period began, timed at the period's start.
* logbook (``/api/logbook``): state changes (not of sensors with a unit: those are
  measurements, not happenings), ``logbook_entry`` events, hub starts and stops and alerts,
  oldest first, each ``{"when", "name", "state" | "message", "entity_id", …}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import or_, select

from linli.components.recorder.const import NEED_ATTRIBUTE_DOMAINS, SIGNIFICANT_DOMAINS
from linli.const import EVENT_LINLI_START, EVENT_LINLI_STOP
from linli.db.models import EventData, Events, EventTypes, StateAttributes, States, StatesMeta
from linli.util.dt import utc_from_timestamp
from linli.util.json import json_loads

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

EVENT_LOGBOOK_ENTRY: Final = "logbook_entry"
LOGBOOK_EVENT_TYPES: Final = (
    EVENT_LOGBOOK_ENTRY,
    EVENT_LINLI_START,
    EVENT_LINLI_STOP,
    "alert_raised",
    "alert_updated",
)


def _iso(timestamp: float) -> str:
    return utc_from_timestamp(timestamp).isoformat()


def _metadata_ids(session: Session, entity_ids: Sequence[str] | None) -> dict[str, int]:
    query = select(StatesMeta.entity_id, StatesMeta.metadata_id)
    if entity_ids is not None:
        query = query.where(StatesMeta.entity_id.in_(entity_ids))
    found: dict[str, int] = {row[0]: row[1] for row in session.execute(query)}
    if entity_ids is None:
        return dict(sorted(found.items()))
    return {entity_id: found[entity_id] for entity_id in entity_ids if entity_id in found}


def _attributes(session: Session, ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = {attributes_id for attributes_id in ids if attributes_id is not None}
    if not wanted:
        return {}
    query = select(StateAttributes.attributes_id, StateAttributes.shared_attrs).where(
        StateAttributes.attributes_id.in_(wanted)
    )
    return {attributes_id: json_loads(text) for attributes_id, text in session.execute(query)}


_Row = tuple[int, str, int | None, float, float]
"""metadata_id, state, attributes_id, last_changed_ts, last_updated_ts"""

_COLUMNS = (
    States.metadata_id,
    States.state,
    States.attributes_id,
    States.last_changed_ts,
    States.last_updated_ts,
)


def state_changes_during_period(
    session: Session,
    start_ts: float,
    end_ts: float | None,
    entity_ids: Sequence[str] | None,
    *,
    significant_changes_only: bool = True,
    minimal_response: bool = False,
    no_attributes: bool = False,
    include_start_time_state: bool = True,
) -> dict[str, list[dict[str, Any]]]:
    """Return each entity's states from ``start_ts`` to ``end_ts`` (see the module doc)."""
    metadata = _metadata_ids(session, entity_ids)
    if not metadata:
        return {}
    ids = list(metadata.values())
    rows: dict[int, list[_Row]] = {metadata_id: [] for metadata_id in ids}

    if include_start_time_state:
        for metadata_id in ids:
            before = session.execute(
                select(*_COLUMNS)
                .where(States.metadata_id == metadata_id, States.last_updated_ts < start_ts)
                .order_by(States.last_updated_ts.desc())
                .limit(1)
            ).first()
            if before is not None:
                rows[metadata_id].append(tuple(before))  # type: ignore[arg-type]

    query = select(*_COLUMNS).where(States.metadata_id.in_(ids), States.last_updated_ts >= start_ts)
    if end_ts is not None:
        query = query.where(States.last_updated_ts < end_ts)
    if significant_changes_only:
        significant = [
            metadata_id
            for entity_id, metadata_id in metadata.items()
            if entity_id.partition(".")[0] in SIGNIFICANT_DOMAINS
        ]
        changed = States.last_changed_ts == States.last_updated_ts
        query = query.where(
            or_(changed, States.metadata_id.in_(significant)) if significant else changed
        )
    for row in session.execute(query.order_by(States.metadata_id, States.last_updated_ts)):
        rows[row[0]].append(tuple(row))  # type: ignore[arg-type]

    needed: list[int | None] = []
    if not no_attributes:
        for entity_id, metadata_id in metadata.items():
            found = rows[metadata_id]
            if minimal_response and entity_id.partition(".")[0] not in NEED_ATTRIBUTE_DOMAINS:
                needed.extend(row[2] for row in found[:1])
            else:
                needed.extend(row[2] for row in found)
    attributes = _attributes(session, needed)

    result: dict[str, list[dict[str, Any]]] = {}
    for entity_id, metadata_id in metadata.items():
        found = rows[metadata_id]
        if not found:
            continue
        full_rows = not minimal_response or entity_id.partition(".")[0] in NEED_ATTRIBUTE_DOMAINS
        states: list[dict[str, Any]] = []
        previous: str | None = None
        for index, (_, state, attributes_id, row_changed_ts, row_updated_ts) in enumerate(found):
            # The state the entity had when the period began is timed at the period's start.
            changed_ts, updated_ts = (
                (start_ts, start_ts)
                if row_updated_ts < start_ts
                else (row_changed_ts, row_updated_ts)
            )
            if index == 0 or full_rows:
                states.append(
                    {
                        "entity_id": entity_id,
                        "state": state,
                        "attributes": {}
                        if no_attributes or attributes_id is None
                        else attributes.get(attributes_id, {}),
                        "last_changed": _iso(changed_ts),
                        "last_updated": _iso(updated_ts),
                    }
                )
            elif state != previous:
                states.append({"state": state, "last_changed": _iso(updated_ts)})
            previous = state
        result[entity_id] = states
    return result


def logbook(
    session: Session,
    start_ts: float,
    end_ts: float | None,
    entity_ids: Sequence[str] | None,
) -> list[dict[str, Any]]:
    """Return the logbook entries from ``start_ts`` to ``end_ts`` (see the module doc)."""
    entries: list[tuple[float, dict[str, Any]]] = []
    metadata = _metadata_ids(session, entity_ids)
    if metadata:
        by_id = {metadata_id: entity_id for entity_id, metadata_id in metadata.items()}
        query = select(
            States.metadata_id,
            States.state,
            States.attributes_id,
            States.last_updated_ts,
            States.context_id,
            States.context_user_id,
        ).where(
            States.last_updated_ts >= start_ts,
            States.last_changed_ts == States.last_updated_ts,
        )
        if entity_ids is not None:
            query = query.where(States.metadata_id.in_(list(by_id)))
        if end_ts is not None:
            query = query.where(States.last_updated_ts < end_ts)
        found = session.execute(query.order_by(States.last_updated_ts)).all()
        attributes = _attributes(session, (row[2] for row in found))
        for metadata_id, state, attributes_id, updated_ts, context_id, user_id in found:
            entity_id = by_id.get(metadata_id)
            if entity_id is None:
                continue
            attrs = attributes.get(attributes_id, {}) if attributes_id is not None else {}
            if entity_id.startswith("sensor.") and (
                "unit_of_measurement" in attrs or "state_class" in attrs
            ):
                continue
            entry: dict[str, Any] = {
                "when": _iso(updated_ts),
                "name": attrs.get("friendly_name") or entity_id.partition(".")[2].replace("_", " "),
                "state": state,
                "entity_id": entity_id,
                "context_id": context_id,
            }
            if user_id is not None:
                entry["context_user_id"] = user_id
            entries.append((updated_ts, entry))

    query_events = (
        select(
            EventTypes.event_type,
            EventData.shared_data,
            Events.time_fired_ts,
            Events.context_id,
            Events.context_user_id,
        )
        .join(EventTypes, Events.event_type_id == EventTypes.event_type_id)
        .outerjoin(EventData, Events.data_id == EventData.data_id)
        .where(EventTypes.event_type.in_(LOGBOOK_EVENT_TYPES), Events.time_fired_ts >= start_ts)
    )
    if end_ts is not None:
        query_events = query_events.where(Events.time_fired_ts < end_ts)
    wanted = None if entity_ids is None else set(entity_ids)
    for event_type, shared, fired_ts, context_id, user_id in session.execute(query_events):
        data: dict[str, Any] = json_loads(shared) if shared else {}
        described = _event_entry(event_type, data)
        if described is None:
            continue
        if wanted is not None and described.get("entity_id") not in wanted:
            continue
        entry = {"when": _iso(fired_ts), **described, "context_id": context_id}
        if user_id is not None:
            entry["context_user_id"] = user_id
        entries.append((fired_ts, entry))
    entries.sort(key=lambda item: item[0])
    return [entry for _, entry in entries]


def _event_entry(event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    if event_type == EVENT_LOGBOOK_ENTRY:
        entry = {
            "name": data.get("name"),
            "message": data.get("message"),
            "domain": data.get("domain"),
        }
        if data.get("entity_id"):
            entry["entity_id"] = data["entity_id"]
        return entry
    if event_type in (EVENT_LINLI_START, EVENT_LINLI_STOP):
        verb = "started" if event_type == EVENT_LINLI_START else "stopped"
        return {"name": "Linli", "message": verb, "domain": "linli"}
    alert = data.get("alert")
    if not isinstance(alert, dict):
        return None
    entry = {
        "name": alert.get("title"),
        "message": f"alert {data.get('action', 'raised')}",
        "domain": "alert",
        "alert_id": alert.get("id"),
    }
    if alert.get("source_entity_id"):
        entry["entity_id"] = alert["source_entity_id"]
    return entry
