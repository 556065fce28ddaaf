"""Retention: delete what is older than each kind's limit (run in the worker thread).

States and events keep ``purge_keep_days``; attribute sets and event payloads no row uses
any more go with them. The audit log keeps ``audit_keep_days``; consents are kept while
active and for ``consent_keep_days`` after their withdrawal. Alerts are purged by the alert
integration (its ``retention_days``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, exists, select

from linli.db.models import (
    AuditLogRow,
    ConsentRow,
    EventData,
    Events,
    StateAttributes,
    States,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class PurgeCutoffs:
    """Rows older than these timestamps (epoch seconds) are deleted."""

    states_and_events: float
    audit: float
    consents: float


def purge(session: Session, cutoffs: PurgeCutoffs) -> dict[str, int]:
    """Delete expired rows; return how many of each kind."""

    def count(result: Any) -> int:
        return int(result.rowcount or 0)

    deleted = {
        "states": count(
            session.execute(
                delete(States).where(States.last_updated_ts < cutoffs.states_and_events)
            )
        ),
        "events": count(
            session.execute(delete(Events).where(Events.time_fired_ts < cutoffs.states_and_events))
        ),
    }
    deleted["state_attributes"] = count(
        session.execute(
            delete(StateAttributes).where(
                ~exists(
                    select(States.state_id).where(
                        States.attributes_id == StateAttributes.attributes_id
                    )
                )
            )
        )
    )
    deleted["event_data"] = count(
        session.execute(
            delete(EventData).where(
                ~exists(select(Events.event_id).where(Events.data_id == EventData.data_id))
            )
        )
    )
    deleted["audit"] = count(
        session.execute(delete(AuditLogRow).where(AuditLogRow.time_ts < cutoffs.audit))
    )
    deleted["consents"] = count(
        session.execute(
            delete(ConsentRow).where(
                ConsentRow.withdrawn_ts.is_not(None), ConsentRow.withdrawn_ts < cutoffs.consents
            )
        )
    )
    return deleted
