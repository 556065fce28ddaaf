"""The gate log as personal data: the ``plate_log`` kind of :mod:`linli.privacy`.

Where cars of a household came and went is whereabouts: sensitive, kept for security on no
consent (``consent_kind`` None), at most ``keep_days`` (180) and at least ``floor_days``
(30, the local rule for access records; both set in ``privacy: retention: plate_log:``).
Purging also drops visitor passes that ended before the cutoff. A person's export and erasure
reach their household's reads (cars belong to households, not to one member).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, select

from linli.db import get_database
from linli_plate_gate import store
from linli_plate_gate.const import DATA_KIND

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from linli import Hub
    from linli_plate_gate.gate import GateManager

DEFAULT_KEEP_DAYS: Final = 180.0
DEFAULT_FLOOR_DAYS: Final = 30.0
MAX_EXPORT_READS: Final = 10_000


def async_register_plate_log(hub: Hub, manager: GateManager) -> Callable[[], None]:
    """Register ``plate_log``; return the function that unregisters it."""
    from linli.privacy import DataKind, get_privacy

    def household_of(person_id: str) -> str | None:
        person = hub.registries.people.async_get_person(person_id)
        return None if person is None else person.household_id

    async def purge(cutoff_ts: float) -> int:
        def work(session: Session) -> int:
            reads = session.execute(delete(store.READS).where(store.READS.c.time_ts < cutoff_ts))
            passes = session.execute(
                delete(store.VISITOR_PASSES).where(store.VISITOR_PASSES.c.end_ts < cutoff_ts)
            )
            return int(getattr(reads, "rowcount", 0)) + int(getattr(passes, "rowcount", 0))

        count = await get_database(hub).async_run(work)
        for entry in list(manager.passes.values()):
            if entry.end_ts < cutoff_ts:
                manager.passes.remove(entry.id)
        return count

    async def erase(person_id: str, keep_after_ts: float | None) -> int:
        household_id = household_of(person_id)
        if household_id is None:
            return 0

        def work(session: Session) -> int:
            query = delete(store.READS).where(store.READS.c.household_id == household_id)
            if keep_after_ts is not None:
                query = query.where(store.READS.c.time_ts < keep_after_ts)
            return int(getattr(session.execute(query), "rowcount", 0))

        return await get_database(hub).async_run(work)

    async def export(person_id: str) -> dict[str, Any]:
        household_id = household_of(person_id)
        if household_id is None:
            return {"household_id": None, "plates": [], "visitor_passes": [], "reads": []}

        def work(session: Session) -> list[dict[str, Any]]:
            rows = session.execute(
                select(store.READS)
                .where(store.READS.c.household_id == household_id)
                .order_by(store.READS.c.time_ts.desc())
                .limit(MAX_EXPORT_READS)
            )
            return [store.read_as_dict(row) for row in rows]

        return {
            "household_id": household_id,
            "plates": [
                e.as_dict() for e in manager.residents.values() if e.household_id == household_id
            ],
            "visitor_passes": [
                e.as_dict() for e in manager.passes.values() if e.household_id == household_id
            ],
            "reads": await get_database(hub).async_run(work),
        }

    return get_privacy(hub).async_register_data_kind(
        DataKind(
            name=DATA_KIND,
            title="Licence-plate gate log (车过留牌)",
            sensitive=True,
            consent_kind=None,
            default_keep_days=DEFAULT_KEEP_DAYS,
            default_floor_days=DEFAULT_FLOOR_DAYS,
            purge=purge,
            erase=erase,
            export=export,
        )
    )
