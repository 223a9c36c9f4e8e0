"""End-to-end: a guided session from the Start button to the pain answer, and everything around it."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.callbacks import Action
from bot.clock import FakeClock
from storage.models import GuidedSession, PainScore
from tests.conftest import BotFactory, BotUnderTest
from tests.harness import ChatUser, SentMessage


def is_card(message: SentMessage) -> bool:
    return (
        "⏸ Pause" in message.button_labels
        or "▶ Resume" in message.button_labels
        or "✅ Done" in message.button_labels
    )


async def start_session(user: ChatUser) -> SentMessage:
    await user.send("/routine")
    await user.click(user.last, "Start")
    return await user.wait_for(lambda m: is_card(m) and m.text.startswith("1/"))


async def run_to_the_end(user: ChatUser, timeout: float = 30) -> SentMessage:
    """Let the timers run, tapping Done on untimed steps, until the session-done message arrives."""
    while True:
        message = await user.wait_for(
            lambda m: "Session done" in m.text or "✅ Done" in m.button_labels, timeout=timeout
        )
        if "Session done" in message.text:
            return message
        await user.click(message, "✅ Done")


async def session_row(bot: BotUnderTest, user_id: int = 1001) -> GuidedSession:
    async with bot.db.transaction() as repos:
        rows = (
            (await repos.session.execute(select(GuidedSession).where(GuidedSession.user_id == user_id)))
            .scalars()
            .all()
        )
    return rows[-1]


async def test_whole_session_from_start_to_pain_answer(bot: BotUnderTest) -> None:
    user = bot.user()
    card = await start_session(user)
    assert "Get into position" in card.text and "left" in card.text
    done = await run_to_the_end(user)
    assert "How is your back right now?" in done.text and "🔥" in done.text
    assert [label for label in done.button_labels] == [str(n) for n in range(11)]
    # the countdown was edited in place, and transitions arrived as new messages that were tidied away
    countdowns = [
        {v.text for v in m.versions if "left" in v.text} for m in user.messages if "/" in m.text[:4]
    ]
    assert any(len(texts) >= 2 for texts in countdowns)
    transient = [m for m in user.messages if m.text.startswith(("💪", "😮‍💨", "🔄", "➡️"))]
    assert transient and all(m.deleted for m in transient)
    # every exercise card ends closed, without buttons
    cards = [m for m in user.messages if "/" in m.text[:4] and "·" in m.text]
    assert cards and all(not m.button_labels for m in cards)
    row = await session_row(bot)
    assert row.status == "completed" and row.counted

    await user.click_data(done, Action("pain", row.id, "3").encode())
    assert "3/10" in user.last_text
    async with bot.db.transaction() as repos:
        scores = (await repos.session.execute(select(PainScore))).scalars().all()
    assert [(s.score, s.session_id) for s in scores] == [(3, row.id)]
    # the question message now shows the answer instead of buttons
    assert not done.button_labels and "You answered 3/10" in done.text and "Session done" in done.text


async def test_pause_freezes_and_resume_continues(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=0.05) as bot:
        user = bot.user()
        card = await start_session(user)
        await user.click(card, "Pause")
        paused = await user.wait_for(lambda m: m.message_id == card.message_id and "Paused" in m.text)
        frozen = paused.text
        edits = len(paused.edits)
        row = await session_row(bot)
        assert row.status == "paused"
        await user.click(paused, "Resume")
        resumed = await user.wait_for(
            lambda m: m.message_id == card.message_id and "⏸ Pause" in m.button_labels
        )
        assert "Paused" not in resumed.text and len(resumed.edits) > edits and frozen != resumed.text
        await user.click(resumed, "Stop")


async def test_skip_moves_to_the_next_exercise_and_double_tap_acts_once(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=0.05) as bot:
        user = bot.user()
        card = await start_session(user)
        skip = next(data for label, data in card.buttons[1] if "Skip" in label)
        await asyncio.gather(user.click_data(card, skip), user.click_data(card, skip))  # a double tap
        assert sorted(user.callback_answers[-2:]) == ["", "Already done — you're on the next step."]
        second = await user.wait_for(lambda m: is_card(m) and m.text.startswith("2/"))
        assert not any(m.text.startswith("3/") for m in user.messages)
        assert "skipped" in card.text
        await user.click(second, "Stop")


async def test_stop_ends_the_session_and_asks_about_the_back(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=0.05) as bot:
        user = bot.user()
        card = await start_session(user)
        pause = next(data for label, data in card.buttons[0] if "Pause" in label)
        await user.click(card, "Stop")
        stopped = await user.wait_for(lambda m: "Session stopped" in m.text)
        assert "How is your back" in stopped.text
        row = await session_row(bot)
        assert row.status == "stopped" and not row.counted
        await user.click_data(card, pause)  # a button of a finished session, tapped late
        assert "ended" in user.last_answer


async def test_foreign_and_forged_taps_get_a_notice(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=0.05) as bot:
        ana = bot.user(1001, "Ana")
        card = await start_session(ana)
        mallory = bot.user(1002, "Mallory", chat_id=1001)
        await mallory.click_data(card, card.buttons[0][0][1])
        assert "someone else's" in mallory.last_answer
        assert (await session_row(bot)).status == "running"
        await ana.click_data(card, "garbage")
        assert "older version" in ana.last_answer
        await ana.click_data(card, Action("pause", 999_999).encode())
        assert "ended" in ana.last_answer
        await ana.click(card, "Stop")


async def test_session_command_during_a_session_offers_continue_or_restart(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=0.05) as bot:
        user = bot.user()
        await start_session(user)
        await user.send("/session")
        offer = user.last
        assert "already have a session" in offer.text
        await user.click(offer, "Restart")
        await user.wait_for(
            lambda m: is_card(m) and m.text.startswith("1/") and m.message_id > offer.message_id
        )
        async with bot.db.transaction() as repos:
            rows = (
                (await repos.session.execute(select(GuidedSession).order_by(GuidedSession.id)))
                .scalars()
                .all()
            )
        assert [r.status for r in rows] == ["stopped", "running"]
        await user.click(user.last, "Stop")


async def test_a_restart_in_the_middle_goes_on_where_it_was_without_asking(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=0.05) as bot:
        user = bot.user()
        card = await start_session(user)
        await user.wait_for(lambda m: m.message_id == card.message_id and "Hold" in m.text)
        edits_before = len(next(m for m in user.messages if m.message_id == card.message_id).edits)
        step_before = (await session_row(bot)).state["machine"]["index"]
    async with make_bot(timer_scale=0.05) as bot:
        user = bot.user()
        # the same card goes on counting down (or the next exercise's card arrives), with no question
        moved = await user.wait_for(
            lambda m: (
                (m.message_id == card.message_id and len(m.edits) > edits_before)
                or (is_card(m) and m.text.startswith("2/"))
            ),
            timeout=10,
        )
        assert not any("restarted" in m.text or "Continue" in m.button_labels for m in user.messages)
        row = await session_row(bot)
        assert row.status == "running" and row.state["machine"]["index"] >= step_before
        await user.click(moved if is_card(moved) else card, "Stop")
        await user.wait_for(lambda m: "Session stopped" in m.text)


async def test_pain_command_and_bare_numbers(bot: BotUnderTest) -> None:
    user = bot.user()
    for bad in ("/pain", "/pain eleven", "/pain 11", "/pain -1", "/pain 3.5", "/pain 2 3", "12", "4.5"):
        await user.send(bad)
        assert "0 to 10" in user.last_text, bad
    async with bot.db.transaction() as repos:
        assert (await repos.session.execute(select(PainScore))).first() is None
    await user.send("/pain 6")
    assert "6/10" in user.last_text
    await user.send("3")
    assert "better" in user.last_text
    await user.send("/pain 9")
    assert "physiotherapist" in user.last_text and "/safety" in user.last_text
    async with bot.db.transaction() as repos:
        scores = [s.score for s in (await repos.session.execute(select(PainScore))).scalars().all()]
    assert scores == [6, 3, 9]


async def test_a_session_interrupted_long_ago_is_closed_not_offered(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot(clock=clock, timer_scale=0.05) as bot:
        await start_session(bot.user())
    clock.advance(hours=13)
    async with make_bot(clock=clock, timer_scale=0.05) as bot:
        user = bot.user()
        assert (await session_row(bot)).status == "interrupted"
        assert not any("restarted" in m.text for m in user.messages)
        await user.send("/session")
        card = await user.wait_for(lambda m: is_card(m) and m.text.startswith("1/"))
        await user.click(card, "Stop")


async def test_completing_a_session_during_a_break_ends_the_break(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/break 5")
    assert "Break until" in user.last_text
    await start_session(user)
    await run_to_the_end(user)
    async with bot.db.transaction() as repos:
        row = await repos.users.get(1001)
        assert row is not None and row.break_until is None and row.break_started is None
    await user.send("/break")
    assert "1 to 30 days" in user.last_text  # no break any more: the usage is shown


async def test_metrics_count_running_sessions(make_bot: BotFactory) -> None:
    from bot.metrics import METRICS_KEY

    async with make_bot(timer_scale=0.05) as bot:
        user = bot.user()
        card = await start_session(user)
        text = bot.app.bot_data[METRICS_KEY].exposition().decode()
        assert "backstretch_sessions_running 1.0" in text
        await user.click(card, "Stop")
        text = bot.app.bot_data[METRICS_KEY].exposition().decode()
        assert "backstretch_sessions_running 0.0" in text
