"""The recorder's tables and the ledgers: alerts, the audit log and consents.

Timestamps are UTC epoch seconds in ``*_ts`` float columns (as Home Assistant stores them):
compact, fast to compare and the same on SQLite and PostgreSQL. Entity ids, event types,
state attributes and event data are kept once each and referred to by id, so a sensor that
reports the same attributes a million times stores them once.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from linli.db.base import Base

ID_TYPE: Final = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit row id; plain INTEGER on SQLite, where only that is an auto-incrementing rowid."""

CONTEXT_ID_LENGTH: Final = 36
ENTITY_ID_LENGTH: Final = 255
EVENT_TYPE_LENGTH: Final = 64
STATE_LENGTH: Final = 255


# ---------------------------------------------------------------------------- states
class StatesMeta(Base):
    """One row per recorded entity id."""

    __tablename__ = "states_meta"

    metadata_id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(ENTITY_ID_LENGTH), unique=True)


class StateAttributes(Base):
    """A distinct set of state attributes (JSON), found by its hash."""

    __tablename__ = "state_attributes"

    attributes_id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger, index=True)
    shared_attrs: Mapped[str] = mapped_column(Text)


class States(Base):
    """One state of one entity: a row per recorded state change."""

    __tablename__ = "states"
    __table_args__ = (
        Index("ix_states_metadata_id_last_updated_ts", "metadata_id", "last_updated_ts"),
    )

    state_id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    metadata_id: Mapped[int] = mapped_column(ForeignKey("states_meta.metadata_id"))
    state: Mapped[str] = mapped_column(String(STATE_LENGTH))
    attributes_id: Mapped[int | None] = mapped_column(
        ForeignKey("state_attributes.attributes_id"), index=True
    )
    last_changed_ts: Mapped[float] = mapped_column(Float)
    last_updated_ts: Mapped[float] = mapped_column(Float, index=True)
    context_id: Mapped[str | None] = mapped_column(String(CONTEXT_ID_LENGTH))
    context_user_id: Mapped[str | None] = mapped_column(String(CONTEXT_ID_LENGTH))
    context_parent_id: Mapped[str | None] = mapped_column(String(CONTEXT_ID_LENGTH))
    origin_idx: Mapped[int] = mapped_column(SmallInteger, default=0)


# ---------------------------------------------------------------------------- events
class EventTypes(Base):
    """One row per recorded event type."""

    __tablename__ = "event_types"

    event_type_id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(EVENT_TYPE_LENGTH), unique=True)


class EventData(Base):
    """A distinct event payload (JSON), found by its hash."""

    __tablename__ = "event_data"

    data_id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger, index=True)
    shared_data: Mapped[str] = mapped_column(Text)


class Events(Base):
    """One fired event (other than ``state_changed``, which goes to :class:`States`)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_event_type_id_time_fired_ts", "event_type_id", "time_fired_ts"),
    )

    event_id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    event_type_id: Mapped[int] = mapped_column(ForeignKey("event_types.event_type_id"))
    data_id: Mapped[int | None] = mapped_column(ForeignKey("event_data.data_id"), index=True)
    origin_idx: Mapped[int] = mapped_column(SmallInteger, default=0)
    time_fired_ts: Mapped[float] = mapped_column(Float, index=True)
    context_id: Mapped[str | None] = mapped_column(String(CONTEXT_ID_LENGTH))
    context_user_id: Mapped[str | None] = mapped_column(String(CONTEXT_ID_LENGTH))
    context_parent_id: Mapped[str | None] = mapped_column(String(CONTEXT_ID_LENGTH))


# ---------------------------------------------------------------------------- alerts
class AlertRow(Base):
    """The current version of one alert (its audit trail is in :class:`AlertAuditRow`)."""

    __tablename__ = "alerts"

    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    area_id: Mapped[str | None] = mapped_column(String(64), index=True)
    source_entity_id: Mapped[str | None] = mapped_column(String(ENTITY_ID_LENGTH))
    dedup_key: Mapped[str | None] = mapped_column(String(255))
    created_ts: Mapped[float] = mapped_column(Float, index=True)
    updated_ts: Mapped[float] = mapped_column(Float)
    closed_ts: Mapped[float | None] = mapped_column(Float, index=True)
    document: Mapped[str] = mapped_column(Text)
    """The alert as JSON (``Alert.as_dict()`` without ``history``)."""


class AlertAuditRow(Base):
    """One entry of an alert's audit trail; rows are only ever added."""

    __tablename__ = "alert_audit"
    __table_args__ = (Index("ix_alert_audit_alert_id_seq", "alert_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.alert_id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    at_ts: Mapped[float] = mapped_column(Float)
    entry: Mapped[str] = mapped_column(Text)
    """The entry as JSON (``AuditEntry.as_dict()``)."""


# ---------------------------------------------------------------------------- audit log
class AuditLogRow(Base):
    """Who did what to which subject: logins, user changes, reads of personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(ID_TYPE, primary_key=True)
    time_ts: Mapped[float] = mapped_column(Float, index=True)
    user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255), index=True)
    area_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(Text)
    context_id: Mapped[str | None] = mapped_column(String(CONTEXT_ID_LENGTH))


# ---------------------------------------------------------------------------- consents
class ConsentRow(Base):
    """A person's consent to one kind of data processing, and its withdrawal."""

    __tablename__ = "consents"

    consent_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    household_id: Mapped[str | None] = mapped_column(String(64), index=True)
    data_kind: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(64))
    notice_version: Mapped[str] = mapped_column(String(64))
    operator_user_id: Mapped[str | None] = mapped_column(String(64))
    guardian_person_id: Mapped[str | None] = mapped_column(String(64))
    granted_ts: Mapped[float] = mapped_column(Float)
    withdrawn_ts: Mapped[float | None] = mapped_column(Float, index=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
