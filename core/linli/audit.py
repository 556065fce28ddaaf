"""The audit log: who did what to which subject, kept in the database and never dropped.

Part of the privacy design: every read of personal data by staff, grid workers or police,
every login failure and lock-out, every user change is one row. :func:`async_audit` returns
once the row is committed (one transaction of its own, not the recorder's batches), so an
action that is audited is on disk before it is answered. Rows are kept for
``recorder: audit_keep_days`` (default 1095 days), then purged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import insert, select

from linli.db import get_database
from linli.db.models import AuditLogRow
from linli.util.dt import as_utc, utc_from_timestamp
from linli.util.json import json_dumps, json_loads

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from linli.context import Context
    from linli.hub import Hub

__all__ = ["MAX_QUERY_LIMIT", "async_audit", "async_query"]

MAX_QUERY_LIMIT: Final = 10_000


async def async_audit(
    hub: Hub,
    *,
    user_id: str | None,
    action: str,
    subject: str,
    area_id: str | None = None,
    details: Mapping[str, Any] | None = None,
    context: Context | None = None,
) -> None:
    """Record that ``user_id`` did ``action`` to ``subject``; return when it is durable.

    :param action: What happened, e.g. ``"read_personal_data"``, ``"login_failed"``.
    :param subject: What it concerned, e.g. ``"household:<id>"``, ``"user:<id>"``.
    :param area_id: The area the subject belongs to, when it has one.
    :param details: Small JSON facts (never secrets or the personal data itself).
    """
    row = {
        "time_ts": hub.clock.time(),
        "user_id": user_id,
        "action": action,
        "subject": subject,
        "area_id": area_id,
        "details": json_dumps(dict(details)) if details else None,
        "context_id": context.id if context is not None else None,
    }

    def write(session: Session) -> None:
        session.execute(insert(AuditLogRow), [row])

    await get_database(hub).async_run(write)


async def async_query(
    hub: Hub,
    *,
    since: datetime | None = None,
    user_id: str | None = None,
    subject: str | None = None,
    action: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Return audit rows matching every filter given, newest first, at most ``limit``.

    Each row is ``{"id", "time", "user_id", "action", "subject", "area_id", "details",
    "context_id"}`` with ``time`` in ISO 8601 (UTC).
    """
    query = select(AuditLogRow).order_by(AuditLogRow.time_ts.desc(), AuditLogRow.id.desc())
    if since is not None:
        query = query.where(AuditLogRow.time_ts >= as_utc(since).timestamp())
    if user_id is not None:
        query = query.where(AuditLogRow.user_id == user_id)
    if subject is not None:
        query = query.where(AuditLogRow.subject == subject)
    if action is not None:
        query = query.where(AuditLogRow.action == action)
    query = query.limit(max(1, min(limit, MAX_QUERY_LIMIT)))

    def read(session: Session) -> list[dict[str, Any]]:
        return [_as_dict(row) for row in session.scalars(query)]

    return await get_database(hub).async_run(read)


def _as_dict(row: AuditLogRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "time": utc_from_timestamp(row.time_ts).isoformat(),
        "user_id": row.user_id,
        "action": row.action,
        "subject": row.subject,
        "area_id": row.area_id,
        "details": json_loads(row.details) if row.details else {},
        "context_id": row.context_id,
    }
