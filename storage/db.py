"""The database: one async engine, SQLite pragmas, migrations at start-up, one transaction per unit of work.

Two kinds of unit of work:

- ``Database.transaction()`` may write. On SQLite the write transactions of this process take turns
  on an ``asyncio.Lock``, first come first served, and hold it to their end. SQLite has one write lock;
  without the turns, a transaction that had read (or waited) while another one wrote asked for it later
  and polled SQLite's busy handler, losing to newer writers until the 5 s busy timeout ended it with
  "database is locked" (issue 12). With them no transaction of the bot ever waits inside SQLite for
  another one of the bot, and none writes after another writer committed since it began.
- ``Database.read()`` only reads, and never takes the write lock (nor the turn): it runs while a
  writer works. What ``UserRepository.touch`` would write (a first contact, ``last_seen_at`` at most
  once a minute) is written in a short ``transaction()`` when the block ends.

The SQLite driver keeps its own transaction handling (a transaction begins at the first write), and
each statement makes one trip to the connection's thread instead of four (``_OneTripCursor``): those
trips, not SQLite, were most of the time a statement took.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.util import await_only, immutabledict

from storage.repositories import Repositories

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


SQLITE_POOL_SIZE = 8
"""Connections to an SQLite file (each has a thread of its own): readers work in parallel, writers
take turns anyway. A fixed pool, no overflow: no connection (and thread) is opened and closed per burst."""
SQLITE_CACHE_KIB = 8192
"""Page cache per SQLite connection (it grows only as pages are used; the pool is used last in first
out, so under light load one or two connections hold the hot pages)."""
POSTGRESQL_POOL_SIZE = 10
WRITE_WAIT_SECONDS = 30.0
"""How long a write transaction waits for the writers before it on SQLite, then fails as a busy database."""


def _one_trip(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Any, list[Any], int, int | None]:
    """Runs in the connection's thread: the whole statement, results and all."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _OneTripCursor(AsyncAdapt_dbapi_cursor):
    """SQLAlchemy's aiosqlite cursor makes four trips to the connection's thread per statement (open a
    cursor, execute, fetch, close), each costing far more CPU than a small query in SQLite itself.
    This one makes one: the statement runs there whole and hands back its rows, description, row count
    and last row id."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = immutabledict()
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        driver = self._connection
        try:
            outcome = await_only(driver._execute(_one_trip, driver._conn, operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._run(operation, parameters, False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        self._run(operation, seq_of_parameters, True)


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """The aiosqlite connection with ``_OneTripCursor``; commit and rollback make no trip when SQLite
    has no transaction open (a unit of work that wrote nothing)."""

    __slots__ = ()
    _cursor_cls = _OneTripCursor  # type: ignore[assignment]

    def commit(self) -> None:
        if self._connection.in_transaction:
            super().commit()

    def rollback(self) -> None:
        if self._connection.in_transaction:
            super().rollback()


ONE_TRIP = all(hasattr(aiosqlite.Connection, name) for name in ("_execute", "_conn", "in_transaction"))
"""Whether this aiosqlite has what ``_OneTripCursor`` uses (else SQLAlchemy's own cursor serves)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if ONE_TRIP and type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = _OneTripConnection  # same layout (no new slots): only methods change
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # the reminder tick claims and moves whole groups of users: with SQLite's default 2 MB page cache
    # it spent a third of its time re-reading pages; in-memory temp tables serve its GROUP BY
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    # a commit never copies the write-ahead log into the database file (SQLite's default at 1,000
    # pages: a sync with every writer waiting behind it); Database.checkpoint does, off the write path
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def _private_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parent, each readable by this user only (0700, whatever the umask)."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:
            continue  # created meanwhile by someone else: not ours to change
        path.chmod(PRIVATE_FOLDER)


def _private_database_file(path: Path) -> None:
    """Create an empty SQLite database file readable by this user only (0600), unless it exists.

    SQLite gives the ``-wal``, ``-shm`` and ``-journal`` files it creates next to the database the
    database file's own permissions, so they are 0600 as well. An existing file keeps its permissions:
    an operator may have chosen them.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)  # os.open's mode is narrowed by the umask, never widened: be exact
    finally:
        os.close(fd)


def pool_options(url: str, pool_size: int | None = None) -> dict[str, Any]:
    """The pool for ``url``: a fixed size (``pool_size``, else the default for the engine), no overflow.

    An in-memory SQLite database keeps SQLAlchemy's own pool (one shared connection)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    database = parsed.database or ""
    if backend == "sqlite" and (not database or database == ":memory:" or "mode=memory" in database):
        return {}
    default = SQLITE_POOL_SIZE if backend == "sqlite" else POSTGRESQL_POOL_SIZE
    return {
        "pool_size": pool_size or default,
        "max_overflow": 0,
        "pool_timeout": WRITE_WAIT_SECONDS,
        "pool_use_lifo": True,
    }


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL; None for PostgreSQL and in-memory or URI-named databases."""
    parsed = make_url(url)
    database = parsed.database
    if (
        parsed.get_backend_name() == "sqlite"
        and database
        and database != ":memory:"
        and not database.startswith("file:")
    ):
        return Path(database)
    return None


def create_engine(url: str, pool_size: int | None = None) -> AsyncEngine:
    """An async engine; for SQLite the folder (0700) and the file (0600) are created, and WAL, busy
    timeout and foreign keys are set."""
    path = sqlite_file(url)
    if path is not None:
        _private_folder(path.parent)
        _private_database_file(path)
    engine = create_async_engine(url, **pool_options(url, pool_size))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class ReadOnlySession(Session):
    """The session of ``Database.read()``: a statement that would write raises at once."""


def _refuse_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise RuntimeError("Database.read() is for reading only: write in Database.transaction()")


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("Database.read() is for reading only: write in Database.transaction()")


event.listen(ReadOnlySession, "do_orm_execute", _refuse_writes)
event.listen(ReadOnlySession, "before_flush", _refuse_flush)


CHECKPOINT_SECONDS = 2.0
"""How often the application copies SQLite's write-ahead log into the database file."""


class _Checkpointer:
    """A connection of its own that copies an SQLite file's write-ahead log into the file: PASSIVE,
    so it never waits for a reader or a writer and none waits for it; what a reader still uses is
    copied next time. Called in a worker thread, one call at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def run(self) -> int:
        """Copy what it can; returns the number of pages in the log (0: nothing was written since)."""
        with self._lock:
            if self._connection is None:
                self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                self._connection.execute("PRAGMA busy_timeout=0")
            busy, pages, _copied = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return 0 if busy or pages < 0 else int(pages)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class Database:
    """Owns the engine; hands out one transaction (with its repositories) per unit of work."""

    def __init__(self, url: str, *, pool_size: int | None = None) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=False, sync_session_class=ReadOnlySession
        )
        self._serialised = self.engine.dialect.name == "sqlite"
        self._write_lock: asyncio.Lock | None = None
        self._write_loop: asyncio.AbstractEventLoop | None = None
        self._writer: asyncio.Task[Any] | None = None
        file = sqlite_file(url)
        self._checkpointer = _Checkpointer(str(file)) if file is not None else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> None:
        """Bring the schema to the newest revision; a later release never loses a user's data."""

        def upgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

        async with self.engine.begin() as connection:
            await connection.run_sync(upgrade)
        log.info("database schema is up to date")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        """One transaction that may write: committed when the block ends, rolled back when it raises.

        On SQLite it waits its turn behind the other write transactions of this process and keeps it
        to its end: keep the block short, and send nothing to Telegram inside it.
        """
        session: AsyncSession
        async with self._writing(), self._sessions() as session, session.begin():
            yield Repositories(session)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Repositories]:
        """A unit of work that only reads; it never takes SQLite's write lock nor waits for a writer.

        A statement that writes raises. When the block ends without an error, what
        ``repos.users.touch`` found to write (a first contact, ``last_seen_at`` older than a minute, a
        new name) is written in a short ``transaction()``, before the caller replies.
        """
        session: AsyncSession
        async with self._read_sessions() as session:
            repos = Repositories(session, read_only=True)
            yield repos
        seen = repos.users.pending
        if seen is not None:
            async with self.transaction() as writer:
                await writer.users.record_seen(seen)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """SQLite: one write transaction at a time in this process, first come first served."""
        if not self._serialised:
            yield
            return
        task = asyncio.current_task()
        if task is not None and task is self._writer:
            raise RuntimeError(
                "a write transaction inside another one of the same task would wait for itself"
            )
        lock = self._lock()
        if lock.locked():
            try:
                async with asyncio.timeout(WRITE_WAIT_SECONDS):
                    await lock.acquire()
            except TimeoutError:
                raise sa_exc.TimeoutError(
                    f"database is locked: other writers held it for {WRITE_WAIT_SECONDS:g} s"
                ) from None
        else:
            await lock.acquire()  # free: taken at once
        self._writer = task
        try:
            yield
        finally:
            self._writer = None
            lock.release()

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._write_lock is None or self._write_loop is not loop:  # a new event loop (tests)
            self._write_lock, self._write_loop = asyncio.Lock(), loop
        return self._write_lock

    @property
    def checkpoints(self) -> bool:
        """Whether ``checkpoint`` has work to do (an SQLite file): the application calls it every
        ``CHECKPOINT_SECONDS``."""
        return self._checkpointer is not None

    async def checkpoint(self) -> int:
        """SQLite: copy the write-ahead log into the database file, in a worker thread, blocking no
        one; returns the pages in the log. A no-op (0) on PostgreSQL and in-memory SQLite."""
        if self._checkpointer is None:
            return 0
        return await asyncio.to_thread(self._checkpointer.run)

    async def dispose(self) -> None:
        await self.engine.dispose()  # the last connection to close copies the rest of the log
        if self._checkpointer is not None:
            self._checkpointer.close()
