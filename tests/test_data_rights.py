"""Data rights: /export holds every stored field of every table, /forget deletes every row of the user in
one transaction, and the SQLite files are private (issue 10)."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Table, event, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot import export
from bot.clock import FakeClock
from bot.handlers.data import FORGET_FAILED_TAP
from storage.db import Database
from storage.models import Base
from tests.conftest import BotFactory, BotUnderTest
from tests.harness import ChatUser, SentMessage
from tests.test_e2e_session import is_card, start_session

ANA, BO = 1001, 1002
SCALE = 0.05


def user_columns(table: Table) -> list[Column[Any]]:
    """The columns of ``table`` holding a user id (worked out here, independently of bot.export)."""
    if table.name == "users":
        return [table.c.id]
    return [
        column
        for column in table.columns
        if any(fk.column.table.name == "users" and fk.column.name == "id" for fk in column.foreign_keys)
    ]


def personal_tables() -> list[Table]:
    """Every table but those bot.export declares not personal (each still checked to hold no user id)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in export.NOT_PERSONAL]


async def rows_of(bot: BotUnderTest, table: Table, user_id: int) -> list[dict[str, Any]]:
    """The stored rows of ``table`` that belong to ``user_id``; a table with no user column fails."""
    columns = user_columns(table)
    assert columns, f"table {table.name} has no reference to users.id: is it about a user? (see bot.export)"
    async with bot.db.transaction() as repos:
        query = select(table).where(or_(*(c == user_id for c in columns))).order_by(*table.primary_key)
        return [dict(row) for row in (await repos.session.execute(query)).mappings()]


def hurt_question(message: SentMessage) -> bool:
    return "Stop for today" in " ".join(message.button_labels)


async def session_with_a_skip_and_a_hurt(user: ChatUser) -> None:
    """A real guided session: the first exercise skipped, the second hurts, stop for today, score 7."""
    card = await start_session(user)
    await user.click(card, "Skip")
    second = await user.wait_for(lambda m: is_card(m) and m.text.startswith("2/"))
    await user.click(second, "It hurts")
    question = await user.wait_for(hurt_question)
    await user.click(question, "Stop for today")
    stopped = await user.wait_for(lambda m: "How is your back" in m.text)
    await user.click(stopped, "7")


async def fill_every_table(bot: BotUnderTest, clock: FakeClock) -> tuple[ChatUser, ChatUser]:
    """Ana and Bo each get rows in every table, through the real bot: a reminder delivery (Ana's one
    failed: she had blocked the bot), a session with a skipped and a hurting exercise (an exercise
    flag), pain scores and a break."""
    ana, bo = bot.user(ANA, "Ana"), bot.user(BO, "Bo")
    for user in (ana, bo):
        await user.send("/timezone Europe/Berlin")
        await user.send("/remind 10:30")
    clock.set(datetime(2026, 11, 24, 9, 30, 5, tzinfo=UTC))
    assert bot.services.reminders is not None
    bot.fake.block(ANA)
    await bot.services.reminders.tick()
    await bot.services.reminders.drain()
    bot.fake.unblock(ANA)
    for user in (ana, bo):
        await session_with_a_skip_and_a_hurt(user)
        await user.send("/pain 4")
        await user.send("/break 3")
    for table in personal_tables():
        for uid in (ANA, BO):
            assert await rows_of(bot, table, uid), f"the test gives {uid} no row in {table.name}: add one"
    return ana, bo


async def exported(user: ChatUser) -> tuple[dict[str, Any], zipfile.ZipFile]:
    await user.send("/export")
    assert user.last.kind == "document"
    archive = zipfile.ZipFile(io.BytesIO(user.last.document or b""))
    return json.loads(archive.read("backstretch.json")), archive


def plain(value: Any) -> Any:
    """A stored value as JSON gives it back."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat()))


async def test_export_of_a_new_user_has_csvs_with_their_header_row(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/start")
    document, archive = await exported(user)
    assert document["sessions"] == [] and document["pain_scores"] == []
    for name, table in (("sessions.csv", "guided_sessions"), ("pain_scores.csv", "pain_scores")):
        text = archive.read(name).decode()
        assert text, f"{name} is empty"
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == 1, rows
        assert {"id", "user_id", "local_date"} <= set(rows[0]), rows[0]
        columns = {c.name for c in Base.metadata.tables[table].columns} - export.CSV_LEFT_OUT.get(
            table, set()
        )
        assert columns <= set(rows[0]), f"{name} lacks {columns - set(rows[0])}"


async def test_export_holds_every_stored_field_of_every_table(make_bot: BotFactory, clock: FakeClock) -> None:
    async with make_bot(clock=clock, timer_scale=SCALE) as bot:
        ana, bo = await fill_every_table(bot, clock)
        for user in (ana, bo):
            document, archive = await exported(user)
            for table in personal_tables():  # a new table that isn't exported fails here
                assert table.name not in export.NOT_PERSONAL or not user_columns(table), table.name
                key = export.section(table)
                assert key in document, f"table {table.name} is not in the export"
                section = document[key]
                got = [section] if table.name == "users" else section
                stored = await rows_of(bot, table, user.user_id)
                assert len(got) == len(stored), table.name
                columns = {c.name for c in table.columns}  # Model.__table__.columns
                for row, db_row in zip(got, stored, strict=True):
                    assert set(row) == columns | set(export.DERIVED.get(table.name, ())), table.name
                    assert {k: row[k] for k in columns} == plain(db_row), table.name
                    assert all(row[column.name] == user.user_id for column in user_columns(table)), (
                        f"{table.name}: another user's row"
                    )

            # the fields issue 10 found missing
            profile = document["profile"]
            assert profile["telegram_user_id"] == user.user_id and profile["break_started"] == "2026-11-24"
            assert profile["break_until"] == "2026-11-26" and profile["timezone"] == "Europe/Berlin"
            (session,) = document["sessions"]
            routine = [item["id"] for item in session["state"]["routine"]]
            assert session["exercises"] == routine
            assert session["skipped_exercises"] == [routine[0]] and session["hurt_exercises"] == [routine[1]]
            (flag,) = document["exercise_flags"]
            assert flag["exercise_id"] == routine[1] and flag["last_at"] and flag["hurt_count"] == 1
            assert sorted(p["score"] for p in document["pain_scores"]) == [4, 7]
            assert {p["session_id"] for p in document["pain_scores"]} == {session["id"], None}
            (delivery,) = document["reminder_deliveries"]
            assert delivery["local_date"] == "2026-11-24" and delivery["due_at"] and delivery["claimed_at"]
            if user is ana:  # blocked the bot when the reminder went out
                assert delivery["status"] != "sent" and delivery["error"], delivery
            else:
                assert delivery["status"] == "sent" and delivery["sent_at"], delivery

            sessions_csv = list(csv.DictReader(io.StringIO(archive.read("sessions.csv").decode())))
            assert len(sessions_csv) == 1 and sessions_csv[0]["hurt_exercises"] == routine[1]
            assert sessions_csv[0]["skipped_exercises"] == routine[0]
            scores_csv = list(csv.DictReader(io.StringIO(archive.read("pain_scores.csv").decode())))
            assert sorted(row["score"] for row in scores_csv) == ["4", "7"]


async def test_export_is_built_from_the_columns_a_new_column_is_exported() -> None:
    """A column added to a model shows up without touching bot/export.py (here: a row with an extra key
    as the generic reader returns it for a new column)."""
    rows = {"users": [{"id": 5, "chat_id": 5, "new_column": "x"}], "pain_scores": []}
    document = json.loads(
        zipfile.ZipFile(
            io.BytesIO(export.build_export(rows, exported_at=datetime(2026, 1, 1, tzinfo=UTC)))
        ).read("backstretch.json")
    )
    assert document["profile"]["new_column"] == "x"
    assert {export.section(t) for t in personal_tables()} <= set(document)


async def test_forget_deletes_every_row_of_the_user_in_every_table_and_nothing_of_others(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock, timer_scale=SCALE) as bot:
        ana, _bo = await fill_every_table(bot, clock)
        bo_before = {t.name: await rows_of(bot, t, BO) for t in personal_tables()}
        await ana.send("/forget")
        await ana.click(ana.last, "Yes")
        assert "everything I kept about you is deleted" in ana.last.text
        for table in personal_tables():  # a new table with a user reference is checked too
            assert await rows_of(bot, table, ANA) == [], table.name
        assert {t.name: await rows_of(bot, t, BO) for t in personal_tables()} == bo_before


async def test_forget_is_one_transaction_a_failure_on_the_last_delete_deletes_nothing(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock, timer_scale=SCALE) as bot:
        ana, _bo = await fill_every_table(bot, clock)
        before = {t.name: await rows_of(bot, t, ANA) for t in personal_tables()}
        deletes: list[str] = []

        def fail_the_last_delete(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("DELETE FROM"):
                deletes.append(statement.split()[2].strip('"'))
                if deletes[-1] == "users":  # the user's own row goes last: everything else went before
                    raise OperationalError(statement, params, Exception("injected: disk I/O error"))

        engine = bot.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", fail_the_last_delete)
        try:
            await ana.send("/forget")
            await ana.click(ana.last, "Yes")
        finally:
            event.remove(engine, "before_cursor_execute", fail_the_last_delete)
        assert deletes[-1] == "users" and len(deletes) >= len(before), deletes  # the others did run
        assert "nothing was deleted" in ana.last.text.lower() and "try again" in ana.last.text.lower()
        assert ana.last_answer == FORGET_FAILED_TAP
        assert "Yes" in " ".join(ana.last.button_labels)  # the buttons stay, to try again
        after = {t.name: await rows_of(bot, t, ANA) for t in personal_tables()}
        assert after == before

        await ana.click(ana.last, "Yes")  # the storage is back: now it goes through
        assert "everything I kept about you is deleted" in ana.last.text
        for table in personal_tables():
            assert await rows_of(bot, table, ANA) == [], table.name


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_the_sqlite_database_and_its_folder_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: files 0644 and folders 0755 unless the bot says otherwise
    try:
        folder = tmp_path / "data" / "backstretch"
        path = folder / "bot.db"
        database = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await database.migrate()
            async with database.transaction() as repos:  # a write, with the WAL open
                await repos.users.touch(
                    1, 1, first_name="A", language_code=None, now=datetime.now(UTC), default_timezone="UTC"
                )
                assert mode(path) == 0o600
                for suffix in ("-wal", "-shm"):
                    sidecar = path.with_name(path.name + suffix)
                    assert sidecar.exists(), suffix
                    assert mode(sidecar) == 0o600, suffix
            assert mode(folder) == 0o700 and mode(folder.parent) == 0o700
        finally:
            await database.dispose()
    finally:
        os.umask(old)


async def test_the_configured_database_folder_is_private_too(settings: Any) -> None:
    """The bot's own start-up path (the test database URL) gives a fresh SQLite file the same modes."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite only")
    database = Database(settings.database_url)
    try:
        await database.migrate()
        assert mode(Path(url.database or "")) == 0o600
    finally:
        await database.dispose()


async def test_every_table_refers_to_a_user_or_is_declared_not_personal() -> None:
    """Every table of the schema refers to a user (or is declared not personal in bot.export)."""
    for table in Base.metadata.tables.values():
        if table.name not in export.NOT_PERSONAL:
            assert user_columns(table), table.name
        else:  # declared not personal: it must really hold nothing about a user
            assert not user_columns(table), table.name
    assert [t.name for t in export.personal_tables()] == [
        t.name for t in Base.metadata.sorted_tables if t.name not in export.NOT_PERSONAL
    ]
