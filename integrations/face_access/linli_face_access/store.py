"""The face_access ledgers in the hub's database: credentials, templates, log, snapshots.

Every write is one transaction in the database worker (``get_database(hub).async_run``).
Snapshot files live under ``<config>/.linli/face_access/snapshots/<id>.jpg`` and are written
and deleted in the same worker job as their rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Delete, Select, delete, func, select, update

from linli.db import get_database
from linli.util.dt import utc_from_timestamp
from linli.util.ids import ulid
from linli_face_access.const import CRED_CARD, CRED_PIN, CRED_QR, CRED_VISITOR_QR, PERSONAL_TYPES
from linli_face_access.credentials import CredentialError, qr_lookup
from linli_face_access.models import (
    AccessLogRow,
    CredentialRow,
    DeletionRow,
    SnapshotRow,
    TemplateRow,
)

if TYPE_CHECKING:
    from types import ModuleType

    from sqlalchemy.orm import Session

    from linli import Hub
    from linli_face_access.matcher import Vector

_T = TypeVar("_T")
_Statement = TypeVar("_Statement", Select[Any], Delete)


def _matcher() -> ModuleType:
    """The template codec (it brings numpy: imported on first use, not at start)."""
    from linli_face_access import matcher

    return matcher


def _iso(ts: float | None) -> str | None:
    return None if ts is None else utc_from_timestamp(ts).isoformat()


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential as read (never with its secret)."""

    id: str
    type: str
    person_id: str | None
    household_id: str | None
    label: str | None
    card_no: str | None
    issued_by: str | None
    created_ts: float
    expires_ts: float | None
    revoked_ts: float | None
    used_ts: float | None

    def why_inactive(self, now: float) -> str | None:
        """``revoked``, ``expired``, ``used`` or None when it may be used now."""
        if self.revoked_ts is not None:
            return "revoked"
        if self.expires_ts is not None and now >= self.expires_ts:
            return "expired"
        if self.type == CRED_VISITOR_QR and self.used_ts is not None:
            return "used"
        return None

    def as_dict(self, now: float) -> dict[str, Any]:
        """JSON-ready form: a card shows its last four characters only."""
        return {
            "id": self.id,
            "type": self.type,
            "person_id": self.person_id,
            "household_id": self.household_id,
            "label": self.label,
            "card_no_tail": None if self.card_no is None else self.card_no[-4:],
            "issued_by": self.issued_by,
            "created": _iso(self.created_ts),
            "expires": _iso(self.expires_ts),
            "revoked": _iso(self.revoked_ts),
            "used": _iso(self.used_ts),
            "active": self.why_inactive(now) is None,
        }

    @classmethod
    def from_row(cls, row: CredentialRow) -> Credential:
        """Build from a row."""
        return cls(
            id=row.credential_id,
            type=row.type,
            person_id=row.person_id,
            household_id=row.household_id,
            label=row.label,
            card_no=row.lookup if row.type == CRED_CARD else None,
            issued_by=row.issued_by,
            created_ts=row.created_ts,
            expires_ts=row.expires_ts,
            revoked_ts=row.revoked_ts,
            used_ts=row.used_ts,
        )


def _active(now: float) -> Any:
    return CredentialRow.revoked_ts.is_(None) & (
        CredentialRow.expires_ts.is_(None) | (CredentialRow.expires_ts > now)
    )


def _scoped(
    statement: _Statement,
    person_column: Any,
    time_column: Any,
    person_id: str | None,
    before: float | None,
) -> _Statement:
    """``statement`` narrowed to a person's rows and/or those older than ``before``."""
    if person_id is not None:
        statement = statement.where(person_column == person_id)
    if before is not None:
        statement = statement.where(time_column < before)
    return statement


def _rowcount(session: Session, statement: Any) -> int:
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)


def log_as_dict(row: AccessLogRow) -> dict[str, Any]:
    """An access log row as JSON-ready data."""
    return {
        "id": row.log_id,
        "time": _iso(row.time_ts),
        "door_id": row.door_id,
        "terminal_id": row.terminal_id,
        "area_id": row.area_id,
        "person_id": row.person_id,
        "household_id": row.household_id,
        "credential_id": row.credential_id,
        "method": row.method,
        "granted": row.granted,
        "reason": row.reason,
        "decided_by": row.decided_by,
        "snapshot_id": row.snapshot_id,
    }


class FaceStore:
    """Database access of the integration (each method one transaction)."""

    def __init__(self, hub: Hub, snapshot_dir: Path) -> None:
        """Use the hub's database and ``snapshot_dir`` for image files."""
        self.hub = hub
        self.snapshot_dir = snapshot_dir

    async def _run(self, fn: Callable[[Session], _T]) -> _T:
        return await get_database(self.hub).async_run(fn)

    async def _delete(
        self,
        model: type[Any],
        person_column: Any,
        time_column: Any,
        person_id: str | None,
        before: float | None,
    ) -> int:
        """Delete ``model`` rows of a person and/or older than ``before``; return how many."""
        statement = _scoped(delete(model), person_column, time_column, person_id, before)
        return await self._run(lambda session: _rowcount(session, statement))

    # ------------------------------------------------------------------ credentials
    async def async_issue(
        self,
        type_: str,
        *,
        person_id: str | None,
        household_id: str | None,
        lookup: str | None,
        secret_hash: str | None = None,
        label: str | None = None,
        issued_by: str | None = None,
        expires_ts: float | None = None,
    ) -> Credential:
        """Store a new credential; a card number active elsewhere is refused."""
        now = self.hub.clock.time()
        row = CredentialRow(
            credential_id=ulid(now),
            type=type_,
            person_id=person_id,
            household_id=household_id,
            lookup=lookup,
            secret_hash=secret_hash,
            label=label,
            issued_by=issued_by,
            created_ts=now,
            expires_ts=expires_ts,
            revoked_ts=None,
            used_ts=None,
        )

        def write(session: Session) -> Credential:
            if type_ == CRED_CARD:
                taken = session.scalar(
                    select(CredentialRow.credential_id).where(
                        CredentialRow.type == CRED_CARD,
                        CredentialRow.lookup == lookup,
                        _active(now),
                    )
                )
                if taken is not None:
                    raise CredentialError("this card number is already in use")
            session.add(row)
            session.flush()
            return Credential.from_row(row)

        return await self._run(write)

    async def async_revoke(self, credential_id: str) -> Credential | None:
        """Revoke a credential (None when unknown); revoking twice keeps the first time."""
        now = self.hub.clock.time()

        def write(session: Session) -> Credential | None:
            row = session.get(CredentialRow, credential_id, with_for_update=True)
            if row is None:
                return None
            if row.revoked_ts is None:
                row.revoked_ts = now
            session.flush()
            return Credential.from_row(row)

        return await self._run(write)

    async def async_get(self, credential_id: str) -> Credential | None:
        """One credential, or None."""

        def read(session: Session) -> Credential | None:
            row = session.get(CredentialRow, credential_id)
            return None if row is None else Credential.from_row(row)

        return await self._run(read)

    async def async_list(
        self, *, person_id: str | None = None, household_id: str | None = None
    ) -> list[Credential]:
        """Credentials of a person or household (or all), oldest first."""
        query = select(CredentialRow).order_by(
            CredentialRow.created_ts, CredentialRow.credential_id
        )
        if person_id is not None:
            query = query.where(CredentialRow.person_id == person_id)
        if household_id is not None:
            query = query.where(CredentialRow.household_id == household_id)

        def read(session: Session) -> list[Credential]:
            return [Credential.from_row(row) for row in session.scalars(query)]

        return await self._run(read)

    async def async_has_personal(self, person_id: str) -> bool:
        """Whether the person holds an active card, QR code or PIN."""
        now = self.hub.clock.time()
        query = select(func.count()).where(
            CredentialRow.person_id == person_id,
            CredentialRow.type.in_(PERSONAL_TYPES),
            _active(now),
        )

        def read(session: Session) -> bool:
            return bool(session.scalar(query))

        return await self._run(read)

    async def async_find_card(self, card_no: str) -> Credential | None:
        """The active card with this number, or None."""
        now = self.hub.clock.time()
        query = select(CredentialRow).where(
            CredentialRow.type == CRED_CARD, CredentialRow.lookup == card_no, _active(now)
        )

        def read(session: Session) -> Credential | None:
            row = session.scalars(query).first()
            return None if row is None else Credential.from_row(row)

        return await self._run(read)

    async def async_use_qr(self, token: str) -> tuple[Credential | None, str]:
        """Look a QR token up; a visitor code is consumed on its first use.

        Returns ``(credential, "ok")`` or ``(credential or None, why not)``.
        """
        now = self.hub.clock.time()
        lookup = qr_lookup(token)

        def write(session: Session) -> tuple[Credential | None, str]:
            row = session.scalars(
                select(CredentialRow)
                .where(
                    CredentialRow.type.in_((CRED_QR, CRED_VISITOR_QR)),
                    CredentialRow.lookup == lookup,
                )
                .with_for_update()
            ).first()
            if row is None:
                return None, "unknown_credential"
            credential = Credential.from_row(row)
            why = credential.why_inactive(now)
            if why is not None:
                return credential, why
            if row.type == CRED_VISITOR_QR:
                consumed = session.execute(
                    update(CredentialRow)
                    .where(
                        CredentialRow.credential_id == row.credential_id,
                        CredentialRow.used_ts.is_(None),
                    )
                    .values(used_ts=now)
                )
                if getattr(consumed, "rowcount", 0) != 1:
                    return credential, "used"
            return credential, "ok"

        return await self._run(write)

    async def async_pin_candidates(self, person_id: str | None) -> list[tuple[Credential, str]]:
        """Active PINs (of one person, or all) with their hashes, for verification."""
        now = self.hub.clock.time()
        query = select(CredentialRow).where(CredentialRow.type == CRED_PIN, _active(now))
        if person_id is not None:
            query = query.where(CredentialRow.person_id == person_id)

        def read(session: Session) -> list[tuple[Credential, str]]:
            return [
                (Credential.from_row(row), row.secret_hash or "") for row in session.scalars(query)
            ]

        return await self._run(read)

    # ------------------------------------------------------------------ templates
    async def async_add_template(
        self, person_id: str, household_id: str | None, vector: Vector, enrolled_by: str | None
    ) -> str:
        """Store a template; return its id."""
        now = self.hub.clock.time()
        row = TemplateRow(
            template_id=ulid(now),
            person_id=person_id,
            household_id=household_id,
            dims=int(vector.shape[0]),
            vector=_matcher().template_bytes(vector),
            created_ts=now,
            enrolled_by=enrolled_by,
        )

        def write(session: Session) -> str:
            session.add(row)
            return row.template_id

        return await self._run(write)

    async def async_all_templates(self) -> list[tuple[str, str, Vector]]:
        """Every template as ``(template_id, person_id, vector)``."""

        def read(session: Session) -> list[tuple[str, str, Vector]]:
            rows = session.execute(
                select(TemplateRow.template_id, TemplateRow.person_id, TemplateRow.vector)
            )
            decode = _matcher().template_from_bytes
            return [(tid, pid, decode(bytes(raw))) for tid, pid, raw in rows]

        return await self._run(read)

    async def async_templates_of(self, person_id: str) -> list[dict[str, Any]]:
        """Metadata of a person's templates (never the vectors)."""
        query = select(TemplateRow).where(TemplateRow.person_id == person_id)

        def read(session: Session) -> list[dict[str, Any]]:
            return [
                {"id": row.template_id, "dims": row.dims, "enrolled": _iso(row.created_ts)}
                for row in session.scalars(query.order_by(TemplateRow.created_ts))
            ]

        return await self._run(read)

    async def async_delete_templates(
        self, *, person_id: str | None = None, before: float | None = None
    ) -> int:
        """Delete a person's templates, or those enrolled before a time; return how many."""
        return await self._delete(
            TemplateRow, TemplateRow.person_id, TemplateRow.created_ts, person_id, before
        )

    # ------------------------------------------------------------------ access log
    async def async_add_log(self, values: dict[str, Any]) -> tuple[str, bool]:
        """Insert a log row unless its ``source_key`` is known; return ``(log_id, new)``."""
        source_key = values.get("source_key")

        def write(session: Session) -> tuple[str, bool]:
            if source_key is not None:
                known = session.scalar(
                    select(AccessLogRow.log_id).where(AccessLogRow.source_key == source_key)
                )
                if known is not None:
                    return known, False
            row = AccessLogRow(**values)
            session.add(row)
            return row.log_id, True

        return await self._run(write)

    async def async_find_log(self, source_key: str) -> dict[str, Any] | None:
        """The log row of a source key, or None."""

        def read(session: Session) -> dict[str, Any] | None:
            row = session.scalars(
                select(AccessLogRow).where(AccessLogRow.source_key == source_key)
            ).first()
            return None if row is None else log_as_dict(row)

        return await self._run(read)

    async def async_query_log(
        self,
        *,
        household_ids: Sequence[str] | None = None,
        area_ids: Iterable[str] | None = None,
        area_none: bool = False,
        person_id: str | None = None,
        door_id: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Log rows, newest first; ``household_ids``/``area_ids`` restrict (None: no limit)."""
        query = select(AccessLogRow).order_by(
            AccessLogRow.time_ts.desc(), AccessLogRow.log_id.desc()
        )
        if household_ids is not None:
            query = query.where(AccessLogRow.household_id.in_(list(household_ids)))
        if area_ids is not None:
            allowed = AccessLogRow.area_id.in_(list(area_ids))
            query = query.where(allowed | AccessLogRow.area_id.is_(None) if area_none else allowed)
        if person_id is not None:
            query = query.where(AccessLogRow.person_id == person_id)
        if door_id is not None:
            query = query.where(AccessLogRow.door_id == door_id)
        if since is not None:
            query = query.where(AccessLogRow.time_ts >= since.timestamp())
        query = query.limit(max(1, min(limit, 10_000)))

        def read(session: Session) -> list[dict[str, Any]]:
            return [log_as_dict(row) for row in session.scalars(query)]

        return await self._run(read)

    async def async_delete_log(
        self, *, person_id: str | None = None, before: float | None = None
    ) -> int:
        """Delete log rows of a person and/or older than ``before``; return how many."""
        return await self._delete(
            AccessLogRow, AccessLogRow.person_id, AccessLogRow.time_ts, person_id, before
        )

    async def async_count_log(self, person_id: str) -> int:
        """How many log rows name the person."""
        query = select(func.count()).where(AccessLogRow.person_id == person_id)

        def read(session: Session) -> int:
            return int(session.scalar(query) or 0)

        return await self._run(read)

    # ------------------------------------------------------------------ snapshots
    def snapshot_path(self, snapshot_id: str) -> Path:
        """The file of a snapshot."""
        return self.snapshot_dir / f"{snapshot_id}.jpg"

    async def async_add_snapshot(
        self,
        image: bytes,
        *,
        door_id: str,
        area_id: str | None,
        person_id: str | None,
        household_id: str | None,
    ) -> str:
        """Write the image file and its row; return the snapshot id."""
        now = self.hub.clock.time()
        row = SnapshotRow(
            snapshot_id=ulid(now),
            time_ts=now,
            door_id=door_id,
            area_id=area_id,
            person_id=person_id,
            household_id=household_id,
            size=len(image),
        )
        path = self.snapshot_path(row.snapshot_id)

        def write(session: Session) -> str:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(image)
            session.add(row)
            return row.snapshot_id

        return await self._run(write)

    async def async_get_snapshot(self, snapshot_id: str) -> dict[str, Any] | None:
        """A snapshot's metadata, or None."""

        def read(session: Session) -> dict[str, Any] | None:
            row = session.get(SnapshotRow, snapshot_id)
            if row is None:
                return None
            return {
                "id": row.snapshot_id,
                "time": _iso(row.time_ts),
                "door_id": row.door_id,
                "area_id": row.area_id,
                "person_id": row.person_id,
                "household_id": row.household_id,
                "size": row.size,
            }

        return await self._run(read)

    async def async_read_snapshot(self, snapshot_id: str) -> bytes | None:
        """A snapshot's image bytes, or None when the file is gone."""
        path = self.snapshot_path(snapshot_id)

        def read() -> bytes | None:
            try:
                return path.read_bytes()
            except FileNotFoundError:
                return None

        return await self.hub.async_add_executor_job(read)

    async def async_snapshots_of(self, person_id: str) -> list[str]:
        """Ids of a person's snapshots."""
        query = select(SnapshotRow.snapshot_id).where(SnapshotRow.person_id == person_id)

        def read(session: Session) -> list[str]:
            return list(session.scalars(query))

        return await self._run(read)

    async def async_delete_snapshots(
        self, *, person_id: str | None = None, before: float | None = None
    ) -> int:
        """Delete snapshot rows and files of a person and/or older than ``before``."""
        query = _scoped(
            select(SnapshotRow.snapshot_id),
            SnapshotRow.person_id,
            SnapshotRow.time_ts,
            person_id,
            before,
        )

        def write(session: Session) -> int:
            ids = list(session.scalars(query))
            if not ids:
                return 0
            session.execute(delete(SnapshotRow).where(SnapshotRow.snapshot_id.in_(ids)))
            session.flush()
            for snapshot_id in ids:
                self.snapshot_path(snapshot_id).unlink(missing_ok=True)
            return len(ids)

        return await self._run(write)

    # ------------------------------------------------------------------ deletions on terminals
    async def async_add_deletions(self, person_id: str, terminal_ids: Iterable[str]) -> None:
        """Record that the terminals were asked to delete the person's face data."""
        now = self.hub.clock.time()
        rows = [
            DeletionRow(
                deletion_id=ulid(now),
                person_id=person_id,
                terminal_id=terminal_id,
                requested_ts=now,
                verified_ts=None,
                error=None,
            )
            for terminal_id in terminal_ids
        ]

        def write(session: Session) -> None:
            session.add_all(rows)

        await self._run(write)

    async def async_deletion_failed(self, person_id: str, terminal_id: str, error: str) -> None:
        """Note why a terminal could not be asked (it stays unverified)."""
        statement = (
            update(DeletionRow)
            .where(
                DeletionRow.person_id == person_id,
                DeletionRow.terminal_id == terminal_id,
                DeletionRow.verified_ts.is_(None),
            )
            .values(error=error[:255])
        )

        def write(session: Session) -> None:
            session.execute(statement)

        await self._run(write)

    async def async_verify_deletion(self, person_id: str, terminal_id: str) -> int:
        """Mark the terminal's pending deletions of the person verified; return how many."""
        now = self.hub.clock.time()
        statement = (
            update(DeletionRow)
            .where(
                DeletionRow.person_id == person_id,
                DeletionRow.terminal_id == terminal_id,
                DeletionRow.verified_ts.is_(None),
            )
            .values(verified_ts=now, error=None)
        )

        return await self._run(lambda session: _rowcount(session, statement))

    async def async_deletions(self, person_id: str | None = None) -> list[dict[str, Any]]:
        """Deletion requests (of a person, or all), oldest first."""
        query = select(DeletionRow).order_by(DeletionRow.requested_ts, DeletionRow.terminal_id)
        if person_id is not None:
            query = query.where(DeletionRow.person_id == person_id)

        def read(session: Session) -> list[dict[str, Any]]:
            return [
                {
                    "person_id": row.person_id,
                    "terminal_id": row.terminal_id,
                    "requested": _iso(row.requested_ts),
                    "verified": _iso(row.verified_ts),
                    "error": row.error,
                }
                for row in session.scalars(query)
            ]

        return await self._run(read)
