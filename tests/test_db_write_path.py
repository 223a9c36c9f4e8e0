"""Issue 12: no "database is locked" under load, and no write on every update.

- concurrent transactions that read and then write collide on SQLite's one write lock: without the
  bot's turns they fail with "database is locked" (busy timeout 0 makes it immediate instead of 5 s
  later); with them every one of them commits;
- ``touch`` writes a known user's row at most once a minute (or when their name, chat or language
  changed) and otherwise leaves it clean;
- ``Database.read()`` never waits for a writer (neither SQLite's write lock nor the bot's turn), refuses
  to write, and writes what ``touch`` found (a first contact) when the block ends.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.clock import FakeClock
from storage.db import Database
from storage.models import PainScore, User
from storage.repositories import SEEN_EVERY, ReminderRepository
from tests.conftest import BotFactory
from tests.test_e2e_reminders import deliveries, tick, user_row
from tests.test_reminder_delivery import START, service

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)
WRITERS = 40


async def touch(db_repos: Any, user_id: int, now: datetime, first_name: str = "Ana") -> User:
    return await db_repos.users.touch(
        user_id, user_id, first_name=first_name, language_code="en", now=now, default_timezone="UTC"
    )


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """An SQLite database whose connections never wait for SQLite's write lock (busy timeout 0)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'write-path.db'}")
    await database.migrate()
    await database.dispose()  # the next connections get the listener below

    def impatient(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()

    event.listen(database.engine.sync_engine, "connect", impatient)
    async with database.transaction() as repos:
        for user_id in range(1, WRITERS + 1):
            await touch(repos, user_id, NOW)
    yield database
    await database.dispose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.dispose()


async def readers_turned_writers(db: Database) -> list[BaseException]:
    """WRITERS concurrent units of work that read (as every handler does first), then write."""

    async def one(user_id: int) -> None:
        async with db.transaction() as repos:
            user = await touch(repos, user_id, NOW + timedelta(seconds=1))  # reads; writes nothing
            await asyncio.sleep(0.01)  # the others read meanwhile
            await repos.pain.record(user.id, 3, at=NOW, local_date=date(2026, 11, 24))

    results = await asyncio.gather(*(one(u) for u in range(1, WRITERS + 1)), return_exceptions=True)
    return [r for r in results if isinstance(r, BaseException)]


async def test_readers_turned_writers_lock_each_other_out_without_turns(sqlite_db: Database) -> None:
    sqlite_db._serialised = False  # the write path as it was before issue 12
    errors = await readers_turned_writers(sqlite_db)
    assert errors, "expected at least one transaction to find the database locked"
    assert all("database is locked" in str(e) for e in errors), errors


async def test_readers_turned_writers_all_commit_with_turns(sqlite_db: Database) -> None:
    assert await readers_turned_writers(sqlite_db) == []
    async with sqlite_db.read() as repos:
        stored = await repos.session.scalar(select(func.count()).select_from(PainScore))
    assert stored == WRITERS


def test_a_snapshot_that_is_overtaken_cannot_write(tmp_path: Path) -> None:
    """The SQLite behaviour behind it: a transaction that read, then saw another writer commit, can
    never write (busy or not); so no write transaction of the bot starts before its turn."""
    path = tmp_path / "plain.db"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    setup.execute("INSERT INTO t VALUES (1, 0)")
    setup.commit()
    reader = sqlite3.connect(path, isolation_level=None, timeout=0.2)
    writer = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT n FROM t").fetchall()  # the reader's snapshot
    writer.execute("UPDATE t SET n = 1")  # another writer commits
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        reader.execute("UPDATE t SET n = 2")
    for connection in (reader, writer, setup):
        connection.close()


async def test_a_second_write_transaction_waits_for_the_first(sqlite_db: Database) -> None:
    order: list[str] = []
    first_read = asyncio.Event()

    async def first() -> None:
        async with sqlite_db.transaction() as repos:
            await touch(repos, 1, NOW)
            first_read.set()
            await asyncio.sleep(0.05)
            await repos.pain.record(1, 5, at=NOW, local_date=date(2026, 11, 24))
            order.append("first wrote")

    async def second() -> None:
        await first_read.wait()
        async with sqlite_db.transaction() as repos:
            order.append("second began")
            await repos.pain.record(2, 6, at=NOW, local_date=date(2026, 11, 24))

    await asyncio.gather(first(), second())
    assert order == ["first wrote", "second began"]


async def test_a_write_transaction_inside_another_of_the_same_task_fails_at_once(sqlite_db: Database) -> None:
    async with sqlite_db.transaction():
        with pytest.raises(RuntimeError, match="wait for itself"):
            async with sqlite_db.transaction():
                pass


# --- touch -----------------------------------------------------------------------------------------


async def test_touch_writes_at_most_once_a_minute(db: Database) -> None:
    updates: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE USERS"):
            updates.append(statement)

    async with db.transaction() as repos:
        await touch(repos, 7, NOW)  # first contact: the row is created
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        for seconds in (1, 20, 59):
            async with db.transaction() as repos:
                user = await touch(repos, 7, NOW + timedelta(seconds=seconds))
                assert not repos.session.dirty and not repos.session.is_modified(user)
        assert updates == []
        async with db.transaction() as repos:
            await touch(repos, 7, NOW + SEEN_EVERY)
        assert len(updates) == 1
        async with db.transaction() as repos:
            await touch(repos, 7, NOW + SEEN_EVERY + timedelta(seconds=5), first_name="Ana Maria")
        assert len(updates) == 2  # a new name is written at once (and last_seen_at with it)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    async with db.read() as repos:
        user = await repos.users.get(7)
    assert user is not None and user.first_name == "Ana Maria"
    assert user.last_seen_at == NOW + SEEN_EVERY + timedelta(seconds=5)


async def test_touch_in_a_read_writes_after_the_block(db: Database) -> None:
    async with db.read() as repos:
        user = await touch(repos, 8, NOW)  # first contact, in a read
        assert user.id == 8 and user.timezone == "UTC"
        assert await repos.users.get(8) is None  # nothing written inside the read
    async with db.read() as repos:
        stored = await repos.users.get(8)
        assert stored is not None and stored.created_at == NOW
        await touch(repos, 8, NOW + timedelta(seconds=10))
        assert repos.users.pending is None  # seen 10 s ago: nothing to write
        await touch(repos, 8, NOW + timedelta(minutes=2))
        assert repos.users.pending is not None
    async with db.read() as repos:
        stored = await repos.users.get(8)
        assert stored is not None and stored.last_seen_at == NOW + timedelta(minutes=2)


# --- read() ------------------------------------------------------------------------------------------


async def test_read_never_waits_for_a_writer(sqlite_db: Database, tmp_path: Path) -> None:
    holding = asyncio.Event()
    release = asyncio.Event()

    async def long_writer() -> None:  # holds the bot's turn and SQLite's write lock
        async with sqlite_db.transaction() as repos:
            await repos.pain.record(1, 4, at=NOW, local_date=date(2026, 11, 24))
            holding.set()
            await release.wait()

    writer = asyncio.create_task(long_writer())
    await holding.wait()
    other_process = sqlite3.connect(tmp_path / "write-path.db", timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other_process.execute("BEGIN IMMEDIATE")  # SQLite's write lock is taken
        async with asyncio.timeout(2), sqlite_db.read() as repos:
            user = await touch(repos, 2, NOW + timedelta(seconds=30))
            inputs = await repos.users.plan_inputs(user.id)
        assert user.first_name == "Ana" and inputs.scores == []
    finally:
        other_process.close()
        release.set()
        await writer


async def test_read_refuses_to_write(db: Database) -> None:
    with pytest.raises(RuntimeError, match="reading only"):
        async with db.read() as repos:
            await repos.pain.record(1, 4, at=NOW, local_date=date(2026, 11, 24))
    with pytest.raises(RuntimeError, match="reading only"):
        async with db.read() as repos:
            repos.session.add(User(id=99, chat_id=99, timezone="UTC", created_at=NOW, last_seen_at=NOW))
            await repos.session.flush()


# --- the set-based reminder claim keeps the "value read" safety ---------------------------------------


async def test_a_zone_change_after_the_group_read_wins(
    make_bot: BotFactory, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(START - timedelta(hours=1))
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        await user.send("/remind 10:00")
        clock.set(START + timedelta(seconds=30))
        async with bot.db.transaction() as repos:
            stale = await repos.reminders.due_groups(clock.now(), 100)  # the tick has read the groups ...
        assert [(time, zone, n) for time, zone, _, n in stale] == [("10:00", "UTC", 1)]
        await user.send("/timezone Asia/Tokyo")  # ... and the user's change commits before the claim
        tokyo_next = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)

        async def stale_groups(self: ReminderRepository, now: datetime, limit: int) -> Any:
            return stale

        monkeypatch.setattr(ReminderRepository, "due_groups", stale_groups)
        assert await service(bot).tick() == 0
        monkeypatch.undo()
        assert (await user_row(bot)).next_reminder_at == tokyo_next  # not moved to UTC's next 10:00
        assert await deliveries(bot) == []  # nor claimed for the old zone's due time
        clock.set(tokyo_next + timedelta(seconds=5))
        assert await tick(bot) == 1
        assert (await deliveries(bot))[0].local_date == date(2026, 11, 25)


async def test_a_group_claims_everyone_but_those_on_a_break(make_bot: BotFactory, clock: FakeClock) -> None:
    clock.set(START - timedelta(hours=1))
    async with make_bot(clock=clock) as bot:
        people = [bot.user(2001 + n, f"P{n}") for n in range(4)]
        for person in people:
            await person.send("/remind 10:00")
        await people[0].send("/break 3")
        clock.set(START + timedelta(seconds=30))
        assert await tick(bot) == 3
        claimed = {d.user_id for d in await deliveries(bot)}
        assert claimed == {2002, 2003, 2004}
        async with bot.db.read() as repos:
            moved = await repos.session.scalar(
                select(func.count()).select_from(User).where(User.next_reminder_at > clock.now())
            )
        assert moved == 4  # everyone's next reminder moved on, the one on a break too


async def test_commits_never_copy_the_log_into_the_database_the_checkpointer_does(
    sqlite_db: Database,
) -> None:
    """Issue 12: an SQLite commit that crossed 1,000 pages of write-ahead log copied the log into the
    database file and synced it, with every writer waiting behind it (score replies took 100-120 ms).
    Commits only append now; ``Database.checkpoint`` copies the log on a connection of its own, waiting
    for nobody and keeping nobody waiting."""
    for n in range(1_200):  # every commit appends at least one page to the log
        async with sqlite_db.transaction() as repos:
            await repos.pain.record(1, n % 11, at=NOW, local_date=date(2026, 11, 1))
    assert await sqlite_db.checkpoint() >= 1_200  # no commit copied the log (SQLite's default: at 1,000)
    async with sqlite_db.read() as repos:
        assert len(await repos.pain.scores(1)) == 1_200
    async with sqlite_db.transaction() as repos:  # the log was copied whole: it starts again
        await repos.pain.record(1, 5, at=NOW, local_date=date(2026, 11, 2))
    assert 0 < await sqlite_db.checkpoint() < 20
