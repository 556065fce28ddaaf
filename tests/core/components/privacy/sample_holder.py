"""A small integration that holds personal data the way capabilities do: in its own table.

Two kinds: ``sample_face`` (held on the ``face`` consent) and ``sample_log`` (a security
record with a 30-day floor). Each row belongs to a person and has a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, func, insert, select

from linli.db import async_create_tables, get_database
from linli.plugins import ConfigType, Integration, Manifest, hookimpl
from linli.privacy import DataKind, get_privacy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from linli.hub import Hub

DOMAIN: Final = "sample_holder"
METADATA: Final = MetaData()
RECORDS: Final = Table(
    "sample_holder_records",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("time_ts", Float, nullable=False),
)


async def async_add(hub: Hub, kind: str, person_id: str, time_ts: float) -> None:
    """Store one record."""

    def write(session: Session) -> None:
        session.execute(
            insert(RECORDS), [{"kind": kind, "person_id": person_id, "time_ts": time_ts}]
        )

    await get_database(hub).async_run(write)


async def async_rows(hub: Hub, kind: str) -> list[tuple[str, float]]:
    """Every record of ``kind`` as (person_id, time), oldest first."""

    def read(session: Session) -> list[tuple[str, float]]:
        query = (
            select(RECORDS.c.person_id, RECORDS.c.time_ts)
            .where(RECORDS.c.kind == kind)
            .order_by(RECORDS.c.time_ts)
        )
        return [(row[0], row[1]) for row in session.execute(query)]

    return await get_database(hub).async_run(read)


def _kind(hub: Hub, name: str, consent_kind: str | None, floor: float) -> DataKind:
    database = get_database(hub)

    async def purge(cutoff: float) -> int:
        def run(session: Session) -> int:
            query = delete(RECORDS).where(RECORDS.c.kind == name, RECORDS.c.time_ts < cutoff)
            return int(session.execute(query).rowcount or 0)

        return await database.async_run(run)

    async def erase(person_id: str, keep_after: float | None) -> int:
        def run(session: Session) -> int:
            query = delete(RECORDS).where(RECORDS.c.kind == name, RECORDS.c.person_id == person_id)
            if keep_after is not None:
                query = query.where(RECORDS.c.time_ts <= keep_after)
            return int(session.execute(query).rowcount or 0)

        return await database.async_run(run)

    async def export(person_id: str) -> dict[str, Any]:
        def run(session: Session) -> int:
            query = select(func.count()).where(
                RECORDS.c.kind == name, RECORDS.c.person_id == person_id
            )
            return int(session.execute(query).scalar_one())

        return {"records": await database.async_run(run)}

    return DataKind(
        name,
        f"Sample {name}",
        sensitive=True,
        consent_kind=consent_kind,
        default_keep_days=180,
        default_floor_days=floor,
        purge=purge,
        erase=erase,
        export=export,
    )


async def async_setup(hub: Hub, config: ConfigType) -> bool:
    """Create the table and register both kinds."""
    await async_create_tables(hub, METADATA)
    privacy = get_privacy(hub)
    hub.data["sample_holder_unregister"] = [
        privacy.async_register_data_kind(_kind(hub, "sample_face", "face", 0)),
        privacy.async_register_data_kind(_kind(hub, "sample_log", None, 30)),
    ]
    return True


async def async_unload(hub: Hub) -> None:
    """Unregister the kinds."""
    for unregister in hub.data.pop("sample_holder_unregister", []):
        unregister()


@hookimpl
def linli_integration() -> Integration:
    """Describe the sample holder."""
    manifest = Manifest(
        domain=DOMAIN, name="Sample holder", dependencies=("privacy",), load_by_default=True
    )
    return Integration(manifest, async_setup, async_unload, vol.Any(None, dict))
