"""Nobody can see or change another user's data: every command and button, with two users."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.clock import FakeClock
from storage.models import GuidedSession, PainScore, ReminderDelivery, User
from tests.conftest import BotFactory, BotUnderTest


async def snapshot(bot: BotUnderTest, user_id: int) -> dict[str, object]:
    async with bot.db.transaction() as repos:
        user = await repos.users.get(user_id)
        assert user is not None
        counts = {}
        for model in (GuidedSession, PainScore, ReminderDelivery):
            counts[model.__name__] = await repos.session.scalar(
                select(func.count()).select_from(model).where(model.user_id == user_id)
            )
        return {
            "settings": dict(user.settings),
            "reminder": user.reminder_time,
            "zone": user.timezone,
            **counts,
        }


async def test_two_users_never_touch_each_other(make_bot: BotFactory, clock: FakeClock) -> None:
    async with make_bot(clock=clock, timer_scale=0.05) as bot:
        ana = bot.user(1001, "Ana")
        await ana.send("/timezone Europe/Berlin")
        await ana.send("/remind 10:30")
        await ana.send("/pain 5")
        await ana.send("/settings")
        ana_settings = ana.last
        await ana.click(ana_settings, "No kneeling")
        await ana.send("/forget")
        ana_forget = ana.last
        clock.set(datetime(2026, 11, 24, 9, 30, 5, tzinfo=UTC))
        assert bot.services.reminders is not None
        await bot.services.reminders.tick()
        await bot.services.reminders.drain()
        ana_reminder = ana.last
        await ana.click(ana_reminder, "Start")
        card = await ana.wait_for(lambda m: "⏸ Pause" in m.button_labels)
        pause = card.buttons[0][-1][1]
        await ana.click(card, "Stop")
        stopped = await ana.wait_for(lambda m: "Session stopped" in m.text)
        before = await snapshot(bot, 1001)

        # Mallory sits in the same (group) chat and taps every button of Ana's
        mallory = bot.user(2002, "Mallory", chat_id=1001)
        for message, label in (
            (ana_settings, "Strength"),
            (ana_forget, "Yes"),
            (stopped, "7"),
            (ana_reminder, "Snooze"),
        ):
            await mallory.click(message, label)
            assert "someone else" in mallory.last_answer or "isn't yours" in mallory.last_answer, label
        await mallory.click_data(card, pause)
        assert "ended" in mallory.last_answer or "someone else" in mallory.last_answer

        # and uses every command in her own chat
        own = bot.user(2003, "Mallory")
        for command in (
            "/stats",
            "/progress",
            "/routine",
            "/remind",
            "/timezone",
            "/settings",
            "/break 2",
            "/pain 9",
        ):
            await own.send(command)
            assert all(m.chat_id == 2003 for m in own.messages)
        await own.send("/stats")
        assert "9/10" in own.last_text and "5/10" not in own.last_text
        await own.send("/export")
        exported = json.loads(zipfile.ZipFile(io.BytesIO(own.last.document or b"")).read("backstretch.json"))
        assert exported["profile"]["telegram_user_id"] == 2003 and exported["sessions"] == []
        assert [s["score"] for s in exported["pain_scores"]] == [9]
        await own.send("/forget")
        await own.click(own.last, "Yes")

        assert await snapshot(bot, 1001) == before
        async with bot.db.transaction() as repos:
            assert (
                await repos.session.scalar(select(func.count()).select_from(User).where(User.id == 2003)) == 0
            )
            assert (
                await repos.session.scalar(select(func.count()).select_from(User).where(User.id == 1001)) == 1
            )
        assert "Ana" not in "".join(m.text for m in own.messages)
