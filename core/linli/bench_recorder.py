"""Recorder benchmark: ``history_query_ms``, one entity's history among 1,000,000 state rows.

The database is filled in its worker thread with bulk inserts (not through the bus, which
would only measure the bus): ~1,000 entities, each with 1,000 states over one day, written
in time order as a recorder writes them, so one entity's rows are scattered through the
table. The figure is the median time of the history query of one entity for that day (its
1,000 states, full rows), through :meth:`Database.async_run` as the REST API calls it.
SQLite by default; ``LINLI_BENCH_DB_URL`` measures another, empty database (e.g. a
PostgreSQL schema; its recorder tables are emptied afterwards).
``quick`` uses 100 entities × 1,000 states.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import insert, text

from linli.bench import Figure
from linli.components.recorder.history import state_changes_during_period
from linli.db import Database
from linli.db.models import StateAttributes, StatesMeta

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


NAME: Final = "history_query_ms"
BUDGET_MS: Final = 50.0
STATES_PER_ENTITY: Final = 1000
DAY: Final = 86_400.0
T0: Final = 1_772_352_000.0  # 2026-03-01T08:00:00Z
QUERIES: Final = 25


def _fill(session: Session, entities: int) -> None:
    """Insert ``entities`` × 1,000 states, in time order, in bulk."""
    session.execute(
        insert(StatesMeta), [{"entity_id": f"sensor.bench_{i:04d}"} for i in range(entities)]
    )
    session.execute(
        insert(StateAttributes),
        [{"hash": 1, "shared_attrs": '{"unit_of_measurement":"°C","friendly_name":"Bench"}'}],
    )
    step = DAY / STATES_PER_ENTITY
    columns = "metadata_id, state, attributes_id, last_changed_ts, last_updated_ts, origin_idx"
    sql = f"INSERT INTO states ({columns}) VALUES (?, ?, 1, ?, ?, 0)"
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    if session.get_bind().dialect.name == "postgresql":
        cursor = raw.cursor()
        with cursor.copy(f"COPY states ({columns}) FROM STDIN") as copy:
            for j in range(STATES_PER_ENTITY):
                for i in range(entities):
                    ts = T0 + j * step + i * 0.001
                    copy.write_row((i + 1, str(j % 50), 1, ts, ts, 0))
        return
    cursor = raw.cursor()
    for j in range(STATES_PER_ENTITY):
        rows = []
        for i in range(entities):
            ts = T0 + j * step + i * 0.001
            rows.append((i + 1, str(j % 50), ts, ts))
        cursor.executemany(sql, rows)


def _refuse_used(session: Session) -> None:
    if session.execute(text("SELECT 1 FROM states_meta LIMIT 1")).first() is not None:
        raise RuntimeError("LINLI_BENCH_DB_URL must name an empty database: it gets emptied")


async def _measure(database: Database, entities: int) -> float:
    await database.async_run(_refuse_used)
    await database.async_run(lambda session: _fill(session, entities))
    if database.dialect == "postgresql":
        await database.async_run(lambda session: session.execute(text("ANALYZE states")))
    entity_id = f"sensor.bench_{entities // 2:04d}"

    def query(session: Session) -> int:
        history = state_changes_during_period(session, T0, T0 + DAY, [entity_id])
        return len(history[entity_id])

    timings = []
    for _ in range(QUERIES):
        started = time.perf_counter()
        found = await database.async_run(query)
        timings.append((time.perf_counter() - started) * 1000)
        if found != STATES_PER_ENTITY:
            raise RuntimeError(f"history returned {found} states, not {STATES_PER_ENTITY}")
    return statistics.median(timings)


async def run(names: set[str] | None, quick: bool) -> list[Figure]:
    """Measure ``history_query_ms`` (when ``names`` is None or holds it)."""
    if names is not None and NAME not in names:
        return []
    entities = 100 if quick else 1000
    with tempfile.TemporaryDirectory(prefix="linli-bench-recorder-") as tmp:
        url = os.environ.get("LINLI_BENCH_DB_URL") or f"sqlite:///{Path(tmp) / 'linli.db'}"
        database = Database(url)
        await database.async_start()
        try:
            median_ms = await _measure(database, entities)
        finally:
            if database.dialect == "postgresql":
                await database.async_run(_drop_bench_rows)
            await database.async_stop()
    ok = median_ms <= BUDGET_MS
    return [
        (
            NAME,
            median_ms,
            "ms",
            f"1 entity of {entities * STATES_PER_ENTITY:,} rows; budget ≤ {BUDGET_MS:g} ms",
            ok,
        )
    ]


def _drop_bench_rows(session: Session) -> None:
    session.execute(text("DELETE FROM states"))
    session.execute(text("DELETE FROM state_attributes"))
    session.execute(text("DELETE FROM states_meta"))
