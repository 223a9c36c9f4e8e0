"""The fake Bot API answers like Telegram, through PTB's own request path, in-process and over HTTP.

A tiny real PTB ``Application`` (ping → pong with buttons, an echo, a careless ``/say`` that sends
user text as HTML, ``/files`` uploads) talks to the fake; an error handler records what PTB raised.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.aiohttp_request import AiohttpRequest
from tests.harness import (
    NOT_MODIFIED,
    ChatUser,
    FakeBotApi,
    FakeHttpServer,
    FakeRequest,
    TelegramHtmlError,
    TrackingProcessor,
    command_entities,
    parse_html,
)
from tests.harness.fake_api import QUERY_TOO_OLD

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (64).to_bytes(4, "big") + (32).to_bytes(4, "big") + b"\x08\x02"
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("🔁 Again", callback_data="again"),
            InlineKeyboardButton("Same", callback_data="same"),
        ]
    ]
)
Context = ContextTypes.DEFAULT_TYPE

# --- the tiny bot ------------------------------------------------------------------------------------


async def ping(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("pong", reply_markup=KEYBOARD)


async def say(update: Update, context: Context) -> None:
    """Sends the user's words as HTML without escaping them: the bug the fake's HTML check catches."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(" ".join(context.args or []), parse_mode="HTML")


async def send_files(update: Update, context: Context) -> None:
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    await context.bot.send_chat_action(chat_id, "upload_photo")
    await context.bot.send_photo(
        chat_id, InputFile(PNG, filename="chart.png"), caption="<b>Your week</b>", parse_mode="HTML"
    )
    await context.bot.send_document(chat_id, InputFile(b"day,minutes\n1,12\n", filename="müde 1.csv"))


async def echo(update: Update, context: Context) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text)


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message) and query.message.text
    await query.answer(f"tapped {query.data}")
    text = "pong again" if query.data == "again" else query.message.text  # "same": not modified
    await query.edit_message_text(text, reply_markup=KEYBOARD)


@dataclass
class TinyBot:
    app: Application[Any, Any, Any, Any, Any, Any]
    fake: FakeBotApi
    tracker: TrackingProcessor
    errors: list[BaseException] = field(default_factory=list)

    def user(self, user_id: int = 1001, first_name: str = "Ana", **kwargs: Any) -> ChatUser:
        return ChatUser(self.fake, user_id, first_name, settle=self.tracker.wait_done, **kwargs)

    @property
    def last_error(self) -> BaseException:
        assert self.errors, "the bot raised nothing"
        return self.errors[-1]


@asynccontextmanager
async def tiny_bot(fake: FakeBotApi, base_url: str | None = None) -> AsyncIterator[TinyBot]:
    """The tiny bot, in-process through FakeRequest or, with ``base_url``, over HTTP with the bot's own
    request layer (``bot.aiohttp_request``)."""
    tracker = TrackingProcessor()
    builder = Application.builder().token(fake.token).concurrent_updates(tracker)
    if base_url is None:
        builder = builder.request(FakeRequest(fake)).get_updates_request(FakeRequest(fake))
    else:
        builder = builder.base_url(base_url).request(AiohttpRequest()).get_updates_request(AiohttpRequest(1))
    app = builder.build()
    bot = TinyBot(app, fake, tracker)

    async def on_error(update: object, context: Context) -> None:
        assert context.error is not None
        bot.errors.append(context.error)

    app.add_handler(CommandHandler("ping", ping))
    app.add_handler(CommandHandler("say", say))
    app.add_handler(CommandHandler("files", send_files))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_error_handler(on_error)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield bot
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert not fake.internal_errors


@pytest.fixture
async def tiny(fake: FakeBotApi) -> AsyncIterator[TinyBot]:
    async with tiny_bot(fake) as bot:
        yield bot


@pytest.fixture
async def client(fake: FakeBotApi) -> AsyncIterator[Bot]:
    """A bare PTB Bot on FakeRequest: PTB's exception for each status, without an application."""
    async with Bot(fake.token, request=FakeRequest(fake), get_updates_request=FakeRequest(fake)) as bot:
        yield bot


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --- conversations through the real Application ------------------------------------------------------


async def test_send_gets_the_reply_with_shared_message_ids(tiny: TinyBot) -> None:
    user = tiny.user()
    replies = await user.send("/ping")
    assert [m.text for m in replies] == ["pong"] and user.last_text == "pong"
    assert replies[0].message_id == 2  # the user's /ping was message 1 of this chat
    assert user.last.button_labels == ["🔁 Again", "Same"]
    assert user.last.buttons == [[("🔁 Again", "again"), ("Same", "same")]]
    assert [m.text for m in await user.send("/ping@backstretch_test_bot now")] == ["pong"]
    assert [m.text for m in await user.send("fish & <chips>")] == ["fish & <chips>"]  # no parse mode: literal
    assert await user.send("/unknown") == []
    transcript = user.transcript()
    assert (
        "Ana said: /ping" in transcript and "#2 bot: pong" in transcript and "[🔁 Again | Same]" in transcript
    )
    assert not tiny.errors


def test_command_entities_as_telegram_sends_them() -> None:
    assert command_entities("/ping@backstretch_test_bot now") == [
        {"type": "bot_command", "offset": 0, "length": 26}
    ]
    assert command_entities("😀 /stretch_cat") == [{"type": "bot_command", "offset": 3, "length": 12}]
    assert command_entities("hi there") == command_entities("a/b") == command_entities("/") == []


async def test_click_answers_the_query_and_edits_the_message(tiny: TinyBot, fake: FakeBotApi) -> None:
    user = tiny.user()
    await user.send("/ping")
    card = user.last
    assert await user.click(card, "again") == []  # no new message: the card was edited
    assert card.text == "pong again" and card.edits == ["pong"] and card.first_version.text == "pong"
    assert user.last_answer == "tapped again" and fake.answers[0].user_id == 1001
    with pytest.raises(AssertionError, match=r"2 buttons .* match 'a'.*'🔁 Again', 'Same'"):
        await user.click(card, "a")
    with pytest.raises(AssertionError, match="no button"):
        await user.click(card, "Stop")
    # Telegram answers each query once
    status, body = await fake.call("answerCallbackQuery", {"callback_query_id": fake.answers[0].query_id})
    assert (status, body["description"]) == (400, QUERY_TOO_OLD)


async def test_not_modified_surfaces_as_bad_request(tiny: TinyBot, fake: FakeBotApi) -> None:
    user = tiny.user()
    await user.send("/ping")
    await user.click(user.last, "Same")
    assert isinstance(tiny.last_error, BadRequest)
    # PTB drops "Bad Request: " and then str.capitalize()s the rest (lower-casing it)
    assert str(tiny.last_error) == NOT_MODIFIED.removeprefix("Bad Request: ").capitalize()
    assert user.last.edits == [] and user.last_answer == "tapped same"
    assert [(r.method, r.status, r.injected) for r in fake.rejections] == [("editMessageText", 400, False)]


async def test_blocked_chat_is_forbidden_until_unblocked(tiny: TinyBot, fake: FakeBotApi) -> None:
    user, other = tiny.user(), tiny.user(1002, "Bo")
    fake.block(user.chat_id)
    assert await user.send("/ping") == []
    assert isinstance(tiny.last_error, Forbidden) and "bot was blocked by the user" in str(tiny.last_error)
    assert [m.text for m in await other.send("/ping")] == ["pong"]  # other chats are unaffected
    fake.unblock(user.chat_id)
    assert [m.text for m in await user.send("/ping")] == ["pong"]


async def test_retry_after_raises_retry_after_once(tiny: TinyBot, fake: FakeBotApi) -> None:
    user = tiny.user()
    fake.fail_next("sendMessage", "retry_after", retry_after=7, chat_id=user.chat_id)
    assert await user.send("/ping") == []
    error = tiny.last_error
    assert isinstance(error, RetryAfter) and retry_after_seconds(error) == 7
    assert [m.text for m in await user.send("/ping")] == ["pong"]  # only the next call failed
    assert len(fake.calls_to("sendMessage")) == 2


async def test_network_failures(tiny: TinyBot, fake: FakeBotApi) -> None:
    user = tiny.user()
    fake.fail_next("sendMessage", "network")
    assert await user.send("/ping") == []
    assert isinstance(tiny.last_error, NetworkError) and not user.messages
    fake.fail_next("sendMessage", "lost_response")  # Telegram sent it, the answer was lost
    assert [m.text for m in await user.send("/ping")] == ["pong"]
    assert isinstance(tiny.last_error, NetworkError) and len(tiny.errors) == 2
    fake.fail_next("sendMessage", "server")
    await user.send("/ping")
    assert isinstance(tiny.last_error, NetworkError) and "Internal Server Error" in str(tiny.last_error)


async def test_html_is_checked_like_telegram_does(tiny: TinyBot, fake: FakeBotApi) -> None:
    user = tiny.user()
    assert await user.send("/say <b>unclosed") == []
    assert isinstance(tiny.last_error, BadRequest)
    assert str(tiny.last_error) == "Can't parse entities: can't find end tag corresponding to start tag \"b\""
    await user.send("/say 3 < 4")
    assert str(tiny.last_error) == 'Can\'t parse entities: unsupported start tag "" at byte offset 2'
    await user.send("/say fish & chips")  # Telegram would keep the '&'; the fake flags unescaped text
    assert "must be escaped" in str(tiny.last_error) and len(tiny.errors) == 3
    [reply] = await user.send("/say <b>bold</b> &lt;ok&gt;")
    assert reply.text == "bold <ok>" and reply.raw == "<b>bold</b> &lt;ok&gt;"
    assert reply.entities == [{"offset": 0, "length": 4, "type": "bold"}]
    assert reply.to_dict()["entities"] == reply.entities


def test_html_parser_entities_and_errors() -> None:
    text, entities = parse_html(
        '😀 <b>bo<i>th</i></b>\n<a href="https://x.org/?a=1&amp;b=2">link</a> <pre><code class="language-py">x</code></pre>'
    )
    assert text == "😀 both\nlink x"
    assert entities == [
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 5, "length": 2, "type": "italic"},
        {"offset": 8, "length": 4, "type": "text_link", "url": "https://x.org/?a=1&b=2"},
        {"offset": 13, "length": 1, "type": "pre", "language": "py"},
    ]
    assert parse_html("<blockquote expandable>q</blockquote>")[1][0]["type"] == "expandable_blockquote"
    assert parse_html("a > b &#33;", strict_ampersand=False) == ("a > b !", [])
    for bad, reason in [
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ]:
        with pytest.raises(TelegramHtmlError) as exc:
            parse_html(bad)
        assert reason in str(exc.value)


async def test_wait_for_is_event_driven_and_explains_a_timeout(tiny: TinyBot) -> None:
    user = tiny.user()
    waiting = asyncio.create_task(user.wait_for(lambda m: m.text == "pong again", timeout=2))
    await user.send("/ping")
    await user.click(user.last, "Again")
    assert (await waiting).edits == ["pong"]
    with pytest.raises(AssertionError, match=r"within 0\.05 s"):
        await user.wait_for(lambda m: m.text == "pong again", timeout=0.05, include_edits=False)
    with pytest.raises(AssertionError) as exc:
        await user.wait_for(lambda m: "Hold" in m.text, timeout=0.05)
    assert "Ana said: /ping" in str(exc.value) and "#2 bot (edited 1x): pong again" in str(exc.value)
    assert "Ana tapped: [🔁 Again]" in str(exc.value)


async def test_a_second_user_can_tap_in_the_same_chat(tiny: TinyBot, fake: FakeBotApi) -> None:
    ana = tiny.user()
    await ana.send("/ping")
    mallory = tiny.user(2002, "Mallory", chat_id=ana.chat_id)
    await mallory.click_data(ana.last, "again")
    assert mallory.last_answer == "tapped again" and ana.callback_answers == []


# --- the core, directly ------------------------------------------------------------------------------


async def test_calls_are_case_insensitive_lenient_and_answer_like_telegram(fake: FakeBotApi) -> None:
    markup = '{"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}'
    status, body = await fake.call("SENDMESSAGE", {"chat_id": "5", "text": "  hi  ", "reply_markup": markup})
    assert status == 200 and body["ok"] and body["result"]["text"] == "hi"
    assert body["result"]["from"]["username"] == "backstretch_test_bot" and body["result"]["chat"]["id"] == 5
    assert fake.calls[-1] == (
        "sendMessage",
        {
            "chat_id": 5,
            "text": "  hi  ",
            "reply_markup": {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
        },
    )
    assert fake.messages(5)[0].buttons == [[("Go", "go")]]
    assert await fake.call("noSuchMethod", {}) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    too_long = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("sendMessage", {"chat_id": 5, "text": " \n "}, "Bad Request: message text is empty"),
        ("sendMessage", {"chat_id": 5, "text": "x" * 4097}, "Bad Request: message is too long"),
        (
            "sendMessage",
            {"chat_id": 5, "text": "x", "reply_markup": too_long},
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        ("sendMessage", {"text": "x"}, "Bad Request: chat_id is empty"),
        (
            "editMessageText",
            {"chat_id": 5, "message_id": 99, "text": "x"},
            "Bad Request: message to edit not found",
        ),
        ("deleteMessage", {"chat_id": 5, "message_id": 99}, "Bad Request: message to delete not found"),
        ("editMessageReplyMarkup", {"chat_id": 5, "message_id": 1, "reply_markup": markup}, NOT_MODIFIED),
    ]
    for method, params, description in cases:
        assert await fake.call(method, params) == (
            400,
            {"ok": False, "error_code": 400, "description": description},
        )
    status, body = await fake.call("sendMessage", {"chat_id": 5, "text": "x" * 4096})
    assert status == 200 and body == {"ok": True, "result": fake.messages(5)[-1].to_dict()}
    assert (await fake.call("deleteMessage", {"chat_id": 5, "message_id": 1}))[1]["result"] is True
    assert (await fake.call("deleteMessage", {"chat_id": 5, "message_id": 1}))[0] == 400
    assert [m.deleted for m in fake.messages(5)] == [True, False] and len(fake.visible(5)) == 1
    fake.fail_next("sendMessage", "retry_after", retry_after=3)
    assert (await fake.call("sendMessage", {"chat_id": 5, "text": "x"}))[1]["parameters"] == {
        "retry_after": 3
    }


async def test_edit_semantics(fake: FakeBotApi) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    await fake.call(
        "sendMessage", {"chat_id": 5, "text": "<b>hi</b>", "parse_mode": "HTML", "reply_markup": markup}
    )
    edit = {"chat_id": 5, "message_id": 1, "parse_mode": "HTML", "reply_markup": markup}
    status, _ = await fake.call("editMessageText", {**edit, "text": "<strong>hi</strong>"})
    assert status == 400  # <strong> is <b>: the same text and entities
    status, body = await fake.call("editMessageText", {**edit, "text": "<b>hi</b>", "reply_markup": None})
    assert status == 200 and "edit_date" in body["result"]
    assert "reply_markup" not in body["result"]  # an edit without a keyboard removes it, as in Telegram
    message = fake.messages(5)[0]
    assert message.edits == ["hi"] and message.reply_markup is None
    assert message.versions[0].reply_markup == markup


async def test_get_updates_confirms_long_polls_and_conflicts(fake: FakeBotApi) -> None:
    ids = [
        fake.push_update(
            {"message": {"message_id": n, "chat": {"id": 1, "type": "private"}, "date": 0, "text": "x"}}
        )
        for n in (1, 2, 3)
    ]
    _, body = await fake.call("getUpdates", {"offset": 0, "timeout": 0})
    assert [u["update_id"] for u in body["result"]] == ids
    _, body = await fake.call("getUpdates", {"offset": ids[1] + 1, "limit": 10})
    assert [u["update_id"] for u in body["result"]] == ids[2:]  # the first two are confirmed and gone
    await fake.call("getUpdates", {"offset": ids[2] + 1})
    polls = len(fake.calls_to("getUpdates"))
    poll = asyncio.create_task(fake.call("getUpdates", {"offset": ids[2] + 1, "timeout": 30}))
    fresh = fake.push_update(
        {"message": {"message_id": 4, "chat": {"id": 1, "type": "private"}, "date": 0, "text": "y"}}
    )
    _, body = await asyncio.wait_for(poll, 1)  # woken by the push, not by the 30 s timeout
    assert [u["update_id"] for u in body["result"]] == [fresh]
    await fake.wait_fetched(fresh, timeout=0.1)
    older = asyncio.create_task(fake.call("getUpdates", {"offset": fresh + 1, "timeout": "30"}))
    await fake.changes.wait_until(lambda: len(fake.calls_to("getUpdates")) == polls + 2, 1)  # it is waiting
    assert (await fake.call("getUpdates", {"offset": fresh + 1, "timeout": 0.01}))[1]["result"] == []
    assert (await asyncio.wait_for(older, 1))[1]["description"].startswith(
        "Conflict: terminated by other getUpdates request"
    )
    await fake.call("getUpdates", {"offset": fresh + 1, "allowed_updates": ["message"]})
    skipped = fake.push_update(
        {"callback_query": {"id": "1", "from": {"id": 1}, "chat_instance": "1", "data": "x"}}
    )
    assert (await fake.call("getUpdates", {"offset": fresh + 1}))[1]["result"] == []
    with pytest.raises(AssertionError, match="not in allowed_updates"):
        await fake.wait_fetched(skipped, timeout=0.1)


async def test_ptb_raises_the_right_exception_for_each_status(client: Bot, fake: FakeBotApi) -> None:
    fake.block(9)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await client.send_message(9, "hi")
    fake.fail_next("sendChatAction", "retry_after", retry_after=2)
    with pytest.raises(RetryAfter) as flood:
        await client.send_chat_action(8, "typing")
    assert retry_after_seconds(flood.value) == 2
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await client.delete_message(8, 42)
    fake.fail_next("getMe", "network")
    with pytest.raises(NetworkError, match="fake network failure"):
        await client.get_me()
    with pytest.raises(EndPointNotFound):
        await client.do_api_request("noSuchMethod")
    await client.set_webhook("https://example.org/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await client.get_updates()
    await client.delete_webhook()
    await client.set_my_commands([("ping", "Ping the bot")])
    assert fake.commands == [{"command": "ping", "description": "Ping the bot"}]
    assert [c.command for c in await client.get_my_commands()] == ["ping"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await client.set_my_commands([("Ping", "Capital letters are not allowed")])


# --- over loopback HTTP ------------------------------------------------------------------------------


async def test_tiny_bot_over_loopback_http_with_multipart_uploads(fake: FakeBotApi) -> None:
    async with FakeHttpServer(fake) as server, tiny_bot(fake, base_url=server.base_url) as tiny:
        assert server.base_url == f"http://127.0.0.1:{server.port}/bot"
        user = tiny.user()
        assert [m.text for m in await user.send("/ping")] == ["pong"]
        await user.click(user.last, "again")
        assert user.last.text == "pong again" and user.last_answer == "tapped again"
        photo, document = await user.send("/files")
        assert photo.kind == "photo" and photo.photo == PNG and photo.filename == "chart.png"
        assert photo.text == "Your week" and photo.entities == [{"offset": 0, "length": 9, "type": "bold"}]
        assert photo.to_dict()["photo"][0]["width"] == 64
        assert document.document == b"day,minutes\n1,12\n" and document.filename == "müde 1.csv"
        assert document.mime_type == "text/csv" and fake.chat_actions == [
            {"chat_id": 1001, "action": "upload_photo"}
        ]
        await user.send("/say <b>unclosed")
        assert isinstance(tiny.last_error, BadRequest)
        fake.fail_next("sendMessage", "network")  # the server drops the connection
        assert await user.send("/ping") == []
        assert isinstance(tiny.last_error, NetworkError)
        assert [m.text for m in await user.send("/ping")] == ["pong"]
        plain = ChatUser(fake, 3003, "Cy")  # no settle: as with a bot in another process
        await plain.send("/ping")
        assert (await plain.wait_for(lambda m: m.text == "pong", timeout=2)).message_id == 2


async def test_http_server_speaks_the_wire_formats(fake: FakeBotApi) -> None:
    async with (
        FakeHttpServer(fake) as server,
        httpx.AsyncClient(base_url=server.base_url.removesuffix("/bot")) as http,
    ):
        api = f"/bot{fake.token}"
        response = await http.post(f"{api}/sendMessage", json={"chat_id": 5, "text": "json"})
        assert response.status_code == 200 and response.json()["result"]["text"] == "json"
        response = await http.post(
            f"{api}/sendMessage", data={"chat_id": "5", "text": "form", "disable_notification": "true"}
        )
        assert response.json()["result"]["message_id"] == 2 and fake.messages(5)[1].disable_notification
        response = await http.get(f"{api}/getMe")
        assert response.json()["result"]["id"] == 123456

        async def chunks() -> AsyncIterator[bytes]:
            yield b"chat_id=5&"
            yield b"text=chunked"

        chunked = http.build_request("POST", f"{api}/sendMessage", content=chunks(),
                                     headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert (await http.send(chunked)).json()["result"]["text"] == "chunked"
        response = await http.post(f"{api}/sendPhoto", data={"chat_id": "5", "photo": "attach://pic"},
                                   files={"pic": ('a "b".png', PNG, "image/png")})  # fmt: skip
        assert response.status_code == 200 and fake.messages(5)[-1].filename == 'a "b".png'
        response = await http.post(
            f"{api}/sendPhoto", data={"chat_id": "5"}, files={"photo": ("x.png", b"not an image")}
        )
        assert response.json()["description"] == "Bad Request: IMAGE_PROCESS_FAILED"
        response = await http.post("/bot999:WRONG/getMe")
        assert (response.status_code, response.json()["description"]) == (401, "Unauthorized")
        assert (await http.get("/nothing")).status_code == 404
    # a client that hangs up during a long poll ends that poll (a killed bot cannot fetch updates)
    async with FakeHttpServer(fake) as server:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            f"POST {api}/getUpdates?timeout=30 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode()
        )
        await fake.changes.wait_until(lambda: fake.waiting_polls == 1, 1)
        writer.close()
        await server.wait_idle(timeout=2)
        assert server.open_connections == 0 and fake.waiting_polls == 0
        update_id = fake.push_update(
            {"message": {"message_id": 9, "chat": {"id": 5, "type": "private"}, "date": 0, "text": "x"}}
        )
        assert (await fake.call("getUpdates", {}))[1]["result"][0]["update_id"] == update_id
        assert not any(r.status == 409 for r in fake.rejections)  # no older poll was still waiting


async def test_wrong_token_is_unauthorized_over_http(fake: FakeBotApi) -> None:
    async with FakeHttpServer(fake) as server:
        with pytest.raises(InvalidToken):
            async with Bot("999:WRONG", base_url=server.base_url):
                pass


def test_fail_next_rejects_what_ptb_would_misread() -> None:
    fake = FakeBotApi()
    with pytest.raises(ValueError, match="retry_after=0"):
        fake.fail_next("sendMessage", "retry_after", retry_after=0)
    with pytest.raises(ValueError, match="unknown failure"):
        fake.fail_next("sendMessage", "timeout")  # type: ignore[arg-type]


# --- fault kinds of issue 9: what the client sees, and whether Telegram performed the call ---------

FAULTS = [  # (kind, exception PTB raises, text or aiohttp cause it carries, performed by "Telegram")
    ("bad_gateway", NetworkError, "Bad Gateway", False),
    ("refused", NetworkError, aiohttp.ClientConnectorError, False),
    ("reset_after", NetworkError, aiohttp.ServerDisconnectedError, True),
    ("timeout_after", TimedOut, aiohttp.SocketTimeoutError, True),
    ("invalid_json", TelegramError, "Invalid server response", False),
    ("retry_after", RetryAfter, "retry in", False),
    ("forbidden", Forbidden, "blocked", False),
]


def _check_fault(exc: BaseException, expected: type[BaseException], detail: Any) -> None:
    assert isinstance(exc, expected), repr(exc)
    if isinstance(detail, str):
        assert detail.lower() in str(exc).lower(), repr(exc)
    else:
        assert isinstance(exc.__cause__, detail), repr(exc.__cause__)


@pytest.mark.parametrize(("kind", "expected", "detail", "performed"), FAULTS)
async def test_fault_kinds_in_process(
    client: Bot, fake: FakeBotApi, kind: Any, expected: type[BaseException], detail: Any, performed: bool
) -> None:
    fake.fail_next("sendMessage", kind, times=2, chat_id=5)
    for attempt in (1, 2):
        with pytest.raises(expected) as caught:
            await client.send_message(5, f"try {attempt}")
        _check_fault(caught.value, expected, detail)
    assert len(fake.messages(5)) == (2 if performed else 0)
    await client.send_message(5, "and then it works")
    assert fake.messages(5)[-1].text == "and then it works"


async def test_fault_for_a_number_of_seconds(client: Bot, fake: FakeBotApi) -> None:
    fake.fail_for("sendMessage", "bad_gateway", seconds=0.3, chat_id=6)
    for _ in range(3):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await client.send_message(6, "hi")
    await client.send_message(7, "other chats are fine")
    await asyncio.sleep(0.35)
    await client.send_message(6, "over")
    assert [m.text for m in fake.messages(6)] == ["over"]
    with pytest.raises(ValueError, match="seconds"):
        fake.fail_for("sendMessage", "server", seconds=0)


HTTP_FAULTS = [  # over TCP a reset before the fake read the request looks like one after it
    ("bad_gateway", NetworkError, "Bad Gateway", False),
    ("refused", NetworkError, aiohttp.ClientError, False),
    ("reset_after", NetworkError, aiohttp.ServerDisconnectedError, True),
    ("timeout_after", TimedOut, aiohttp.SocketTimeoutError, True),
    ("invalid_json", TelegramError, "Invalid server response", False),
    ("retry_after", RetryAfter, "retry in", False),
    ("forbidden", Forbidden, "blocked", False),
]


@pytest.mark.parametrize(("kind", "expected", "detail", "performed"), HTTP_FAULTS)
async def test_fault_kinds_over_http(
    fake: FakeBotApi, kind: Any, expected: type[BaseException], detail: Any, performed: bool
) -> None:
    async with FakeHttpServer(fake) as server:
        request = AiohttpRequest(read_timeout=0.5, connect_timeout=1)
        async with Bot(fake.token, base_url=server.base_url, request=request) as client:
            fake.fail_next("sendMessage", kind, chat_id=5)
            with pytest.raises(expected) as caught:
                await client.send_message(5, "once")
            _check_fault(caught.value, expected, detail)
            assert len(fake.messages(5)) == (1 if performed else 0)
            await client.send_message(5, "and then it works")
            assert fake.messages(5)[-1].text == "and then it works"


async def test_refused_connections_over_http_never_reach_the_fake(fake: FakeBotApi) -> None:
    async with FakeHttpServer(fake) as server:
        request = AiohttpRequest(read_timeout=1, connect_timeout=1)
        async with Bot(fake.token, base_url=server.base_url, request=request) as client:
            await client.send_message(5, "before")
            await server.refuse_connections(0.3)
            with pytest.raises(NetworkError) as caught:
                await client.send_message(5, "refused")
            assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)
            await asyncio.sleep(0.4)
            await client.send_message(5, "after")
            assert [m.text for m in fake.messages(5)] == ["before", "after"]
