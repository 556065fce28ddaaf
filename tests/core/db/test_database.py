"""The database: schema bring-up (create, stamp, upgrade, refuse), the worker, transactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session

from linli import Hub, LinliError
from linli.db import (
    Base,
    Database,
    DatabaseError,
    SchemaTooNewError,
    default_url,
    get_database,
    load_models,
    migrate,
    open_database,
)
from linli.db.database import schema_revisions
from linli.db.models import AuditLogRow


async def started(url: str) -> Database:
    database = Database(url)
    await database.async_start()
    return database


def schema_of(url: str) -> dict[str, Any]:
    """Tables, columns (name, type, nullable), indexes and foreign keys, comparable."""
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        schema: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            if table == "alembic_version":
                continue
            schema[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                "fks": sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"])
                    for f in inspector.get_foreign_keys(table)
                ),
                "unique": sorted(
                    tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
                ),
            }
        return schema
    finally:
        engine.dispose()


async def test_a_fresh_database_is_created_and_stamped_with_the_head(db_url: str) -> None:
    database = await started(db_url)
    assert database.schema_action == "created"
    head, _ = schema_revisions()
    assert migrate.heads() == [head]  # the file parser agrees with alembic

    def stamped(session: Session) -> list[str]:
        return list(session.execute(text("SELECT version_num FROM alembic_version")).scalars())

    assert await database.async_run(stamped) == [head]
    await database.async_stop()

    again = await started(db_url)
    assert again.schema_action == "current"
    await again.async_stop()


async def test_migrations_from_empty_equal_create_all(db_url: str, tmp_path: Path) -> None:
    """``alembic upgrade head`` on an empty database gives exactly the models' schema."""
    load_models()
    engine = create_engine(db_url)
    with engine.connect() as conn:
        migrate.upgrade(conn)
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
    migrated = schema_of(db_url)
    assert "states" in migrated
    assert set(migrated) == set(Base.metadata.tables)

    created_url = f"sqlite:///{tmp_path / 'created.db'}"
    if not db_url.startswith("sqlite"):
        # Compare with create_all on the same backend: drop everything, create, compare.
        engine = create_engine(db_url)
        with engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE alembic_version"))
        engine.dispose()
        created_url = db_url
    database = await started(created_url)
    assert database.schema_action == "created"
    await database.async_stop()
    assert schema_of(created_url) == migrated


async def test_an_older_database_is_upgraded(db_url: str) -> None:
    head, known = schema_revisions()
    engine = create_engine(db_url)
    with engine.connect() as conn:
        migrate.upgrade(conn, known[0])
    engine.dispose()
    database = await started(db_url)
    assert database.schema_action == ("current" if head == known[0] else "upgraded")
    await database.async_stop()


async def test_a_newer_schema_is_refused_and_left_alone(db_url: str) -> None:
    database = await started(db_url)

    def future(session: Session) -> None:
        session.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))

    await database.async_run(future)
    await database.async_stop()

    with pytest.raises(SchemaTooNewError, match="newer Linli") as info:
        await started(db_url)
    assert "9999_from_the_future" in str(info.value)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == (
            "9999_from_the_future"
        )
    engine.dispose()


async def test_tables_without_a_version_are_refused(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        AuditLogRow.__table__.create(conn)  # type: ignore[attr-defined]
    engine.dispose()
    with pytest.raises(DatabaseError, match="no schema version"):
        await started(db_url)


async def test_async_run_commits_or_rolls_back_in_order(db_url: str) -> None:
    database = await started(db_url)

    def add(action: str) -> Any:
        def write(session: Session) -> int:
            row = AuditLogRow(time_ts=1.0, action=action, subject="s")
            session.add(row)
            session.flush()
            return row.id

        return write

    def fail(session: Session) -> None:
        session.add(AuditLogRow(time_ts=1.0, action="lost", subject="s"))
        session.flush()
        raise ValueError("boom")

    first = await database.async_run(add("first"))
    with pytest.raises(ValueError, match="boom"):
        await database.async_run(fail)
    second = await database.async_run(add("second"))
    assert second > first

    def actions(session: Session) -> list[str]:
        return list(session.scalars(select(AuditLogRow.action).order_by(AuditLogRow.id)))

    assert await database.async_run(actions) == ["first", "second"]
    await database.async_stop()
    with pytest.raises(DatabaseError, match="not running"):
        await database.async_run(actions)


async def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = await started(f"sqlite:///{tmp_path / 'deep' / 'dir' / 'linli.db'}")

    def pragmas(session: Session) -> tuple[str, int, int]:
        return (
            session.execute(text("PRAGMA journal_mode")).scalar_one(),
            session.execute(text("PRAGMA foreign_keys")).scalar_one(),
            session.execute(text("PRAGMA synchronous")).scalar_one(),
        )

    assert await database.async_run(pragmas) == ("wal", 1, 1)  # 1 = NORMAL
    assert database.dialect == "sqlite"
    await database.async_stop()


def test_repr_masks_the_password() -> None:
    database = Database("postgresql+psycopg://linli:s3cret@db.example/linli")
    assert "s3cret" not in repr(database)
    assert database.dialect == "postgresql"


def test_open_database_reads_db_url(tmp_path: Path) -> None:
    (tmp_path / "configuration.yaml").write_text("linli:\n  name: X\n", "utf-8")
    assert open_database(tmp_path).url == default_url(tmp_path)
    assert default_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/.linli/linli.db"
    (tmp_path / "configuration.yaml").write_text(
        "recorder:\n  db_url: postgresql+psycopg://u@h/d\n", "utf-8"
    )
    assert open_database(tmp_path).url == "postgresql+psycopg://u@h/d"


async def test_get_database_without_the_recorder(hub: Hub) -> None:
    with pytest.raises(LinliError, match="recorder is not set up"):
        get_database(hub)
