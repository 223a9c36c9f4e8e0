"""End-to-end: /start, /help, /exercises, /stretch, /routine and bad input, through the fake Bot API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import render
from storage.models import User
from tests.conftest import BotUnderTest


async def test_start_greets_explains_and_warns(bot: BotUnderTest) -> None:
    user = bot.user(first_name="Ana")
    replies = await user.send("/start")
    assert len(replies) == 1
    text = replies[0].text
    assert "Hi Ana" in text
    assert "not a clinician" in text and "sharp pain" in text and "/safety" in text and "emergency" in text
    assert "/routine" in text


@pytest.mark.parametrize(
    "first_words", ["/start", "/help", "/stretch cat cow", "/exercises", "hello", "/dance"]
)
async def test_first_contact_creates_the_user_row(bot: BotUnderTest, first_words: str) -> None:
    await bot.user(user_id=777, first_name="Bo").send(first_words)
    async with bot.db.transaction() as repos:
        row = (await repos.session.execute(select(User).where(User.id == 777))).scalar_one()
    assert row.chat_id == 777 and row.first_name == "Bo" and row.timezone == "UTC"
    assert row.created_at.tzinfo is not None and row.settings == {}


async def test_command_menu_is_registered_and_matches_help(bot: BotUnderTest) -> None:
    registered = [c["command"] for c in bot.fake.commands]
    assert registered == [name for name, _ in render.COMMANDS]
    user = bot.user()
    await user.send("/help")
    for name in registered:
        assert f"/{name}" in user.last_text


async def test_exercises_lists_every_entry_grouped(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/exercises")
    text = user.last_text
    for title in ("Stretches", "Strength", "Low-impact cardio"):
        assert title in text
    for exercise in bot.services.catalogue:
        assert exercise.name in text
        assert render.command_link(exercise) in text


async def test_stretch_shows_full_instructions(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/stretch piriformus")
    text = user.last_text
    piriformis = bot.services.catalogue["piriformis"]
    assert piriformis.name in text
    assert "1. " in text and "Dose:" in text and "You should feel" in text
    assert piriformis.cautions[0].split()[0] in text
    assert "each side" in text
    assert "stretch · lying on your back · buttocks" in text


async def test_stretch_link_from_the_catalogue_opens_the_exercise(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/stretch_cat_cow")
    assert bot.services.catalogue["cat-cow"].name in user.last_text


async def test_stretch_by_name_with_spaces_and_apostrophe(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/stretch childs pose")
    assert bot.services.catalogue["childs-pose"].name in user.last_text
    await user.send("/stretch Knee To Chest")
    assert bot.services.catalogue["knee-to-chest"].name in user.last_text


async def test_stretch_unknown_name_suggests(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/stretch knee")
    assert "couldn't find" in user.last_text and "Did you mean" in user.last_text
    await user.send("/stretch <b>zzz</b>")
    assert "couldn't find" in user.last_text and "“<b>zzz</b>”" in user.last_text


async def test_stretch_without_a_name_explains_usage(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/stretch")
    assert "/stretch piriformis" in user.last_text and "/exercises" in user.last_text


async def test_routine_lists_doses_minutes_and_start_button(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/routine")
    message = user.last
    assert "Today's routine" in message.text and "minutes" in message.text
    lines = [line for line in message.text.splitlines() if line[:1].isdigit()]
    assert 4 <= len(lines) <= 8
    assert all("hold" in line or "reps" in line for line in lines)
    assert any("Start" in label for label in message.button_labels)
    # the same routine all day
    await user.send("/routine")
    assert user.last.text == message.text


async def test_unknown_command_and_free_text_get_a_pointer(bot: BotUnderTest) -> None:
    user = bot.user()
    await user.send("/dance")
    assert "/dance" in user.last_text and "/help" in user.last_text
    await user.send("hello there")
    assert "/help" in user.last_text


async def test_two_users_get_their_own_replies(bot: BotUnderTest) -> None:
    ana, bo = bot.user(1001, "Ana"), bot.user(1002, "Bo")
    await ana.send("/start")
    await bo.send("/start")
    assert "Ana" in ana.last_text and "Bo" in bo.last_text
    assert all(m.chat_id == 1001 for m in ana.messages)
