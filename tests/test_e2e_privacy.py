"""End-to-end: health data stays in the private chat; groups, channels, edits and other bots' commands.

Updates are shaped as Telegram shapes them (group and supergroup chats, channel posts, anonymous
admins posting as the group, edited messages).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.errors import GONE_TAP
from storage.models import PainScore, User
from tests.conftest import BotUnderTest
from tests.harness import BOT_USER, ChatUser

GROUP = -100200300
SUPERGROUP = -1001234567890
PERSONAL = ["/stats", "/progress", "/pain 4", "/export", "/forget", "/settings", "/session",
            "/remind 07:30", "/timezone Berlin", "/break 3", "/routine", "/start", "5"]  # fmt: skip


async def count(bot: BotUnderTest, model: Any) -> int:
    async with bot.db.transaction() as repos:
        return int(await repos.session.scalar(select(func.count()).select_from(model)) or 0)


def in_group(bot: BotUnderTest, chat_id: int = GROUP, user_id: int = 1001) -> ChatUser:
    """The same person, writing in a group (``bot.user`` keeps one client per user: the private one)."""
    member = ChatUser(bot.fake, user_id, "Ana", chat_id=chat_id, settle=bot.processor.wait_done)
    assert member.chat_dict["type"] in ("group", "supergroup")
    return member


@pytest.mark.parametrize("chat_id", [GROUP, SUPERGROUP])
@pytest.mark.parametrize("text", PERSONAL)
async def test_personal_commands_in_a_group_point_to_the_private_chat(
    bot: BotUnderTest, chat_id: int, text: str
) -> None:
    member = in_group(bot, chat_id)
    replies = await member.send(text)
    assert len(replies) == 1, member.transcript()
    (reply,) = replies
    assert "private chat" in reply.text
    (button,) = [b for row in reply.reply_markup["inline_keyboard"] for b in row]  # type: ignore[index]
    command = "pain" if text == "5" else text.split()[0].lstrip("/")
    assert button["url"] == f"https://t.me/{BOT_USER['username']}?start={command}"
    assert await count(bot, User) == 0 and await count(bot, PainScore) == 0  # nothing stored


@pytest.mark.parametrize("text", ["/help", "/exercises", "/stretch cat cow", "/safety", "/stretch_cat_cow"])
async def test_public_commands_answer_in_a_group_without_storing_anything(
    bot: BotUnderTest, text: str
) -> None:
    member = in_group(bot)
    replies = await member.send(text)
    assert len(replies) == 1 and "private chat" not in replies[0].text
    assert await count(bot, User) == 0


async def test_a_group_message_never_moves_the_private_reminders(bot: BotUnderTest) -> None:
    ana = bot.user()
    await ana.send("/start")
    await in_group(bot).send("/help")
    await in_group(bot).send("/stats")
    async with bot.db.transaction() as repos:
        user = await repos.users.get(1001)
    assert user is not None and user.chat_id == 1001


async def test_the_deep_link_lands_on_the_right_command(bot: BotUnderTest) -> None:
    ana = bot.user()
    replies = await ana.send("/start stats")
    assert any("Hi Ana" in m.text for m in replies)  # a new user gets the welcome and the safety note
    assert "streak" in replies[-1].text.lower()
    replies = await ana.send("/start pain")
    assert len(replies) == 1 and "0 to 10" in replies[0].text  # a known user goes straight there


async def test_commands_for_other_bots_are_ignored_and_ours_work(bot: BotUnderTest) -> None:
    member = in_group(bot)
    assert await member.send("/help@otherbot") == []
    assert await member.send("/stats@otherbot") == []
    ana = bot.user()
    assert await ana.send("/dance@otherbot") == []
    (reply,) = await member.send(f"/help@{BOT_USER['username']}")
    assert "/routine" in reply.text


async def test_channel_posts_anonymous_admins_and_senderless_messages_are_ignored(bot: BotUnderTest) -> None:
    fake = bot.fake
    channel = {"id": -1009876543210, "type": "channel", "title": "News"}
    group = {"id": GROUP, "type": "group", "title": "Test group"}
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    updates = [
        {"channel_post": {"message_id": 1, "chat": channel, "sender_chat": channel, "date": 0, "text": "/stats"}},
        {"channel_post": {"message_id": 2, "chat": channel, "date": 0, "text": "hello"}},
        {"message": {"message_id": 3, "chat": group, "from": anonymous, "sender_chat": group, "date": 0,
                     "text": "/stats", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}},
        {"message": {"message_id": 4, "chat": group, "sender_chat": channel, "date": 0, "text": "/help",
                     "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}},
    ]  # fmt: skip
    for update in updates:
        update_id = fake.push_update(update)
        await bot.processor.wait_done(update_id)
    assert [m for m in fake.all_messages() if m.chat_id != 1001] == []
    assert await count(bot, User) == 0
    # and the bot still answers people
    (reply,) = await bot.user().send("/help")
    assert "/routine" in reply.text


def edited(user: ChatUser, message_id: int, text: str) -> dict[str, Any]:
    update = user.message_update(text)
    message = update["message"]
    message["message_id"], message["edit_date"] = message_id, int(time.time())
    return {"edited_message": message}


async def test_editing_a_pain_command_does_not_store_a_second_score(bot: BotUnderTest) -> None:
    ana = bot.user()
    await ana.send("/pain 7")
    assert await count(bot, PainScore) == 1
    sent = next(e for e in bot.fake.user_events(1001) if getattr(e, "text", "") == "/pain 7")
    replies = await ana.push(edited(ana, int(sent.order), "/pain 3"))
    assert len(replies) == 1 and "edit" in replies[0].text and "Send the command again" in replies[0].text
    async with bot.db.transaction() as repos:
        scores = list((await repos.session.execute(select(PainScore.score))).scalars())
    assert scores == [7]
    # editing plain text, or a message in a group, gets no answer at all
    assert await ana.push(edited(ana, int(sent.order), "hello")) == []
    member = in_group(bot)
    assert await member.push(edited(member, 99, "/stats")) == []


def tap(user: ChatUser, data: str, **where: Any) -> dict[str, Any]:
    query = {
        "id": user.fake.next_callback_query_id(),
        "from": user.user_dict,
        "chat_instance": "42",
        "data": data,
    }
    return {"callback_query": {**query, **where}}


async def test_inline_inaccessible_and_group_taps_get_a_short_notice(bot: BotUnderTest) -> None:
    ana = bot.user()
    await ana.send("/routine")
    start = ana.last.button_data("Start")
    group = {"id": GROUP, "type": "group", "title": "Test group"}
    taps = [
        tap(ana, start, inline_message_id="AAQBAAAAAAAA"),  # an inline message: no chat at all
        tap(ana, start, message={"message_id": 1, "chat": {"id": 1001, "type": "private"}, "date": 0}),
        tap(ana, start, message={"message_id": 5, "chat": group, "date": int(time.time()), "text": "x"}),
        tap(ana, "0:start:0:"),  # data from an older version
    ]
    for update in taps:
        assert await ana.push(update) == []
    answers = ana.callback_answers
    assert len(answers) == 4 and all(answers), answers
    assert "private chat" in answers[0] and "private chat" in answers[1] and "private chat" in answers[2]
    assert "older version" in answers[3]
    async with bot.db.transaction() as repos:
        assert await repos.sessions.history(1001) == []  # nothing started


async def test_a_tap_on_a_message_deleted_meanwhile_is_answered(bot: BotUnderTest) -> None:
    ana = bot.user()
    await ana.send("/forget")
    question = ana.last
    bot.fake.messages(1001)[-1].deleted = True  # the user deleted the question, then taps a stale copy
    await ana.click(question, "Keep my data")
    assert ana.callback_answers == [GONE_TAP] and "Sorry" not in ana.transcript()


async def test_tapping_the_same_choice_twice_is_quietly_answered(bot: BotUnderTest) -> None:
    ana = bot.user()
    await ana.send("/forget")
    question = ana.last
    keep = question.button_data("Keep my data")
    await ana.click_data(question, keep)
    await ana.click_data(question, keep)  # a stale copy of the message, tapped again
    assert len(ana.callback_answers) == 2 and "Sorry" not in ana.transcript()
