"""The project's one database, through SQLAlchemy 2 (typed ORM).

* :class:`Base` — the declarative base of every table (``linli.db.models`` holds the
  recorder's and the ledgers' tables, ``linli.auth.models`` the users').
* :class:`Database` — an engine and one worker thread; ``await db.async_run(fn)`` runs
  ``fn(session)`` there in one transaction. Ledgers (alerts, audit, consents, users) commit
  through it synchronously, one transaction per change.
* :func:`get_database` — the hub's database (the ``recorder`` integration opens it);
  :func:`open_database` — one for a config dir, for CLI commands run without a hub.

SQLite in ``<config>/.linli/linli.db`` (WAL) by default; PostgreSQL with
``recorder: {db_url: postgresql+psycopg://user:password@host/db}``. The schema is versioned
with alembic (``linli/db/migrations``): a fresh database is created at once and stamped, an
older one upgraded, a newer one refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from linli.db.base import Base
from linli.db.database import Database, DatabaseError, SchemaTooNewError, load_models
from linli.exceptions import LinliError
from linli.hub import HubKey

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from linli.hub import Hub

__all__ = [
    "DATABASE",
    "DB_FILE",
    "Base",
    "Database",
    "DatabaseError",
    "SchemaTooNewError",
    "async_create_tables",
    "default_url",
    "get_database",
    "load_models",
    "open_database",
]

DB_FILE: Final = "linli.db"
DATABASE: Final[HubKey[Database]] = HubKey("linli.db")


def default_url(config_dir: str | Path) -> str:
    """Return the default database URL of a config dir: SQLite ``<config>/.linli/linli.db``."""
    from linli.const import STORAGE_DIR

    return f"sqlite:///{Path(config_dir).resolve() / STORAGE_DIR / DB_FILE}"


def get_database(hub: Hub) -> Database:
    """Return the hub's started :class:`Database`; raise if the recorder is not set up."""
    database = hub.data.get(DATABASE)
    if database is None:
        raise LinliError("The recorder is not set up on this hub: there is no database")
    return database


def open_database(config_dir: str | Path) -> Database:
    """Return an un-started :class:`Database` for a config dir (``recorder.db_url`` or default).

    Blocking (reads configuration.yaml): for CLI commands that run without a hub.
    """
    from linli.config import load_config_file

    raw, _issues = load_config_file(Path(config_dir))
    section = raw.get("recorder") if raw is not None else None
    url = section.get("db_url") if isinstance(section, dict) else None
    return Database(str(url) if url else default_url(config_dir))


async def async_create_tables(hub: Hub, metadata: MetaData) -> None:
    """Create an integration's own tables in the hub's database where they are missing.

    For integrations that keep ledgers of their own (credentials, access logs): define the
    tables on a ``sqlalchemy.MetaData()`` of the integration (not :class:`Base`), prefix
    their names with the domain, and call this from ``async_setup``. Tables that exist are
    left as they are, so such schemas grow by new tables; a change to an existing table
    needs the integration's own migration.
    """
    database = get_database(hub)

    def create() -> None:
        assert database.engine is not None, "the database is not started"
        with database.engine.begin() as conn:
            metadata.create_all(conn, checkfirst=True)

    await database.async_submit(create)
