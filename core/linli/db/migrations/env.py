"""Alembic environment for Linli: runs on the connection :mod:`linli.db.migrate` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from linli.db.base import Base
from linli.db.database import load_models

load_models()
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run the migrations on the given connection, or on ``sqlalchemy.url`` (offline tools)."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        url = context.config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("pass a connection (linli.db.migrate) or set sqlalchemy.url")
        engine = create_engine(url)
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
        engine.dispose()
        return
    _run(connection)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
