"""The database: one engine and one worker thread that runs every unit of work in order.

Like Home Assistant's recorder, Linli talks to its database with synchronous SQLAlchemy in
a dedicated thread, never on the event loop. The loop hands work over with
:meth:`Database.async_run` (a function of a session, run in one transaction) and awaits the
result. Jobs run one at a time, in the order submitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import Column, MetaData, String, Table, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from linli.db.base import Base
from linli.exceptions import LinliError

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

MIGRATIONS_DIR: Final = Path(__file__).parent / "migrations"
VERSIONS_DIR: Final = MIGRATIONS_DIR / "versions"
MODEL_MODULES: Final = ("linli.db.models", "linli.auth.models")
"""Modules defining tables on :class:`Base`; a missing optional one is skipped."""

_REVISION = re.compile(r"^revision(?:\s*:[^=]+)?\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(
    r"^down_revision(?:\s*:[^=]+)?\s*=\s*(?:None|['\"]([^'\"]+)['\"])", re.MULTILINE
)

# alembic's own version table, declared apart from Base so it is not part of the models.
_VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), primary_key=True, key="version_num"),
)


class DatabaseError(LinliError):
    """The database cannot be opened or brought to the schema this Linli needs."""


class SchemaTooNewError(DatabaseError):
    """The database was written by a newer Linli: refused rather than damaged."""


def load_models() -> None:
    """Import every model module, so :attr:`Base.metadata` holds the whole schema."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # the module exists but something it imports does not
                raise


def schema_revisions(versions_dir: Path = VERSIONS_DIR) -> tuple[str, list[str]]:
    """Return the head revision and every known revision, read from the migration files.

    Parsed, not imported, so a start that needs no upgrade never imports alembic.
    """
    parents: dict[str, str | None] = {}
    for path in sorted(versions_dir.glob("*.py")):
        source = path.read_text("utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None:
            continue
        parents[revision.group(1)] = down.group(1)
    heads = set(parents) - {parent for parent in parents.values() if parent}
    if len(heads) != 1:
        raise DatabaseError(f"expected one head migration in {versions_dir}, found {heads}")
    return heads.pop(), list(parents)


class _Job:
    """One unit of work for the worker thread, and where its result goes."""

    __slots__ = ("fn", "future", "loop")

    def __init__(
        self,
        fn: Callable[[], Any],
        loop: asyncio.AbstractEventLoop | None,
        future: asyncio.Future[Any] | None,
    ) -> None:
        self.fn = fn
        self.loop = loop
        self.future = future


def _deliver(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Database:
    """One database (SQLite file or PostgreSQL), its engine and its worker thread.

    :param url: A SQLAlchemy URL, e.g. ``sqlite:////srv/linli/.linli/linli.db`` or
        ``postgresql+psycopg://linli:secret@db/linli``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._sa_url = make_url(url)
        self.dialect: str = self._sa_url.get_backend_name()
        self.engine: Engine | None = None
        self.schema_action: str | None = None
        """What the start did to the schema: ``created``, ``upgraded`` or ``current``."""
        self._sessions: sessionmaker[Session] | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def __repr__(self) -> str:
        return f"<Database {self._sa_url.render_as_string(hide_password=True)}>"

    # ------------------------------------------------------------------ lifecycle
    async def async_start(self) -> None:
        """Start the worker, connect and bring the schema to head (see :meth:`prepare`)."""
        if self._thread is not None:
            raise RuntimeError("the database is already started")
        self._thread = threading.Thread(target=self._work, name="linli-db", daemon=True)
        self._thread.start()
        try:
            await self.async_submit(self.prepare)
        except BaseException:
            await self.async_stop()
            raise

    async def async_stop(self) -> None:
        """Finish the queued work, dispose of the engine and end the worker thread."""
        thread = self._thread
        if thread is None or self._stopping:
            return
        self._stopping = True
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._jobs.put(_Job(self._dispose, loop, done))
        self._jobs.put(None)
        await done
        await loop.run_in_executor(None, thread.join)
        self._thread = None

    def _dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    @property
    def running(self) -> bool:
        """Whether the worker accepts work."""
        return self._thread is not None and not self._stopping

    # ------------------------------------------------------------------ work
    def submit(self, fn: Callable[[], _T]) -> asyncio.Future[_T]:
        """Queue ``fn()`` for the worker thread; return a future of its result (loop only)."""
        if not self.running:
            raise DatabaseError(f"{self!r} is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        self._jobs.put(_Job(fn, loop, future))
        return future

    async def async_submit(self, fn: Callable[[], _T]) -> _T:
        """Run ``fn()`` in the worker thread and return its result."""
        return await self.submit(fn)

    async def async_run(self, fn: Callable[[Session], _T]) -> _T:
        """Run ``fn(session)`` in the worker thread in one transaction; return its result.

        The transaction commits when ``fn`` returns and rolls back when it raises (the error
        is raised here). Return plain data: ORM objects are detached afterwards.
        """
        return await self.submit(lambda: self.run_in_session(fn))

    def run_in_session(self, fn: Callable[[Session], _T]) -> _T:
        """Run ``fn(session)`` in one transaction, in the calling thread (the worker's)."""
        assert self._sessions is not None, "the database is not started"
        with self._sessions() as session, session.begin():
            return fn(session)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            result: Any = None
            error: BaseException | None = None
            try:
                result = job.fn()
            except BaseException as err:
                error = err
                if job.future is None:
                    _LOGGER.exception("Database job %s failed", job.fn)
            if job.loop is not None and job.future is not None:
                # A closed loop (RuntimeError) means nobody waits any more.
                with contextlib.suppress(RuntimeError):
                    job.loop.call_soon_threadsafe(_deliver, job.future, result, error)

    # ------------------------------------------------------------------ schema
    def prepare(self) -> None:
        """Connect and bring the schema to head (worker thread).

        A fresh database gets every table at once and is stamped with the head revision
        (fast, and alembic is not even imported); one at an older revision is upgraded with
        alembic; one at a revision this code does not know (a newer Linli wrote it) is
        refused with :class:`SchemaTooNewError`.
        """
        started = time.perf_counter()
        load_models()
        self.engine = self._create_engine()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        head, known = schema_revisions()
        with self.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            conn.rollback()
            if _VERSION_TABLE.name not in tables:
                ours = sorted(tables & set(Base.metadata.tables))
                if ours:
                    raise DatabaseError(
                        f"{self!r} has Linli tables ({', '.join(ours)}) but no schema version; "
                        "it was not made by Linli's migrations: use an empty database"
                    )
                with conn.begin():
                    Base.metadata.create_all(conn, checkfirst=False)
                    _VERSION_TABLE.create(conn)
                    conn.execute(_VERSION_TABLE.insert().values(version_num=head))
                self.schema_action = "created"
            else:
                versions = self._stamped(conn)
                unknown = [v for v in versions if v not in known]
                if unknown:
                    raise SchemaTooNewError(
                        f"{self!r} has schema revision {', '.join(unknown)}, which this Linli "
                        f"does not know (its newest is {head}): the database was written by a "
                        "newer Linli. Upgrade Linli, or point recorder.db_url at another "
                        "database; it was left untouched."
                    )
                if versions == [head]:
                    self.schema_action = "current"
                else:
                    from linli.db import migrate

                    _LOGGER.info("Upgrading %r from %s to %s", self, versions, head)
                    migrate.upgrade(conn)
                    self.schema_action = "upgraded"
        _LOGGER.debug(
            "%r ready (%s) in %.0f ms",
            self,
            self.schema_action,
            (time.perf_counter() - started) * 1000,
        )

    def _create_engine(self) -> Engine:
        if self.dialect == "sqlite":
            database = self._sa_url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(self._sa_url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(self._sa_url, pool_pre_ping=True)

    @staticmethod
    def _stamped(conn: Connection) -> list[str]:
        versions = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        conn.rollback()
        return versions


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
