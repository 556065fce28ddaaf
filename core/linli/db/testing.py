"""Test helpers for code on :mod:`linli.db`: a database URL per backend, isolated per test.

Use the ``db_url`` fixture in a conftest (``from linli.db.testing import db_url``): each test
runs once on SQLite (a file in ``tmp_path``) and once on PostgreSQL (a fresh schema of the
``test`` database, dropped afterwards). PostgreSQL is skipped with the reason when it does
not answer, unless ``LINLI_REQUIRE_SERVICES=1``, which makes that a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final
from urllib.parse import quote

import pytest

POSTGRES_URL: Final = os.environ.get(
    "LINLI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS: Final = ("sqlite", "postgresql")


def postgres_unavailable() -> str | None:
    """Return why PostgreSQL cannot be used for tests, or None when it answers."""
    import psycopg

    try:
        with psycopg.connect(_libpq_url(POSTGRES_URL), connect_timeout=3):
            return None
    except Exception as err:
        return f"PostgreSQL at {POSTGRES_URL} does not answer: {err}".strip()


def require_postgres() -> None:
    """Skip the test when PostgreSQL is absent (fail under ``LINLI_REQUIRE_SERVICES=1``)."""
    reason = postgres_unavailable()
    if reason is None:
        return
    if os.environ.get("LINLI_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (LINLI_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """Yield a URL whose tables land in a new, empty schema; drop the schema afterwards."""
    import psycopg

    schema = f"linli_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _libpq_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme.split('+')[0]}://{rest}"


def sqlite_url(directory: Path) -> str:
    """Return the URL of a SQLite file in ``directory``."""
    return f"sqlite:///{directory / 'linli.db'}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL of an empty database, once per backend (SQLite, PostgreSQL)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    require_postgres()
    with postgres_schema() as url:
        yield url
