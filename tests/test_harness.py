"""The fake Bot API answers like Telegram, through PTB's own request path, in-process and over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

from tests.harness import FakeBotApi, FakeHttpServer, FakeRequest, check_html


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(fake.token, request=FakeRequest(fake), get_updates_request=FakeRequest(fake)) as client:
        yield client


async def test_send_and_edit_and_not_modified(bot: Bot, fake: FakeBotApi) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="1:start:0:")]])
    sent = await bot.send_message(7, "<b>hi</b>", parse_mode="HTML", reply_markup=markup)
    assert sent.text == "hi" and fake.messages(7)[0].buttons == [[("Go", "1:start:0:")]]
    await bot.edit_message_text("<b>hello</b>", chat_id=7, message_id=sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("<b>hello</b>", chat_id=7, message_id=sent.message_id, parse_mode="HTML")
    assert fake.messages(7)[0].edits == ["hi"]
    await bot.delete_message(7, sent.message_id)
    with pytest.raises(BadRequest, match="not found"):
        await bot.edit_message_text("again", chat_id=7, message_id=sent.message_id)


async def test_telegram_rejections(bot: Bot, fake: FakeBotApi) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(7, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(7, "fish & chips", parse_mode="HTML")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(7, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(
            7, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="x" * 65)]])
        )
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("nope")


async def test_injected_failures(bot: Bot, fake: FakeBotApi) -> None:
    fake.block(9)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(9, "hi")
    fake.unblock(9)
    fake.fail_next("sendMessage", "retry_after", retry_after=3)
    with pytest.raises(RetryAfter) as exc:
        await bot.send_message(9, "hi")
    assert exc.value.retry_after in (3, timedelta(seconds=3))
    fake.fail_next("sendMessage", "network")
    with pytest.raises(NetworkError):
        await bot.send_message(9, "hi")
    assert (await bot.send_message(9, "finally")).text == "finally"


def test_html_checker() -> None:
    check_html("<b>bold</b> &lt;ok&gt; <i>fine</i> &amp;")
    for bad in ("<b>", "</b>", "<div>x</div>", "a < b", "a & b"):
        with pytest.raises(ValueError):
            check_html(bad)


async def test_over_loopback_http_with_multipart_uploads(fake: FakeBotApi) -> None:
    async with FakeHttpServer(fake) as server, Bot(fake.token, base_url=server.base_url) as bot:
        assert (await bot.get_me()).username == "backstretch_test_bot"
        await bot.send_message(5, "<b>over http</b>", parse_mode="HTML")
        await bot.send_photo(5, InputFile(b"\x89PNG fake", filename="p.png"), caption="a chart")
        await bot.send_document(5, InputFile(b"PK zip", filename="data.zip"))
        photo, document = fake.messages(5)[1:]
        assert photo.photo == b"\x89PNG fake" and photo.text == "a chart"
        assert document.document == b"PK zip" and document.filename == "data.zip"
        fake.fail_next("sendMessage", "network")
        with pytest.raises(NetworkError):
            await bot.send_message(5, "dropped")
    assert fake.messages(5)[0].text == "over http"


async def test_wrong_token_is_unauthorized_over_http(fake: FakeBotApi) -> None:
    async with FakeHttpServer(fake) as server:
        with pytest.raises(InvalidToken):
            async with Bot("999:WRONG", base_url=server.base_url):
                pass
