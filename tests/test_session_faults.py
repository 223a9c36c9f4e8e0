"""Guided sessions when Telegram or the database misbehaves: nothing stranded, nothing frozen.

Faults are injected, not mocked: the fake Bot API fails chosen calls, and a SQLAlchemy event makes
chosen statements fail like a locked SQLite file would.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.clock import FakeClock
from bot.runner import EDIT_SECONDS, Live
from content.planner import Routine, RoutineItem
from tests.conftest import BotFactory, BotUnderTest
from tests.harness import ChatUser, FakeBotApi
from tests.test_e2e_session import is_card, session_row, start_session

SCALE = 0.05


@contextmanager
def failing_statements(bot: BotUnderTest, startswith: str, seconds: float) -> Iterator[list[str]]:
    """For ``seconds``, every SQL statement starting with ``startswith`` fails as "database is locked"."""
    engine = bot.services.db.engine.sync_engine
    until = time.monotonic() + seconds
    failed: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if time.monotonic() < until and statement.lstrip().upper().startswith(startswith):
            failed.append(statement)
            raise OperationalError(statement, {}, Exception("database is locked"))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield failed
    finally:
        event.remove(engine, "before_cursor_execute", before)


def record_edit_times(fake: FakeBotApi) -> dict[int, list[float]]:
    """Observe when each message was edited (monotonic seconds), without changing what the fake does."""
    times: dict[int, list[float]] = defaultdict(list)
    original = fake.call

    async def call(method: str, params: dict[str, Any], files: Any = None) -> Any:
        result = await original(method, params, files)
        if method.lower() == "editmessagetext":
            times[int(params["message_id"])].append(time.monotonic())
        return result

    fake.call = call  # type: ignore[method-assign]
    return times


async def test_stop_while_telegram_fails_still_ends_the_session(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=SCALE) as bot:
        user = bot.user()
        card = await start_session(user)
        bot.fake.fail_next("editMessageText", "network", times=5)
        bot.fake.fail_next("deleteMessage", "network", times=5)
        bot.fake.fail_next("sendMessage", "server", times=1)  # the closing question is lost too
        await user.click(card, "Stop")
        assert user.answers, "the Stop tap was never answered"
        row = await session_row(bot)
        assert row.status == "stopped" and row.ended_at is not None
        bot.fake.clear_failures()
        # no "Sorry", no offer of the session the user stopped: a fresh one starts
        await user.send("/session")
        fresh = await user.wait_for(
            lambda m: is_card(m) and m.text.startswith("1/") and m.message_id > card.message_id
        )
        assert "Sorry" not in user.transcript()
        assert (await session_row(bot)).status == "running"
        await user.click(fresh, "Stop")


async def test_a_locked_database_does_not_freeze_the_countdown(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=SCALE) as bot:
        user = bot.user()
        card = await start_session(user)
        with failing_statements(bot, "UPDATE GUIDED_SESSIONS", seconds=1.5) as failed:
            # the lead-in ends (0.5 s) and the holds go on while every save fails
            await user.wait_for(lambda m: is_card(m) and "Hold" in m.text, timeout=5)
            seen = (await session_row(bot)).state["machine"]["index"]
            await asyncio.sleep(1.0)
        assert failed, "the fault was never hit"
        assert seen == 0  # nothing was saved while the database was locked...
        after = next(m for m in user.messages if m.message_id == card.message_id)
        assert len(after.edits) >= 2  # ...but the countdown kept moving
        await asyncio.sleep(0.6)  # ...and the next tick saved the step
        assert (await session_row(bot)).state["machine"]["index"] > 0
        await user.click(user.last if is_card(user.last) else card, "Stop")


async def test_a_lost_card_is_sent_again_by_the_next_tick(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=SCALE) as bot:
        user = bot.user()
        card = await start_session(user)
        bot.fake.fail_next("sendMessage", "network", times=1, chat_id=1001)
        await user.click(card, "Skip")  # the second exercise's card is lost on the way
        second = await user.wait_for(lambda m: is_card(m) and m.text.startswith("2/"), timeout=5)
        assert second.message_id != card.message_id
        await user.click(second, "Stop")
        assert (await session_row(bot)).status == "stopped"


async def start_routine(bot: BotUnderTest, user: ChatUser, *items: tuple[str, int, int, int]) -> Live:
    """A session of exactly these (exercise, hold, reps, rest) items, both sides at once."""
    await user.send("/start")
    catalogue = bot.services.catalogue
    routine = Routine(
        date(2026, 3, 1),
        tuple(RoutineItem(catalogue[eid], hold, reps, "both", rest) for eid, hold, reps, rest in items),
    )
    async with bot.db.transaction() as repos:
        row = await repos.users.get(user.user_id)
    assert row is not None and bot.services.runner is not None
    return await bot.services.runner.start(row, user.user_id, routine)


async def test_countdown_edits_are_at_least_five_seconds_apart(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=SCALE) as bot:
        times = record_edit_times(bot.fake)
        user = bot.user()
        # phases of 10, 8, 3, 8, 3, 8 and 7 s: none a multiple of 5 but the first
        live = await start_routine(bot, user, ("bridging", 8, 3, 3), ("cat-cow", 7, 1, 3))
        done = await user.wait_for(lambda m: "How is your back" in m.text, timeout=10)
        assert done
        step = EDIT_SECONDS * SCALE
        assert live.card_id is None or live.card_id in times or times
        for message_id, edits in times.items():
            gaps = [b - a for a, b in itertools.pairwise(edits)]
            assert not gaps or min(gaps) >= step * 0.9, (message_id, gaps)
        assert sum(len(e) for e in times.values()) >= 2  # the cards did move


async def test_a_session_belongs_to_the_day_it_ends_on(make_bot: BotFactory) -> None:
    clock = FakeClock(datetime(2026, 3, 1, 23, 55, tzinfo=UTC))
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        card = await start_session(user)
        await user.click(card, "Pause")
        clock.advance(minutes=15)  # past midnight
        await user.click(card, "Stop")
        row = await session_row(bot)
        assert row.status == "stopped" and row.local_date.isoformat() == "2026-03-02"


async def test_a_live_session_from_yesterday_is_closed_not_offered_back(make_bot: BotFactory) -> None:
    clock = FakeClock(datetime(2026, 3, 1, 23, 50, tzinfo=UTC))
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        card = await start_session(user)
        await user.click(card, "Pause")
        clock.advance(hours=8)
        await user.send("/session")
        fresh = await user.wait_for(lambda m: is_card(m) and m.message_id > card.message_id)
        assert "already have a session" not in user.transcript()
        async with bot.db.transaction() as repos:
            rows = await repos.sessions.history(1001)
        assert [r.status for r in rows] == ["stopped", "running"]
        await user.click(fresh, "Stop")


async def test_a_restart_the_next_day_closes_yesterdays_session(make_bot: BotFactory) -> None:
    clock = FakeClock(datetime(2026, 3, 1, 23, 50, tzinfo=UTC))
    async with make_bot(clock=clock) as bot:
        card = await start_session(bot.user())
        await bot.user().click(card, "Pause")
    clock.advance(hours=2)  # 01:50 the next day: well within 12 hours, but another day
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        async with bot.db.transaction() as repos:
            rows = await repos.sessions.history(1001)
        assert rows[-1].status == "interrupted"
        assert not any("restarted" in m.text for m in user.messages)


async def test_a_counted_hold_buzzes_once_per_repetition_and_no_edit_shows_the_last_seconds(
    make_bot: BotFactory,
) -> None:
    """Issue 12: fewer Telegram calls per guided minute without a worse session. A hold short enough
    to count (bridging, 6 s) gets one message per repetition that says when to let go; a long one
    (11 s) keeps both buzzes; the countdown never shows a number that is gone before it is read."""
    async with make_bot(timer_scale=0.1) as bot:  # no phase may pass unseen on a slow machine
        bot.services.pictures = None  # a picture drawn cold would hold up the first step
        user = bot.user()
        await start_routine(bot, user, ("bridging", 6, 3, 5), ("knee-to-chest", 11, 2, 5))
        await user.wait_for(lambda m: "How is your back" in m.text, timeout=30)
        steps = [m.text for m in user.messages if m.text.startswith(("💪", "😮‍💨", "🔄"))]
        assert steps == [
            "💪 Hold — 1 of 3\nCount to 6, then let go and rest 5 s",
            "💪 Hold — 2 of 3\nCount to 6, then let go and rest 5 s",
            "💪 Hold — 3 of 3\nCount to 6, then let go",
            "💪 Hold — 1 of 2",
            "😮‍💨 Rest 5 s — release gently",
            "💪 Hold — 2 of 2",
        ]
        shown = [
            int(seconds)
            for m in user.messages
            if m.text.startswith(("1/", "2/"))
            for text in [*m.edits, m.text][1:]  # what each edit showed
            for seconds in re.findall(r"⏱ 0:(\d\d) left", text)
        ]
        assert shown and min(shown) >= EDIT_SECONDS, shown
