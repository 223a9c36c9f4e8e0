"""End-to-end: /safety, the safety note in /start and before the first session, and "It hurts"."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.models import ExerciseFlag, GuidedSession
from tests.conftest import BotFactory, BotUnderTest
from tests.harness import ChatUser, SentMessage
from tests.test_e2e_session import is_card, session_row, start_session

SCALE = 0.05
"""Timers run 20x faster: a 10 s lead-in lasts half a second."""


def hurt_question(message: SentMessage) -> bool:
    return "Stop for today" in " ".join(message.button_labels)


async def test_safety_lists_emergency_signs_urgent_signs_and_who_should_ask_first(bot: BotUnderTest) -> None:
    user = bot.user()
    (reply,) = await user.send("/safety")
    text = reply.text
    for words in (
        "not a clinician",
        "999 / 112 / 911",
        "bladder or bowels",
        "saddle",
        "sexual function",
        "both legs",
        "cauda equina",
        "within 24 hours",
        "fever",
        "fall",
        "weight",
        "cancer",
        "steroids",
        "at night",
        "under 20 or over 50",
        "before you start",
        "surgery",
        "pregnancy",
        "osteoporosis",
        "most back pain gets better",
        "never bounce",
    ):
        assert words.lower() in text.lower(), words
    assert any(c["command"] == "safety" for c in bot.fake.commands)
    (help_reply,) = await user.send("/help")
    assert "/safety" in help_reply.text


async def test_start_has_the_two_line_version_and_the_first_session_the_pointer(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=SCALE) as bot:
        user = bot.user()
        (welcome,) = await user.send("/start")
        assert "not a clinician" in welcome.text and "sharp pain" in welcome.text
        assert "both legs" in welcome.text and "/safety" in welcome.text
        await start_session(user)
        first = [m for m in user.messages if "Before your first session" in m.text]
        assert len(first) == 1 and "/safety" in first[0].text and "It hurts" in first[0].text
        await user.click(user.last if is_card(user.last) else first[0], "Stop")
        await user.wait_for(lambda m: "How is your back" in m.text)
        await start_session(user)  # the second session goes straight to the card
        assert len([m for m in user.messages if "Before your first session" in m.text]) == 1
        card = next(m for m in reversed(user.messages) if is_card(m))
        await user.click(card, "Stop")


async def assert_nothing_moves(user: ChatUser, seconds: float = 1.2) -> None:
    """Several lead-ins' worth of time passes: no new message, no countdown edit."""
    before = [(m.message_id, len(m.edits)) for m in user.messages]
    await asyncio.sleep(seconds)
    assert [(m.message_id, len(m.edits)) for m in user.messages] == before, user.transcript()


async def test_it_hurts_during_the_lead_in_pauses_and_waits_for_a_choice(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=SCALE) as bot:
        user = bot.user()
        card = await start_session(user)
        name = card.text.split("·", 1)[1].split("\n")[0].strip()
        await user.click(card, "It hurts")
        question = await user.wait_for(hurt_question)
        text = question.text
        assert "Don't push into pain" in text and "Sharp, shooting or spreading" in text
        assert "stop for today" in text and "emergency" in text
        assert question.button_labels == ["⏭ Skip this one and go on", "⏹ Stop for today"]
        card = next(m for m in user.messages if m.message_id == card.message_id)
        assert card.button_labels == [] and "Paused" in card.text
        await assert_nothing_moves(user)
        # the session's other buttons, tapped late, don't move it either
        assert (await session_row(bot)).status == "paused"
        async with bot.db.transaction() as repos:
            flags = (await repos.session.execute(select(ExerciseFlag))).scalars().all()
        assert {bot.services.catalogue[f.exercise_id].name for f in flags} == {name}

        await user.click(question, "Skip this one and go on")
        nxt = await user.wait_for(lambda m: is_card(m) and m.text.startswith("2/"))
        question = next(m for m in user.messages if m.message_id == question.message_id)
        assert question.button_labels == [] and "You skipped it" in question.text
        assert "Sharp, shooting" in question.text  # the advice stays readable
        await user.click(nxt, "Stop")


async def test_it_hurts_during_a_hold_then_stop_for_today_keeps_the_day(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=SCALE) as bot:
        user = bot.user()
        card = await start_session(user)
        await user.click(card, "Skip")  # one exercise skipped, the second one done, hurt on the third
        card2 = await user.wait_for(lambda m: is_card(m) and m.text.startswith("2/"))
        while True:  # let exercise 2 run (tapping Done on untimed steps) until card 3 arrives
            message = await user.wait_for(
                lambda m: (is_card(m) and m.text.startswith("3/")) or "✅ Done" in m.button_labels,
                timeout=30,
            )
            if message.text.startswith("3/"):
                card3 = message
                break
            await user.click(message, "✅ Done")
        assert card2.message_id != card3.message_id
        held = await user.wait_for(
            lambda m: (
                m.message_id == card3.message_id and ("Hold ·" in m.text or "✅ Done" in m.button_labels)
            )
        )
        await user.click(held, "It hurts")
        question = await user.wait_for(hurt_question)
        await assert_nothing_moves(user, 0.6)
        await user.click(question, "Stop for today")
        stopped = await user.wait_for(lambda m: "How is your back" in m.text)
        assert "🎉" not in stopped.text and "🔥" not in stopped.text
        assert "exactly right" in stopped.text and "still counts" in stopped.text
        row = await session_row(bot)
        assert row.status == "stopped" and row.counted and row.exercises_done == 1


async def test_it_hurts_on_the_last_exercise_is_not_lost(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=SCALE) as bot:
        user = bot.user()
        card = await start_session(user)
        total = int(card.text.split("/", 1)[1].split(" ", 1)[0])
        for n in range(1, total):  # skip to the last exercise
            current = await user.wait_for(lambda m, n=n: is_card(m) and m.text.startswith(f"{n}/"))
            await user.click(current, "Skip")
        last = await user.wait_for(lambda m: is_card(m) and m.text.startswith(f"{total}/"))
        await user.click(last, "It hurts")
        question = await user.wait_for(hurt_question)
        assert "Don't push into pain" in question.text
        await assert_nothing_moves(user, 0.6)
        await user.click(question, "Skip this one and go on")
        finished = await user.wait_for(lambda m: "How is your back" in m.text)
        assert "🎉" not in finished.text and "🔥" not in finished.text
        async with bot.db.transaction() as repos:
            row = (await repos.session.execute(select(GuidedSession))).scalars().one()
        assert row.status == "completed" and not row.counted  # nothing was done: no streak day
