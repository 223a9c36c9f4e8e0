"""Reminders exactly once a day, whatever Telegram or the database does (issue 9).

One test per rule, through the real Application and ReminderService with an injected clock: retries
wait for ``not_before`` on the fake clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from bot.clock import FakeClock
from bot.reminders import SEND_WORKERS, ReminderService
from storage.models import GuidedSession, ReminderDelivery, User
from tests.conftest import BotFactory, BotUnderTest
from tests.test_e2e_reminders import deliveries, tick

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def service(bot: BotUnderTest) -> ReminderService:
    assert bot.services.reminders is not None
    return bot.services.reminders


async def seed_users(bot: BotUnderTest, count: int, due: datetime, first_id: int = 5000) -> list[int]:
    """``count`` users whose 10:00 UTC reminder is due at ``due``."""
    ids = list(range(first_id, first_id + count))
    async with bot.db.transaction() as repos:
        await repos.session.execute(
            insert(User),
            [
                {
                    "id": uid,
                    "chat_id": uid,
                    "first_name": f"u{uid}",
                    "timezone": "UTC",
                    "created_at": due - timedelta(days=3),
                    "last_seen_at": due - timedelta(days=1),
                    "settings": {},
                    "reminder_time": f"{due:%H:%M}",
                    "next_reminder_at": due,
                }
                for uid in ids
            ],
        )
    return ids


def reminders_to(bot: BotUnderTest, chat_id: int) -> int:
    return sum("Time for your back" in m.text for m in bot.fake.messages(chat_id))


async def statuses(bot: BotUnderTest) -> dict[int, ReminderDelivery]:
    return {d.user_id: d for d in await deliveries(bot)}


# --- rule 1: 'sending' only right before the request; shutdown finishes what it holds ---------------


async def test_a_kill_mid_burst_leaves_only_the_requests_in_flight_unsent(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    clock.set(START)
    async with make_bot(clock=clock, send_rate=200) as bot:
        ids = await seed_users(bot, 60, START)
        await service(bot).tick()
        task = asyncio.ensure_future(service(bot).drain())
        await bot.fake.changes.wait_until(lambda: len(bot.fake.calls_to("sendMessage")) >= 15, 10)
        task.cancel()  # what kill -9 does to the sender: no chance to tidy up
        with pytest.raises(asyncio.CancelledError):
            await task
        rows = await statuses(bot)
        in_flight = [uid for uid, d in rows.items() if d.status == "sending"]
        assert len(in_flight) <= SEND_WORKERS  # (the old sender had marked the whole batch: 60)
        assert sum(d.status == "claimed" for d in rows.values()) >= 60 - 15 - SEND_WORKERS
    async with make_bot(clock=clock, send_rate=200) as bot:  # the restart
        await service(bot).drain()
        rows = await statuses(bot)
        counts = {uid: reminders_to(bot, uid) for uid in ids}
        assert max(counts.values()) == 1, "nobody gets two"
        lost = [uid for uid, n in counts.items() if n == 0]
        assert set(lost) <= set(in_flight) and all(rows[uid].status == "unknown" for uid in lost)


async def test_a_clean_shutdown_mid_burst_loses_nothing(make_bot: BotFactory, clock: FakeClock) -> None:
    clock.set(START)
    async with make_bot(clock=clock, send_rate=100) as bot:
        ids = await seed_users(bot, 40, START)
        await service(bot).tick()
        assert service(bot).start_draining() is not None
        await bot.fake.changes.wait_until(lambda: len(bot.fake.calls_to("sendMessage")) >= 10, 10)
    # Application.stop() waited for the sender: it took no new rows and finished the ones in flight.
    async with make_bot(clock=clock, send_rate=100) as bot:
        rows = await statuses(bot)
        assert {d.status for d in rows.values()} <= {"sent", "claimed"}
        assert sum(d.status == "sent" for d in rows.values()) == len(bot.fake.calls_to("sendMessage"))
        await service(bot).drain()
        assert {uid: reminders_to(bot, uid) for uid in ids} == dict.fromkeys(ids, 1)
        assert {d.status for d in (await statuses(bot)).values()} == {"sent"}


# --- rule 2: known failures are retried until the lateness window closes ---------------------------


async def test_known_failures_are_retried_with_backoff_until_the_window_closes(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    clock.set(START)
    async with make_bot(clock=clock) as bot:
        a, b, c, d, e = await seed_users(bot, 5, START)
        service(bot).random.seed(7)
        limiter: Any = bot.app.bot.rate_limiter
        limiter._max_retries = 0  # PTB's limiter would sleep through a 429; here the service retries
        fake = bot.fake
        fake.fail_next("sendMessage", "bad_gateway", times=4, chat_id=a)  # 502s for a while
        fake.fail_next("sendMessage", "refused", times=3, chat_id=b)  # connection refused / reset
        fake.fail_next("sendMessage", "invalid_json", times=2, chat_id=c)
        # (short: the rate limiter holds the chat for retry_after real seconds, whatever the fake clock says)
        fake.fail_next("sendMessage", "retry_after", retry_after=3, chat_id=d)
        fake.fail_next("sendMessage", "bad_gateway", times=10_000, chat_id=e)  # never recovers
        clock.set(START + timedelta(seconds=20))
        await tick(bot)
        rows = await statuses(bot)
        assert rows[d].status == "claimed" and rows[d].not_before is not None
        assert rows[d].not_before >= clock.now() + timedelta(seconds=3)  # retry_after is honoured
        assert {rows[uid].status for uid in (a, b, c, e)} == {"claimed"}
        for _ in range(140):
            clock.advance(minutes=1)
            await tick(bot)
        rows = await statuses(bot)
        for uid in (a, b, c, d):
            assert rows[uid].status == "sent" and reminders_to(bot, uid) == 1, uid
        assert rows[a].attempts == 5 and rows[b].attempts == 4 and rows[c].attempts == 3
        assert rows[e].status == "failed" and "gave up" in (rows[e].error or "") and reminders_to(bot, e) == 0
        assert rows[e].attempts > 6  # backoff: more than a handful, far fewer than one a minute


# --- rule 3: unknown outcomes are never retried ----------------------------------------------------


async def test_an_unknown_outcome_is_recorded_and_never_sent_again(
    make_bot: BotFactory, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    clock.set(START)
    async with make_bot(clock=clock) as bot:
        a, b, c = await seed_users(bot, 3, START)
        bot.fake.fail_next("sendMessage", "timeout_after", chat_id=a)  # delivered, then TimedOut
        bot.fake.fail_next("sendMessage", "reset_after", chat_id=b)  # delivered, then the line drops
        with caplog.at_level(logging.WARNING, logger="bot.reminders"):
            assert await tick(bot) == 1
        for _ in range(5):
            clock.advance(minutes=2)
            await tick(bot)
        rows = await statuses(bot)
        assert rows[a].status == rows[b].status == "unknown" and rows[c].status == "sent"
        assert "timed out" in (rows[a].error or "") and "connection lost" in (rows[b].error or "")
        assert [reminders_to(bot, uid) for uid in (a, b, c)] == [1, 1, 1]  # Telegram had them: once each
        assert "outcome unknown" in caplog.text and "not sending it again" in caplog.text


# --- rule 4: hot queries use indexes; the table is pruned ------------------------------------------


FULL_SCAN = ("Seq Scan",)


async def test_hot_reminder_queries_use_indexes_and_old_rows_are_pruned(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    clock.set(START)
    async with make_bot(clock=clock) as bot:
        ids = await seed_users(bot, 300, START + timedelta(days=1))
        statuses_cycle = ["sent", "sent", "sent", "failed", "claimed", "snoozed", "skipped", "unknown"]
        async with bot.db.transaction() as repos:
            await repos.session.execute(
                insert(ReminderDelivery),
                [
                    {
                        "user_id": uid,
                        "local_date": date(2026, 11, 24) - timedelta(days=day),
                        "due_at": START - timedelta(days=day),
                        "claimed_at": START - timedelta(days=day),
                        "status": statuses_cycle[(uid + day) % len(statuses_cycle)],
                        "attempts": 1,
                    }
                    for uid in ids
                    for day in range(10)
                ],
            )
        engine = bot.db.engine
        captured: list[tuple[str, Any]] = []

        def capture(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            if not statement.lstrip().upper().startswith(("EXPLAIN", "SET", "SAVEPOINT", "RELEASE")):
                captured.append((statement, parameters))

        from sqlalchemy import event

        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        plans: dict[str, str] = {}
        try:
            async with engine.connect() as connection:
                session_repo = None
                async with bot.db.transaction() as repos:
                    session_repo = repos.reminders
                    queries = {
                        "due_groups": lambda: session_repo.due_groups(START, 100),
                        "ready": lambda: session_repo.ready(START, 100),
                        "wake_snoozed": lambda: session_repo.wake_snoozed(START),
                        "expire_stale": lambda: session_repo.expire_stale(START - timedelta(hours=2)),
                        "expire_snoozed": lambda: session_repo.expire_snoozed(START - timedelta(hours=2)),
                        "interrupted": lambda: session_repo.interrupted(),
                        "prune": lambda: session_repo.prune(START - timedelta(days=7)),
                    }
                    found: dict[str, tuple[str, Any]] = {}
                    for name, run in queries.items():
                        captured.clear()
                        await run()
                        found[name] = captured[-1]
                    await repos.session.rollback()
                postgres = bot.db.dialect == "postgresql"
                async with connection.begin():
                    if postgres:
                        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                    for name, (sql, params) in found.items():
                        prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
                        result = await connection.exec_driver_sql(prefix + sql, params)
                        plans[name] = "\n".join(" ".join(str(c) for c in row) for row in result)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
        for name, plan in plans.items():
            lines = plan.splitlines()
            full_scans = [
                line
                for line in lines
                if "Seq Scan" in line
                or ("SCAN " in line and "USING" not in line and "reminder_deliveries" in line)
                or ("SCAN " in line and "USING" not in line and "users" in line)
            ]
            assert not full_scans, f"{name} scans the whole table:\n{plan}"
            assert "ix_" in plan or "pk_" in plan or "uq_" in plan, f"{name} uses no index:\n{plan}"

        before = len(await deliveries(bot))
        await tick(bot)  # prunes rows due more than 7 days ago
        after = await deliveries(bot)
        assert before == 3000 and len(after) == 300 * 8
        assert min(d.due_at for d in after) >= START - timedelta(days=7)


# --- rule 5: a /timezone committed mid-tick is not overwritten: tests/test_db_write_path.py
# (test_a_zone_change_after_the_group_read_wins, on the tick's set-based group read)


# --- rule 6: "/remind" keeps its promise; flying west loses no day ---------------------------------


async def test_remind_promises_tomorrow_when_today_is_done_and_west_travel_keeps_the_day(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    clock.set(START - timedelta(hours=2))  # 08:00 UTC
    async with make_bot(clock=clock) as bot:
        ana = bot.user(1001, "Ana")
        await ana.send("/remind 08:30")
        clock.set(START - timedelta(minutes=90) + timedelta(seconds=10))
        assert await tick(bot) == 1
        clock.set(START)  # 10:00: a new time later today — but today's reminder came already
        await ana.send("/remind 18:00")
        assert "Wed 25 Nov, 18:00" in ana.last_text
        clock.set(START.replace(hour=18, second=30))
        assert await tick(bot) == 0 and reminders_to(bot, 1001) == 1
        clock.set(datetime(2026, 11, 25, 18, 0, 30, tzinfo=UTC))
        assert await tick(bot) == 1

        bo = bot.user(1002, "Bo")  # in Tokyo, 08:00 there; flies to New York
        await bo.send("/timezone Asia/Tokyo")
        clock.set(datetime(2026, 11, 26, 12, tzinfo=UTC))
        await bo.send("/remind 08:00")
        clock.set(datetime(2026, 11, 26, 23, 0, 10, tzinfo=UTC))  # 08:00 on Fri 27 in Tokyo
        assert await tick(bot) == 1
        clock.set(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))  # 20:00 on Thu 26 in New York
        await bo.send("/timezone America/New_York")
        assert "Fri 27 Nov, 08:00" in bo.last_text  # Fri 27 in New York has had no reminder yet
        clock.set(datetime(2026, 11, 27, 13, 0, 10, tzinfo=UTC))
        assert await tick(bot) == 1 and reminders_to(bot, 1002) == 2


# --- rule 7: a snooze crossing midnight re-checks the new day; old snoozes expire -------------------


async def test_a_snooze_re_checks_the_new_day_and_expires_when_too_old(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    clock.set(START.replace(hour=22))
    async with make_bot(clock=clock) as bot:
        ana, bo = bot.user(1001, "Ana"), bot.user(1002, "Bo")
        await ana.send("/remind 23:20")
        await bo.send("/remind 23:20")
        clock.set(START.replace(hour=23, minute=20, second=10))
        assert await tick(bot) == 2
        clock.set(START.replace(hour=23, minute=40))
        await ana.click(ana.last, "Snooze")  # due again at 00:40 on the 25th
        await bo.click(bo.last, "Snooze")
        async with bot.db.transaction() as repos:  # Ana did the 25th's session just after midnight
            repos.session.add(
                GuidedSession(
                    user_id=1001,
                    chat_id=1001,
                    local_date=date(2026, 11, 25),
                    started_at=datetime(2026, 11, 25, 0, 5, tzinfo=UTC),
                    ended_at=datetime(2026, 11, 25, 0, 20, tzinfo=UTC),
                    status="completed",
                    state={},
                    exercises_total=4,
                    exercises_done=4,
                    counted=True,
                )
            )
        clock.set(datetime(2026, 11, 25, 0, 41, tzinfo=UTC))
        async with bot.db.transaction() as repos:  # Bo's snooze: pretend the bot was down for hours
            row = await repos.reminders.for_day(1002, date(2026, 11, 24))
            assert row is not None
            row.due_at = clock.now() - timedelta(hours=3)
        await tick(bot)
        rows = await statuses(bot)
        assert rows[1001].status == "skipped" and rows[1001].error == "already stretched that day"
        assert rows[1002].status == "failed" and "expired" in (rows[1002].error or "")
        assert reminders_to(bot, 1001) == reminders_to(bot, 1002) == 1


async def test_delivery_rows_of_the_tick_are_counted_once(make_bot: BotFactory, clock: FakeClock) -> None:
    """The delivery table holds one row per user and local day, whatever the tick is asked twice."""
    clock.set(START)
    async with make_bot(clock=clock) as bot:
        ids = await seed_users(bot, 10, START)
        await service(bot).tick()
        await service(bot).tick()
        async with bot.db.transaction() as repos:
            count = len((await repos.session.execute(select(ReminderDelivery.id))).all())
        assert count == 10
        await service(bot).drain()
        assert [reminders_to(bot, uid) for uid in ids] == [1] * 10
