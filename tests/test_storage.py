"""Storage: migrations match the models, timestamps stay aware UTC, deleting a user leaves nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from storage.db import Database
from storage.models import Base, GuidedSession, PainScore, User, UTCDateTime


@pytest.fixture
async def db(database_url: str):  # type: ignore[no-untyped-def]
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.dispose()


async def test_migrations_match_the_models(db: Database) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        return compare_metadata(
            MigrationContext.configure(connection, opts={"render_as_batch": True}), Base.metadata
        )

    async with db.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_migrate_twice_is_harmless(db: Database) -> None:
    await db.migrate()


async def test_sqlite_pragmas_are_set(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite only")
    async with db.engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1


async def test_datetimes_come_back_aware_utc(db: Database) -> None:
    berlin = timezone(timedelta(hours=1))
    at = datetime(2026, 3, 29, 3, 30, tzinfo=berlin)
    async with db.transaction() as repos:
        await repos.users.touch(1, 1, first_name="A", language_code=None, now=at, default_timezone="UTC")
    async with db.transaction() as repos:
        user = await repos.users.get(1)
        assert user is not None and user.created_at == at and user.created_at.tzinfo == UTC
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), db.engine.dialect)  # noqa: DTZ001


async def test_delete_user_removes_every_row_in_one_transaction(db: Database) -> None:
    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    async with db.transaction() as repos:
        for uid in (1, 2):
            await repos.users.touch(
                uid, uid, first_name="x", language_code=None, now=now, default_timezone="UTC"
            )
            row = await repos.sessions.add(
                GuidedSession(user_id=uid, chat_id=uid, local_date=date(2026, 11, 24), started_at=now,
                              status="completed", state={}, counted=True)
            )  # fmt: skip
            await repos.pain.add(uid, 4, at=now, local_date=date(2026, 11, 24), session_id=row.id)
            await repos.flags.hurt(uid, "piriformis", now)
    async with db.transaction() as repos:
        await repos.users.delete(1)
    async with db.transaction() as repos:
        for model in (User, GuidedSession, PainScore):
            owners = (await repos.session.execute(select(func.count()).select_from(model))).scalar()
            assert owners == 1, model
        assert await repos.flags.ids(1) == set() and await repos.flags.ids(2) == {"piriformis"}


async def test_one_live_session_per_user_is_enforced_by_the_database(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    async with db.transaction() as repos:
        await repos.users.touch(1, 1, first_name="x", language_code=None, now=now, default_timezone="UTC")
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            for _ in range(2):
                await repos.sessions.add(
                    GuidedSession(user_id=1, chat_id=1, local_date=date(2026, 11, 24), started_at=now,
                                  status="running", state={})
                )  # fmt: skip


async def test_a_session_step_is_saved_only_over_the_version_it_was_loaded_at(db: Database) -> None:
    """Two instances that both loaded version 0: the first save wins, the second changes nothing."""
    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    async with db.transaction() as repos:
        await repos.users.touch(1, 1, first_name="x", language_code=None, now=now, default_timezone="UTC")
        row = await repos.sessions.add(
            GuidedSession(user_id=1, chat_id=1, local_date=date(2026, 11, 24), started_at=now,
                          status="running", state={"machine": {}}, version=0)
        )  # fmt: skip

    def step(n: int) -> dict:  # type: ignore[type-arg]
        return {"status": "running", "state": {"step": n}, "message_id": 10 + n, "exercises_done": n,
                "next_at": now + timedelta(seconds=n)}  # fmt: skip

    async with db.transaction() as repos:
        assert await repos.sessions.save_state(row.id, 0, **step(1)) is True
    async with db.transaction() as repos:
        assert await repos.sessions.save_state(row.id, 0, **step(2)) is False  # the other instance
        assert await repos.sessions.save_state(row.id + 1, 1, **step(3)) is False  # no such session
    async with db.read() as repos:
        saved = await repos.sessions.by_id(row.id)
    assert saved is not None and saved.version == 1 and saved.state == {"step": 1}
    assert (
        saved.message_id == 11 and saved.exercises_done == 1 and saved.next_at == now + timedelta(seconds=1)
    )


async def test_instances_are_counted_and_one_that_went_silent_is_forgotten(db: Database) -> None:
    t0, stale = datetime(2026, 11, 24, 9, tzinfo=UTC), timedelta(seconds=15)
    beats = [("a", 0, 1), ("b", 1, 2), ("a", 5, 2), ("b", 21, 1), ("b", 26, 1), ("c", 27, 2)]
    for instance, second, alive in beats:  # a's last beat (5 s) is 16 s old at 21 s
        async with db.transaction() as repos:
            assert await repos.instances.beat(instance, t0 + timedelta(seconds=second), stale) == alive
    async with db.transaction() as repos:
        await repos.instances.leave("b")
    async with db.read() as repos:
        assert await repos.instances.alive(t0 + timedelta(seconds=28), stale) == ["c"]
