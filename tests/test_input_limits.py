"""Issue 10: the longest legal inputs get one clear reply, inside Telegram's limits, never "Sorry".

Every command that echoes what the user typed is fed a whole 4,096-character message of plain
letters, of emoji (two UTF-16 units each), of '<' and of '&'; every command that takes a number is fed
numbers that ``str.isdigit`` accepts but ``int`` does not, and numbers far too long to be sensible.
"""

from __future__ import annotations

import pytest

from bot.errors import SORRY
from tests.conftest import BotUnderTest
from tests.harness.fake_api import SentMessage, utf16_len

LIMIT = 4096
FILLERS = {
    "letters": "x",
    "emoji": "😀",
    "family": "👨\u200d👩\u200d👧",  # one emoji, five code points, eight UTF-16 units
    "lt": "<",
    "amp": "&",
    "entity": "&amp;",
    "tag": "<b>",
    "combining": "e\u0301",
    "rtl": "\u202e",
}


def longest(prefix: str, filler: str) -> str:
    """``prefix`` followed by ``filler`` up to a 4,096-character message."""
    room = LIMIT - len(prefix)
    return prefix + (filler * (room // len(filler) + 1))[:room]


def assert_one_clear_reply(bot: BotUnderTest, replies: list[SentMessage]) -> SentMessage:
    assert not bot.fake.rejections, bot.fake.rejections
    assert not bot.fake.internal_errors, bot.fake.internal_errors
    assert len(replies) == 1, [m.text for m in replies]
    reply = replies[0]
    assert SORRY not in reply.text and "went wrong" not in reply.text
    assert utf16_len(reply.text) <= LIMIT
    return reply


ECHOING = [
    "/stretch ",
    "/remind ",
    "/timezone ",
    "/settings leave out ",
    "/settings bring back ",
    "/settings ",
]


@pytest.mark.parametrize("filler", FILLERS.values(), ids=FILLERS.keys())
@pytest.mark.parametrize("prefix", ECHOING)
async def test_echoed_input_is_cut_to_an_excerpt(bot: BotUnderTest, prefix: str, filler: str) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(longest(prefix, filler)))
    assert len(reply.text) < 1000, "the reply quotes an excerpt, not the whole message"


@pytest.mark.parametrize("filler", ["<", "&", "😀", "-"])
async def test_unknown_command_of_4096_characters(bot: BotUnderTest, filler: str) -> None:
    """A 64-character command (Telegram's longest) glued to 4,031 more characters: one word."""
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(longest("/" + "x" * 64, filler)))
    assert "I don't know the command" in reply.text and "…" in reply.text
    assert len(reply.text) < 200


async def test_unknown_command_with_a_long_argument(bot: BotUnderTest) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(longest("/dance ", "<&😀")))
    assert "/dance" in reply.text


async def test_stretch_link_of_4096_characters(bot: BotUnderTest) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(longest("/stretch_", "knee_")))
    assert "couldn't find" in reply.text and "…" in reply.text


async def test_the_excerpt_is_escaped_after_cutting(bot: BotUnderTest) -> None:
    """40 characters of '&' become 40 '&' for the reader, never a cut '&am'."""
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(longest("/stretch ", "&")))
    assert "&" * 40 + "…" in reply.text
    assert "&amp" not in reply.text


async def test_unknown_time_zone_quotes_an_excerpt(bot: BotUnderTest) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(longest("/timezone ", "😀")))
    assert "😀" * 40 + "…" in reply.text


async def test_unknown_time_quotes_an_excerpt(bot: BotUnderTest) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(longest("/remind ", "<")))
    assert "<" * 40 + "…" in reply.text and "/remind 07:30" in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "/break ²",
        "/break ①",
        "/break ٣",
        "/break 1_0",
        "/break +5",
        "/break 0",
        "/break 31",
        "/break -3",
        "/break 7.5",
        longest("/break ", "9"),
        longest("/break ", "²"),
        "/break 007 days",
    ],
)
async def test_break_rejects_every_bad_number(bot: BotUnderTest, text: str) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(text))
    assert "1 to 30" in reply.text and "Nothing was saved" in reply.text
    async with bot.db.transaction() as repos:
        row = await repos.users.get(user.user_id)
    assert row is not None and row.break_until is None


async def test_break_with_leading_zeros_still_works(bot: BotUnderTest) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send("/break 07"))
    assert "Break until" in reply.text and "7 days" in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "/pain ²",
        "/pain ①",
        "/pain ٣",
        "/pain 1_0",
        "/pain 11",
        "/pain -1",
        longest("/pain ", "9"),
        "/pain 3 4",
    ],
)
async def test_pain_rejects_every_bad_number(bot: BotUnderTest, text: str) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(text))
    assert "0 to 10" in reply.text and "Nothing was saved" in reply.text
    async with bot.db.transaction() as repos:
        assert await repos.pain.history(user.user_id) == []


@pytest.mark.parametrize("text", ["٣", "11", "2.5", "-1", "9" * LIMIT, "  +4  "])
async def test_bare_numbers_that_are_not_scores(bot: BotUnderTest, text: str) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(text))
    assert "0 to 10" in reply.text and "Nothing was saved" in reply.text


@pytest.mark.parametrize("text", ["/remind ٠٧:٣٠", "/remind ²:30", longest("/remind ", "7"), "/remind 25:00"])
async def test_remind_rejects_bad_times(bot: BotUnderTest, text: str) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(text))
    assert "as a time of day" in reply.text and "Nothing was saved" in reply.text
    async with bot.db.transaction() as repos:
        row = await repos.users.get(user.user_id)
    assert row is not None and row.reminder_time is None


@pytest.mark.parametrize("text", ["/timezone UTC+٢", "/timezone +²", longest("/timezone UTC+", "1")])
async def test_timezone_rejects_bad_offsets(bot: BotUnderTest, text: str) -> None:
    user = bot.user()
    reply = assert_one_clear_reply(bot, await user.send(text))
    assert "I don't know the time zone" in reply.text and "Nothing was saved" in reply.text


async def test_a_long_first_name_is_greeted_within_limits(bot: BotUnderTest) -> None:
    user = bot.user(user_id=4242, first_name="&<😀" * 21)
    assert_one_clear_reply(bot, await user.send("/start"))


async def test_tapping_the_current_setting_again_is_answered(bot: BotUnderTest) -> None:
    """A second tap on the same choice changes nothing: no edit Telegram would refuse, no apology."""
    user = bot.user()
    await user.send("/settings")
    await user.click(user.last, "10 min")
    await user.click(user.last, "10 min")
    assert user.callback_answers == ["Saved.", "Saved."]
    assert not bot.fake.rejections


@pytest.mark.parametrize(
    "data",
    ["1:pause:9223372036854775808:", "1:snooze:18446744073709551616:", "1:pain:2147483648:5", "1:hurt:1:²"],
)
async def test_forged_huge_refs_are_answered(bot: BotUnderTest, data: str) -> None:
    user = bot.user()
    await user.send("/help")
    await user.click_data(user.last, data)
    assert len(user.answers) == 1
    assert "went wrong" not in user.last_answer
    assert not bot.fake.rejections and not bot.fake.internal_errors
