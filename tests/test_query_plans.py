"""Every query the bot runs uses an index on the tables that grow with users and days, on both engines.

The test records every statement the real bot sends to the database while a person uses every
feature (and the reminder and session ticks run), then asks the engine for its plan of each one:
SQLite's ``EXPLAIN QUERY PLAN``, PostgreSQL's ``EXPLAIN`` with sequential scans discouraged (so the plan
shows whether an index *can* serve the query, whatever the table's size today). A full scan of a
growing table fails the test with the statement and its plan.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from bot.clock import FakeClock
from tests.conftest import BotFactory
from tests.test_e2e_session import is_card

GROWING = ("users", "guided_sessions", "pain_scores", "exercise_flags", "reminder_deliveries")
SKIP = ("INSERT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "EXPLAIN", "SHOW")


def full_scans(plan: str) -> list[str]:
    lines = []
    for line in plan.splitlines():
        if "Seq Scan on" in line and any(f" {t} " in f"{line} " for t in GROWING):
            lines.append(line)
        words = line.split()
        if "SCAN" in words and "USING" not in line:  # SQLite: "SCAN users" reads every row
            table = words[words.index("SCAN") + 1] if words.index("SCAN") + 1 < len(words) else ""
            if table in GROWING:
                lines.append(line)
    return lines


async def test_every_query_uses_an_index_on_growing_tables(make_bot: BotFactory, clock: FakeClock) -> None:
    async with make_bot(clock=clock, timer_scale=0.05) as bot:
        engine = bot.db.engine
        seen: dict[str, Any] = {}

        def capture(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            if not many and not statement.lstrip().upper().startswith(SKIP):
                seen.setdefault(" ".join(statement.split()), parameters)

        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        try:
            ana, bo = bot.user(1001, "Ana"), bot.user(1002, "Bo")
            for person in (ana, bo):
                for text in (
                    "/start",
                    "/routine",
                    "/stats",
                    "/settings",
                    "/remind 07:30",
                    "/timezone Berlin",
                ):
                    await person.send(text)
            await ana.send("/routine")
            await ana.click(ana.last, "Start")
            card = await ana.wait_for(lambda m: is_card(m) and m.text.startswith("1/"))
            await ana.click(card, "Pause")
            await ana.click(card, "Resume")
            await ana.click(card, "It hurts")
            question = await ana.wait_for(lambda m: "Stop for today" in " ".join(m.button_labels))
            await ana.click(question, "Skip this one and go on")
            await asyncio.sleep(0.5)  # the session's own timers and the session tick run
            card = await ana.wait_for(is_card)
            await ana.click(card, "Stop")
            await ana.wait_for(lambda m: "How is your back" in m.text)
            for text in (
                "4",
                "/pain 3",
                "/stats",
                "/progress",
                "/break 2",
                "/break off",
                "/export",
                "/session",
            ):
                await ana.send(text)
            assert bot.services.reminders is not None
            clock.advance(days=1)
            await bot.services.reminders.tick(clock.now())
            clock.advance(hours=1)
            await bot.services.reminders.tick(clock.now())
            await bo.send("/forget")
            await bo.click(bo.last, "Yes")
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", capture)

        postgres = bot.db.dialect == "postgresql"
        problems = []
        async with engine.connect() as connection, connection.begin() as transaction:
            if postgres:
                await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            for statement, parameters in seen.items():
                prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
                result = await connection.exec_driver_sql(prefix + statement, parameters)
                plan = "\n".join(" ".join(str(c) for c in row) for row in result)
                if full_scans(plan):
                    problems.append(f"{statement}\n  {plan}")
            await transaction.rollback()
        assert len(seen) > 30, f"only {len(seen)} statements were seen"
        assert not problems, "full scans of growing tables:\n\n" + "\n\n".join(problems)


def test_the_plan_reader_knows_a_full_scan_from_an_index() -> None:
    assert full_scans("SCAN users")
    assert full_scans("Seq Scan on pain_scores  (cost=10000000000.00..10000000001.01 rows=1 width=8)")
    assert not full_scans("SEARCH users USING INTEGER PRIMARY KEY (rowid=?)")
    assert not full_scans("SCAN guided_sessions USING INDEX ix_guided_sessions_due")
    assert not full_scans("Index Scan using pk_users on users  (cost=0.15..8.17 rows=1 width=8)")
    assert not full_scans("SCAN media_files")
