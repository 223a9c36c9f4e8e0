"""The database: one async engine, SQLite pragmas, migrations at start-up, one transaction per unit of work."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
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


def create_engine(url: str) -> AsyncEngine:
    """An async engine; for SQLite the folder (0700) and the file (0600) are created and WAL, busy
    timeout and foreign keys are set."""
    parsed = make_url(url)
    database = parsed.database
    if (
        parsed.get_backend_name() == "sqlite"
        and database
        and database != ":memory:"
        and not database.startswith("file:")
    ):
        path = Path(database)
        _private_folder(path.parent)
        _private_database_file(path)
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """Owns the engine; hands out one transaction (with its repositories) per unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

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
        """One transaction: committed when the block ends, rolled back when it raises."""
        session: AsyncSession
        async with self._sessions() as session, session.begin():
            yield Repositories(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
