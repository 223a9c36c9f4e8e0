"""End-to-end: /stats after simulated history, /progress, adaptive routines, settings, breaks, export, forget."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bot.clock import FakeClock
from storage.models import Base, GuidedSession, PainScore, User
from tests.conftest import BotFactory, BotUnderTest
from tests.harness import ChatUser


async def add_history(
    bot: BotUnderTest, user_id: int, days: dict[date, int | None], *, completed: bool = True
) -> None:
    """Sessions completed (and scores given) on the given local days, as if the user had done them."""
    async with bot.db.transaction() as repos:
        for day, score in sorted(days.items()):
            at = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
            row = await repos.sessions.add(
                GuidedSession(user_id=user_id, chat_id=user_id, local_date=day, started_at=at, ended_at=at,
                              status="completed" if completed else "stopped", state={"routine": []},
                              exercises_total=5, exercises_done=5, counted=completed)
            )  # fmt: skip
            if score is not None:
                await repos.pain.add(user_id, score, at=at, local_date=day, session_id=row.id)


TODAY = date(2026, 11, 24)


def routine_lines(user: ChatUser) -> list[str]:
    return [line for line in user.last_text.splitlines() if line[:1].isdigit()]


async def test_stats_after_several_days_of_history(make_bot: BotFactory, clock: FakeClock) -> None:
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        await user.send("/start")
        history: dict[date, int | None] = {
            TODAY - timedelta(days=n): 6 for n in range(8, 14)
        }  # the week before: 6
        history |= {TODAY - timedelta(days=n): 3 for n in range(0, 3)}  # the last three days: 3
        await add_history(bot, 1001, history)
        await user.send("/stats")
        text = user.last_text
        assert "Current streak: 3 days in a row" in text
        assert "Best streak: 6 days in a row" in text
        assert "9 in all" in text and "Last pain score: 3/10" in text
        assert "better" in text.lower()
        assert "Progress chart" in user.last.button_labels[0]


async def test_progress_sends_a_png_chart_or_a_friendly_text(make_bot: BotFactory, clock: FakeClock) -> None:
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        await user.send("/progress")
        assert "Nothing to draw yet" in user.last_text
        await add_history(bot, 1001, {TODAY - timedelta(days=n): 5 - n % 3 for n in range(0, 20, 2)})
        await user.send("/stats")
        await user.click(user.last, "Progress chart")
        photo = user.last
        assert photo.kind == "photo" and photo.photo is not None and photo.photo.startswith(b"\x89PNG")
        assert "10 days" in photo.text
        assert any(a.get("action") == "upload_photo" for a in bot.fake.chat_actions)


async def test_routine_turns_gentle_after_high_pain_and_progresses_after_a_good_week(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock) as bot:
        high, steady = bot.user(1001, "High"), bot.user(1002, "Steady")
        await high.send("/start")
        await steady.send("/start")
        await high.send("/routine")
        balanced = high.last_text
        await high.send("/pain 8")
        await high.send("/routine")
        assert "gentle day" in high.last_text and high.last_text != balanced
        assert "You scored 8 today, so this is a gentle day" in high.last_text  # the actual cause
        assert len(routine_lines(high)) <= 5

        await add_history(bot, 1002, {TODAY - timedelta(days=n): 2 for n in range(1, 7)})
        await steady.send("/routine")
        assert "A good week" in steady.last_text and "one step up" in steady.last_text


async def test_an_escalating_score_advises_a_gp_or_physiotherapist_and_points_to_safety(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock) as bot:
        user, calm = bot.user(1001, "Ana"), bot.user(1002, "Bo")
        await user.send("/start")
        await add_history(bot, 1001, {TODAY - timedelta(days=1): 2})
        await user.send("/pain 6")
        reply = user.last_text
        assert "Since last time (2): 4 points worse." in reply
        assert "Your pain went up from 2 to 6 today." in reply
        assert "GP or a physiotherapist in the next few days" in reply
        assert "emergency department" in reply and "/safety" in reply
        assert "Good to hear" not in reply and "👍" not in reply
        await user.send("/routine")
        assert "Your pain went up from 2 to 6 today, so this is a gentle day" in user.last_text

        await calm.send("/pain 0")
        assert "Good to hear" in calm.last_text
        await calm.send("/pain 3")  # 0 → 3: a rise, never praised
        assert "Good to hear" not in calm.last_text and "/safety" in calm.last_text
        await calm.send("/pain 2")
        assert "Since last time (3): about the same." in calm.last_text and "(+" not in calm.last_text


async def test_a_hurt_leaves_out_related_movements_for_a_week(make_bot: BotFactory, clock: FakeClock) -> None:
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        await user.send("/start")
        catalogue = bot.services.catalogue
        hurt = next(e for e in catalogue.routine_exercises if "extension" in e.directions)
        related = {e.name for e in catalogue.routine_exercises if "extension" in e.directions}
        async with bot.db.transaction() as repos:
            await repos.flags.hurt(1001, hurt.id, clock.now())
        for days in (0, 6):  # the day it hurt and the six after
            clock.advance(days=days)
            await user.send("/routine")
            assert "Something hurt recently, so this week leaves out arching movements." in user.last_text
            assert not [line for line in routine_lines(user) for name in related if name in line]
        clock.advance(days=1)
        await user.send("/routine")  # a week later: the relatives may come back, the hurt one stays out
        assert "Something hurt recently" not in user.last_text
        assert not [line for line in routine_lines(user) if hurt.name in line]


async def test_settings_change_the_routine_and_refuse_to_empty_it(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        await user.send("/settings")
        panel = user.last
        assert "Your settings" in panel.text
        await user.click(panel, "No kneeling")
        await user.click(panel, "5 min")
        assert "✓ 5 min" in panel.button_labels and "about 5 minutes" in panel.text
        await user.send("/routine")
        kneeling = {e.name for e in bot.services.catalogue if e.position in ("kneeling", "all_fours")}
        lines = routine_lines(user)
        assert not any(name in line for line in lines for name in kneeling)
        assert (
            "about 5 minutes" in user.last_text
            or "about 4 minutes" in user.last_text
            or "about 6 minutes" in user.last_text
        )

        await user.send("/settings leave out piriformus")
        assert "Left out: Piriformis" in user.last_text
        for _ in range(3):
            await user.send("/routine")
            assert "Piriformis" not in user.last_text
        await user.send("/settings bring back piriformis")
        assert "Brought back" in user.last_text
        await user.send("/settings dance")
        assert "leave out" in user.last_text

        async with bot.db.transaction() as repos:
            row = await repos.users.get(1001)
            assert row is not None
            everything = [e.id for e in bot.services.catalogue.routine_exercises if e.id != "piriformis"]
            await repos.users.update_settings(row, excluded=everything[:-2])
        await user.send("/settings leave out piriformis")
        assert "can't change that" in user.last_text and "at least 4" in user.last_text


async def test_break_freezes_the_streak_and_pauses_reminders(make_bot: BotFactory, clock: FakeClock) -> None:
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        await user.send("/remind 10:00")
        await add_history(bot, 1001, {TODAY - timedelta(days=n): None for n in range(1, 4)})
        await user.send("/break 3")
        assert "Break until" in user.last_text
        assert bot.services.reminders is not None
        for day in (24, 25):
            clock.set(datetime(2026, 11, day, 10, 0, 30, tzinfo=UTC))
            assert await bot.services.reminders.tick() == 0
        clock.set(datetime(2026, 11, 26, 20, tzinfo=UTC))
        await user.send("/stats")
        assert "3 days in a row" in user.last_text
        await user.send("/break off")
        assert "Welcome back" in user.last_text
        await user.send("/break soon")
        assert "1 to 30" in user.last_text


async def test_export_contains_exactly_this_users_data(make_bot: BotFactory, clock: FakeClock) -> None:
    async with make_bot(clock=clock) as bot:
        ana, bo = bot.user(1001, "Ana"), bot.user(1002, "Bo")
        await ana.send("/pain 4")
        await bo.send("/pain 9")
        await add_history(bot, 1001, {TODAY: 2})
        await ana.send("/export")
        document = ana.last
        assert document.kind == "document" and document.filename == "backstretch-2026-11-24.zip"
        archive = zipfile.ZipFile(io.BytesIO(document.document or b""))
        assert set(archive.namelist()) == {"backstretch.json", "sessions.csv", "pain_scores.csv"}
        data = json.loads(archive.read("backstretch.json"))
        assert data["profile"]["telegram_user_id"] == 1001 and data["profile"]["first_name"] == "Ana"
        assert sorted(s["score"] for s in data["pain_scores"]) == [2, 4]
        assert len(data["sessions"]) == 1
        rows = list(csv.DictReader(io.StringIO(archive.read("pain_scores.csv").decode())))
        assert sorted(row["score"] for row in rows) == ["2", "4"]  # Bo's 9 is not there


async def test_forget_asks_then_deletes_everything_and_no_keeps_it(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock) as bot:
        ana, bo = bot.user(1001, "Ana"), bot.user(1002, "Bo")
        for user in (ana, bo):
            await user.send("/remind 08:00")
            await user.send("/pain 5")
        await add_history(bot, 1001, {TODAY: 3})
        await ana.send("/forget")
        await ana.click(ana.last, "Keep")
        assert "Nothing was deleted" in ana.last.text
        await ana.send("/forget")
        await ana.click(ana.last, "Yes")
        assert "everything I kept about you is deleted" in ana.last.text
        async with bot.db.transaction() as repos:
            for table in Base.metadata.sorted_tables:
                if "user_id" in table.c:
                    left = await repos.session.scalar(
                        select(func.count()).select_from(table).where(table.c.user_id == 1001)
                    )
                    assert left == 0, table.name
            assert (
                await repos.session.scalar(select(func.count()).select_from(User).where(User.id == 1001)) == 0
            )
            assert (
                await repos.session.scalar(
                    select(func.count()).select_from(PainScore).where(PainScore.user_id == 1002)
                )
                == 1
            )


async def test_the_streak_survives_a_time_zone_change(make_bot: BotFactory) -> None:
    clock = FakeClock(
        datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    )  # 19:00 in Auckland, 22:00 the day before in LA
    async with make_bot(clock=clock) as bot:
        user = bot.user()
        await user.send("/timezone Pacific/Auckland")
        await add_history(bot, 1001, {date(2026, 11, d): None for d in (23, 24, 25)})  # Auckland days
        await user.send("/stats")
        assert "Current streak: 3 days in a row" in user.last_text
        await user.send("/timezone America/Los_Angeles")  # flying east to west: it is the 24th again
        await user.send("/stats")
        assert "Current streak: 3 days in a row" in user.last_text
        clock.set(datetime(2026, 11, 27, 7, 59, tzinfo=UTC))  # 23:59 on the 26th in LA: still alive
        await user.send("/stats")
        assert "Current streak: 3 days in a row" in user.last_text
        clock.set(datetime(2026, 11, 27, 8, 1, tzinfo=UTC))  # past midnight in LA: the 27th, streak over
        await user.send("/stats")
        assert (
            "Current streak: none yet" in user.last_text and "Best streak: 3 days in a row" in user.last_text
        )
