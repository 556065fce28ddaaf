"""The face_access tables, on the integration's own metadata (created at setup)."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Index, Integer, LargeBinary, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class FaceAccessBase(DeclarativeBase):
    """Declarative base of the face_access tables (not the core's ``Base``)."""

    metadata = MetaData()


class CredentialRow(FaceAccessBase):
    """A card, QR code, PIN or one-time visitor QR code."""

    __tablename__ = "face_access_credentials"

    credential_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    household_id: Mapped[str | None] = mapped_column(String(64), index=True)
    lookup: Mapped[str | None] = mapped_column(String(128), index=True)
    """A card number, or the SHA-256 of a QR token (the token itself is never stored)."""
    secret_hash: Mapped[str | None] = mapped_column(String(255))
    """A PIN's scrypt hash."""
    label: Mapped[str | None] = mapped_column(String(255))
    issued_by: Mapped[str | None] = mapped_column(String(64))
    created_ts: Mapped[float] = mapped_column(Float)
    expires_ts: Mapped[float | None] = mapped_column(Float)
    revoked_ts: Mapped[float | None] = mapped_column(Float)
    used_ts: Mapped[float | None] = mapped_column(Float)


class TemplateRow(FaceAccessBase):
    """An enrolled face template (float32 bytes)."""

    __tablename__ = "face_access_templates"

    template_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    household_id: Mapped[str | None] = mapped_column(String(64))
    dims: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_ts: Mapped[float] = mapped_column(Float, index=True)
    enrolled_by: Mapped[str | None] = mapped_column(String(64))


class AccessLogRow(FaceAccessBase):
    """One passage attempt at a door."""

    __tablename__ = "face_access_log"
    __table_args__ = (Index("ix_face_access_log_source", "source_key", unique=True),)

    log_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    time_ts: Mapped[float] = mapped_column(Float, index=True)
    door_id: Mapped[str] = mapped_column(String(64))
    terminal_id: Mapped[str] = mapped_column(String(64))
    area_id: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    household_id: Mapped[str | None] = mapped_column(String(64), index=True)
    credential_id: Mapped[str | None] = mapped_column(String(26))
    method: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str] = mapped_column(String(16))
    snapshot_id: Mapped[str | None] = mapped_column(String(26))
    source_key: Mapped[str | None] = mapped_column(String(200))
    """``<terminal>:<serial or message id>``: a re-sent record is logged once."""


class SnapshotRow(FaceAccessBase):
    """A stored face image (a file under the config dir), only with ``store_snapshots``."""

    __tablename__ = "face_access_snapshots"

    snapshot_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    time_ts: Mapped[float] = mapped_column(Float, index=True)
    door_id: Mapped[str] = mapped_column(String(64))
    area_id: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    household_id: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)


class DeletionRow(FaceAccessBase):
    """A request to a terminal to delete a person's face data, and its verification."""

    __tablename__ = "face_access_deletions"

    deletion_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    terminal_id: Mapped[str] = mapped_column(String(64))
    requested_ts: Mapped[float] = mapped_column(Float)
    verified_ts: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(255))
