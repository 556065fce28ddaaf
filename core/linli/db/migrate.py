"""Run the schema migrations programmatically (no ``alembic.ini`` needed).

Imported only when a database needs an upgrade (or by tests and tools): alembic is not part
of a normal start.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from linli.db.database import MIGRATIONS_DIR


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an alembic config for Linli's migrations, using ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Upgrade the database behind ``connection`` to ``revision`` (committed when done)."""
    command.upgrade(alembic_config(connection), revision)
    connection.commit()


def downgrade(connection: Connection, revision: str) -> None:
    """Downgrade the database behind ``connection`` to ``revision`` (tests, tools)."""
    command.downgrade(alembic_config(connection), revision)
    connection.commit()


def heads() -> list[str]:
    """Return the head revisions of the migration scripts (one, normally)."""
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())
