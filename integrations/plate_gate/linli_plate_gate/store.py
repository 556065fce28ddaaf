"""The plate ledgers: resident plates, visitor passes, the blacklist, the gate log, presence.

Tables live on the integration's own :data:`METADATA` (names prefixed ``plate_gate_``) in the
hub's database. Every change is one committed transaction. Plates, passes and the blacklist
are also held in memory, indexed by number, so a decision needs no database read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from linli_plate_gate.plates import PlateColor, PlateKey

METADATA: Final = MetaData()

_ID = 32
_TEXT = 255

RESIDENT_PLATES: Final = Table(
    "plate_gate_resident_plates",
    METADATA,
    Column("id", String(_ID), primary_key=True),
    Column("household_id", String(64), nullable=False, index=True),
    Column("plate", String(32), nullable=False, index=True),
    Column("color", String(16)),
    Column("plate_class", String(24), nullable=False),
    Column("note", String(_TEXT)),
    Column("created_ts", Float, nullable=False),
    Column("created_by", String(64)),
)

VISITOR_PASSES: Final = Table(
    "plate_gate_visitor_passes",
    METADATA,
    Column("id", String(_ID), primary_key=True),
    Column("household_id", String(64), nullable=False, index=True),
    Column("plate", String(32), nullable=False, index=True),
    Column("color", String(16)),
    Column("start_ts", Float, nullable=False),
    Column("end_ts", Float, nullable=False, index=True),
    Column("note", String(_TEXT)),
    Column("created_ts", Float, nullable=False),
    Column("created_by", String(64)),
    Column("uses", Integer, nullable=False, default=0),
    Column("first_used_ts", Float),
    Column("last_read_id", String(_ID)),
)

BLACKLIST: Final = Table(
    "plate_gate_blacklist",
    METADATA,
    Column("id", String(_ID), primary_key=True),
    Column("plate", String(32), nullable=False, index=True),
    Column("color", String(16)),
    Column("reason", String(_TEXT)),
    Column("created_ts", Float, nullable=False),
    Column("created_by", String(64)),
)

READS: Final = Table(
    "plate_gate_reads",
    METADATA,
    Column("read_id", String(_ID), primary_key=True),
    Column("time_ts", Float, nullable=False, index=True),
    Column("record_ts", Float),
    Column("gate_id", String(64), nullable=False),
    Column("car_park", String(64), nullable=False),
    Column("area_id", String(64)),
    Column("direction", String(8), nullable=False),
    Column("source", String(8), nullable=False),
    Column("raw_plate", String(64), nullable=False),
    Column("plate", String(32), nullable=False, index=True),
    Column("color", String(16)),
    Column("plate_class", String(24), nullable=False),
    Column("plate_valid", Boolean, nullable=False),
    Column("plate_flag", String(24)),
    Column("confidence", Float),
    Column("category", String(16), nullable=False),
    Column("decision", String(8), nullable=False),
    Column("household_id", String(64), index=True),
    Column("visitor_pass_id", String(_ID)),
    Column("offline", Boolean, nullable=False),
    Column("dedup_key", String(255), unique=True),
    Column("opened_by", String(64)),
    Column("opened_ts", Float),
    Column("denied_by", String(64)),
    Column("denied_ts", Float),
    Index("ix_plate_gate_reads_gate_time", "gate_id", "time_ts"),
)
"""The gate log: every read, its decision and who opened (``hub`` for the hub itself)."""

PRESENCE: Final = Table(
    "plate_gate_presence",
    METADATA,
    Column("car_park", String(64), primary_key=True),
    Column("plate", String(32), primary_key=True),
    Column("color", String(16), primary_key=True),
    Column("entered_ts", Float, nullable=False),
    Column("read_id", String(_ID)),
)
"""The cars in each car park now (colour ``""`` when unknown)."""


def _color(value: str | None) -> PlateColor | None:
    return PlateColor(value) if value else None


def _color_text(color: PlateColor | None) -> str | None:
    return None if color is None else color.value


@dataclass(frozen=True, slots=True)
class ResidentPlate:
    """A plate registered to a household."""

    id: str
    household_id: str
    key: PlateKey
    plate_class: str
    note: str | None
    created_ts: float
    created_by: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "id": self.id,
            "household_id": self.household_id,
            "plate": self.key.number,
            "color": _color_text(self.key.color),
            "class": self.plate_class,
            "note": self.note,
            "created_ts": self.created_ts,
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class VisitorPass:
    """A visitor's plate a household registered for a time window."""

    id: str
    household_id: str
    key: PlateKey
    start_ts: float
    end_ts: float
    note: str | None
    created_ts: float
    created_by: str | None
    uses: int = 0
    first_used_ts: float | None = None
    last_read_id: str | None = None

    def holds(self, when: float) -> bool:
        """Whether ``when`` lies in the window (start inclusive, end exclusive)."""
        return self.start_ts <= when < self.end_ts

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "id": self.id,
            "household_id": self.household_id,
            "plate": self.key.number,
            "color": _color_text(self.key.color),
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
            "note": self.note,
            "created_ts": self.created_ts,
            "created_by": self.created_by,
            "uses": self.uses,
            "used": self.uses > 0,
            "first_used_ts": self.first_used_ts,
            "last_read_id": self.last_read_id,
        }


@dataclass(frozen=True, slots=True)
class BlacklistEntry:
    """A plate never let in."""

    id: str
    key: PlateKey
    reason: str | None
    created_ts: float
    created_by: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "id": self.id,
            "plate": self.key.number,
            "color": _color_text(self.key.color),
            "reason": self.reason,
            "created_ts": self.created_ts,
            "created_by": self.created_by,
        }


@dataclass(slots=True)
class PlateIndex:
    """Entries by plate number, for matching a read without the database."""

    by_number: dict[str, list[Any]] = field(default_factory=dict)
    by_id: dict[str, Any] = field(default_factory=dict)

    def add(self, entry: Any) -> None:
        """Add or replace an entry (``id`` and ``key`` attributes)."""
        self.remove(entry.id)
        self.by_id[entry.id] = entry
        self.by_number.setdefault(entry.key.number, []).append(entry)

    def remove(self, entry_id: str) -> Any | None:
        """Remove an entry by id; return it."""
        entry = self.by_id.pop(entry_id, None)
        if entry is not None:
            bucket = self.by_number.get(entry.key.number, [])
            bucket[:] = [item for item in bucket if item.id != entry_id]
            if not bucket:
                self.by_number.pop(entry.key.number, None)
        return entry

    def matching(self, key: PlateKey) -> list[Any]:
        """The entries whose key matches ``key`` (colour unknown matches any)."""
        return [entry for entry in self.by_number.get(key.number, ()) if entry.key.matches(key)]

    def values(self) -> Iterable[Any]:
        """Every entry."""
        return self.by_id.values()


def resident_from_row(row: Any) -> ResidentPlate:
    """A resident plate from its row."""
    return ResidentPlate(
        row.id,
        row.household_id,
        PlateKey(row.plate, _color(row.color)),
        row.plate_class,
        row.note,
        row.created_ts,
        row.created_by,
    )


def pass_from_row(row: Any) -> VisitorPass:
    """A visitor pass from its row."""
    return VisitorPass(
        row.id,
        row.household_id,
        PlateKey(row.plate, _color(row.color)),
        row.start_ts,
        row.end_ts,
        row.note,
        row.created_ts,
        row.created_by,
        row.uses or 0,
        row.first_used_ts,
        row.last_read_id,
    )


def blacklist_from_row(row: Any) -> BlacklistEntry:
    """A blacklist entry from its row."""
    return BlacklistEntry(
        row.id, PlateKey(row.plate, _color(row.color)), row.reason, row.created_ts, row.created_by
    )


def load_all(session: Session, passes_after_ts: float) -> dict[str, list[Any]]:
    """Read the plates, the passes still running after ``passes_after_ts``, the blacklist and
    presence (worker thread)."""
    return {
        "residents": [resident_from_row(r) for r in session.execute(select(RESIDENT_PLATES))],
        "passes": [
            pass_from_row(r)
            for r in session.execute(
                select(VISITOR_PASSES).where(VISITOR_PASSES.c.end_ts >= passes_after_ts)
            )
        ],
        "blacklist": [blacklist_from_row(r) for r in session.execute(select(BLACKLIST))],
        "presence": [
            (r.car_park, PlateKey(r.plate, _color(r.color or None)), r.read_id)
            for r in session.execute(select(PRESENCE))
        ],
    }


def insert_entry(
    session: Session, table: Table, entry: ResidentPlate | VisitorPass | BlacklistEntry
) -> None:
    """Write a resident plate, visitor pass or blacklist entry to its table."""
    key = {"plate": entry.key.number, "color": _color_text(entry.key.color)}
    session.execute(
        insert(table).values(
            {c.name: key[c.name] if c.name in key else getattr(entry, c.name) for c in table.c}
        )
    )


def delete_by_id(session: Session, table: Table, entry_id: str) -> bool:
    """Delete one row by id; return whether it existed."""
    result = session.execute(delete(table).where(table.c.id == entry_id))
    return bool(getattr(result, "rowcount", 0))


def mark_pass_used(session: Session, pass_id: str, read_id: str, when: float) -> None:
    """Count one use of a pass (the first use's time is kept)."""
    table = VISITOR_PASSES
    session.execute(
        update(table)
        .where(table.c.id == pass_id)
        .values(
            uses=table.c.uses + 1,
            first_used_ts=func.coalesce(table.c.first_used_ts, when),
            last_read_id=read_id,
        )
    )


def used(entry: VisitorPass, read_id: str, when: float) -> VisitorPass:
    """The pass after one more use (the in-memory twin of :func:`mark_pass_used`)."""
    first = entry.first_used_ts if entry.first_used_ts is not None else when
    return replace(entry, uses=entry.uses + 1, first_used_ts=first, last_read_id=read_id)


def set_presence(
    session: Session, car_park: str, key: PlateKey, direction: str, when: float, read_id: str
) -> None:
    """Record a car entering (``in``) or leaving (``out``) a car park."""
    color = _color_text(key.color) or ""
    if direction == "in":
        session.execute(
            delete(PRESENCE).where(
                PRESENCE.c.car_park == car_park,
                PRESENCE.c.plate == key.number,
                PRESENCE.c.color == color,
            )
        )
        session.execute(
            insert(PRESENCE).values(
                car_park=car_park, plate=key.number, color=color, entered_ts=when, read_id=read_id
            )
        )
        return
    query = delete(PRESENCE).where(PRESENCE.c.car_park == car_park, PRESENCE.c.plate == key.number)
    if key.color is not None:
        query = query.where(PRESENCE.c.color.in_([color, ""]))
    session.execute(query)


def read_as_dict(row: Any) -> dict[str, Any]:
    """A gate-log row as JSON-ready data."""
    return {
        "read_id": row.read_id,
        "time_ts": row.time_ts,
        "record_ts": row.record_ts,
        "gate_id": row.gate_id,
        "car_park": row.car_park,
        "area_id": row.area_id,
        "direction": row.direction,
        "source": row.source,
        "raw_plate": row.raw_plate,
        "plate": row.plate,
        "color": row.color,
        "plate_class": row.plate_class,
        "plate_valid": row.plate_valid,
        "plate_flag": row.plate_flag,
        "confidence": row.confidence,
        "category": row.category,
        "decision": row.decision,
        "household_id": row.household_id,
        "visitor_pass_id": row.visitor_pass_id,
        "offline": row.offline,
        "opened_by": row.opened_by,
        "opened_ts": row.opened_ts,
        "denied_by": row.denied_by,
        "denied_ts": row.denied_ts,
    }
