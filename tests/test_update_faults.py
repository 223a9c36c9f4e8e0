"""Update processing under trouble, through the real Application and the fake Bot API (issue 9).

A flood from one chat, an update the library cannot parse, a Bot API that is down at start-up, and a
database that is locked: each must cost only what it has to, and the bot must keep answering.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot import polling
from bot.app import build_application, build_services
from bot.clock import SystemClock
from bot.config import Settings
from bot.errors import DB_UNAVAILABLE, SORRY, database_unavailable
from bot.processor import MAX_WAITING_PER_CHAT
from storage.db import Database
from storage.models import PainScore
from tests.conftest import BotUnderTest
from tests.harness import ChatUser, FakeBotApi, FakeRequest

# --- a flood from one chat ------------------------------------------------------------------------


async def test_a_flood_from_one_chat_neither_stalls_others_nor_piles_up(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """1,100 updates from one chat, then one from another chat: the other chat is answered at once.

    The flooding chat's first update is held inside its handler, so nothing of that chat can finish:
    everything the other chat gets, it gets past the backlog.
    """
    flooder, other = bot.user(2001, "Flo"), bot.user(2002, "Oz")
    gate = asyncio.Event()

    async def hold_the_flooder(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None and update.effective_chat.id == flooder.chat_id:
            await gate.wait()

    bot.app.add_handler(TypeHandler(Update, hold_the_flooder), group=-1)
    caplog.set_level(logging.WARNING, logger="bot.processor")
    flood = [bot.fake.push_update(flooder.message_update(f"/x{i}")) for i in range(1100)]
    other_id = bot.fake.push_update(other.message_update("/help"))
    await bot.fake.wait_fetched(other_id)
    try:
        await bot.processor.wait_done(other_id, timeout=5)
        assert "/routine" in other.last_text
        await bot.processor.wait_done(flood[-1], timeout=5)  # the tail of the flood was dropped at once
    finally:
        gate.set()
    accepted = flood[: MAX_WAITING_PER_CHAT + 1]  # the one running, and those waiting behind it
    for update_id in accepted:
        await bot.processor.wait_done(update_id)
    answered = [m.text for m in flooder.messages]
    assert answered == [
        f"I don't know the command /x{i}. Send /help to see what I can do." for i in range(21)
    ]
    flood_lines = [r for r in caplog.records if r.name == "bot.processor"]
    assert len(flood_lines) == 1, [r.getMessage() for r in flood_lines]
    assert str(flooder.chat_id) in flood_lines[0].getMessage()


async def test_after_a_flood_the_chat_is_served_normally_again(bot: BotUnderTest) -> None:
    user = bot.user(2003, "Flo")
    ids = [bot.fake.push_update(user.message_update(f"/x{i}")) for i in range(60)]
    await bot.fake.wait_fetched(ids[-1])
    for update_id in ids:
        await bot.processor.wait_done(update_id)
    replies = await user.send("/help")
    assert len(replies) == 1 and "/routine" in replies[0].text


# --- an update the library cannot parse -----------------------------------------------------------

POISON = {"message": {"message_id": 9, "date": 0, "chat": {"id": 1001}, "text": "hi"}}
"""A chat without its ``type``: ``telegram.Update.de_json`` raises TypeError."""


async def test_an_unparsable_update_is_skipped_logged_once_and_confirmed(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(TypeError):
        Update.de_json({"update_id": 1, **POISON}, bot.app.bot)
    caplog.set_level(logging.INFO)
    user = bot.user(1001)
    poison_id = bot.fake.push_update(POISON)
    help_id = bot.fake.push_update(user.message_update("/help"))
    reply = await user.wait_for(lambda m: "/routine" in m.text, timeout=5)
    assert "/help" in reply.text
    await bot.processor.wait_done(help_id)
    skipped = [r for r in caplog.records if f"update {poison_id}" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].levelno == logging.ERROR
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]
    assert "TypeError" in skipped[0].getMessage() and "hi" not in skipped[0].getMessage()
    await user.send("/help")  # the next poll confirms everything fetched so far
    assert bot.fake.calls_to("getUpdates")[-1]["offset"] > help_id > poison_id


async def test_a_batch_fetched_again_is_skipped_again_but_logged_once(
    fake: FakeBotApi, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_application(build_services(settings), request=FakeRequest(fake))
    user = ChatUser(fake, 1001, "Al")
    poison_id = fake.push_update(POISON)
    good_id = fake.push_update(user.message_update("/help"))
    caplog.set_level(logging.ERROR, logger="bot.polling")
    for _ in range(2):  # an Updater stopped during a poll fetches the same batch again on restart
        updates = await app.bot.get_updates(offset=poison_id, timeout=0)
        assert [u.update_id for u in updates] == [poison_id, good_id]
        assert updates[0].to_dict() == {"update_id": poison_id}  # matches no handler, is confirmed
        assert updates[1].message is not None and updates[1].message.text == "/help"
        assert updates[1].get_bot() is app.bot  # parsed with the bot, as PTB would: replies work
    assert len(caplog.records) == 1
    assert f"update {poison_id} (message)" in caplog.records[0].getMessage()


async def test_each_update_of_a_poll_is_parsed_once(
    fake: FakeBotApi, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not once to check it and once more in ``Bot.get_updates``: parsing is most of a poll's CPU."""
    app = build_application(build_services(settings), request=FakeRequest(fake))
    user = ChatUser(fake, 1001, "Al")
    ids = [fake.push_update(user.message_update(f"/x{i}")) for i in range(5)]
    parsed: list[int] = []
    real = Update.de_json.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Update], data: Any, bot: Any = None) -> Update:
        parsed.append(data["update_id"])
        return real(cls, data, bot)

    monkeypatch.setattr(Update, "de_json", classmethod(counting))
    updates = await app.bot.get_updates(offset=ids[0], timeout=0)
    assert [u.update_id for u in updates] == ids
    assert parsed == ids


async def test_a_long_poll_waits_its_timeout_on_top_of_the_read_timeout(
    fake: FakeBotApi, settings: Settings
) -> None:
    """As PTB's own ``get_updates``: a poll of 10 s is not cut off by a read timeout of 5 s."""
    waited: list[float | None] = []

    class Recording(FakeRequest):
        @property
        def read_timeout(self) -> float | None:
            return 5.0

        async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            if url.endswith("getUpdates"):
                waited.append(kwargs["read_timeout"])
            return await super().do_request(url, method, *args, **kwargs)

    app = build_application(build_services(settings), request=Recording(fake))
    user = ChatUser(fake, 1001, "Al")
    fake.push_update(user.message_update("/help"))  # so that no poll below has to wait
    await app.bot.get_updates(timeout=10)
    await app.bot.get_updates(timeout=timedelta(seconds=10))
    await app.bot.get_updates(timeout=10, read_timeout=2)
    await app.bot.get_updates()
    assert waited == [15, 15, 12, 5]


def test_polling_asks_only_for_the_update_types_the_handlers_take(settings: Settings) -> None:
    app = build_application(build_services(settings))
    assert polling.allowed_updates(app) == ["message", "edited_message", "callback_query"]


def test_an_unknown_kind_of_handler_falls_back_to_every_update_type(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_application(build_services(settings))

    async def ignore(update: object, _: Any) -> None:
        pass

    app.add_handler(TypeHandler(dict, ignore))
    assert polling.allowed_updates(app) == list(Update.ALL_TYPES)
    assert "TypeHandler" in caplog.text


# --- the Bot API is down at start-up --------------------------------------------------------------


async def test_start_up_waits_for_an_unreachable_bot_api_with_backoff(
    fake: FakeBotApi, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("getMe", "network", times=2)
    fake.fail_next("getMe", "server", times=2)
    app = build_application(build_services(settings), request=FakeRequest(fake))
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    caplog.set_level(logging.INFO, logger="bot.polling")
    try:
        await polling.connect(app, where="http://fake", sleep=sleep)
        assert app.bot.username == fake.bot_user["username"]
    finally:
        await app.shutdown()
    assert slept == [1, 2, 4, 8]
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(retries) == 4 and all("http://fake" in line and "retrying in" in line for line in retries)
    assert fake.token not in caplog.text


async def test_start_up_backoff_is_capped() -> None:
    assert polling.backoff(1, 30)[:8] == [1, 2, 4, 8, 16, 30, 30, 30]


# --- the database is locked -----------------------------------------------------------------------


@contextmanager
def database_locked(db: Database, error: type[BaseException] | None = None) -> Iterator[None]:
    """Every statement fails as a locked SQLite database (or a PostgreSQL server going away) does."""
    dbapi_error = error or db.engine.dialect.loaded_dbapi.OperationalError

    def refuse(*_: Any) -> None:
        raise dbapi_error("database is locked")

    event.listen(db.engine.sync_engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", refuse)


async def pain_scores(bot: BotUnderTest, user_id: int) -> int:
    async with bot.db.transaction() as repos:
        count = await repos.session.scalar(
            select(func.count()).select_from(PainScore).where(PainScore.user_id == user_id)
        )
    return int(count or 0)


async def test_a_locked_database_says_the_input_was_not_saved(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    user = bot.user(3001)
    await user.send("/start")
    with database_locked(bot.db):
        replies = await user.send("/pain 4")
    assert [m.text for m in replies] == [DB_UNAVAILABLE]
    assert "NOT saved" in DB_UNAVAILABLE and "lost" not in DB_UNAVAILABLE
    assert await pain_scores(bot, user.user_id) == 0
    assert "database is locked" in caplog.text
    replies = await user.send("/pain 4")  # a moment later it works
    assert len(replies) == 1 and replies[0].text != DB_UNAVAILABLE
    assert await pain_scores(bot, user.user_id) == 1


async def test_a_database_server_that_is_down_counts_as_unavailable(unused_tcp_port: int) -> None:
    """asyncpg reports a refused connection as a bare ConnectionRefusedError, not wrapped by SQLAlchemy."""
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{unused_tcp_port}/nothing")
    try:
        with pytest.raises(Exception) as caught:
            async with db.transaction() as repos:
                await repos.session.execute(select(1))
    finally:
        await db.dispose()
    assert database_unavailable(caught.value)
    try:
        raise ConnectionRefusedError("not from the database")
    except OSError as elsewhere:
        assert not database_unavailable(elsewhere)
    assert not database_unavailable(RuntimeError("database is locked"))


async def test_a_button_tapped_while_the_database_is_locked_stops_spinning(bot: BotUnderTest) -> None:
    user = bot.user(3002)
    await user.send("/settings")
    menu = user.last
    label = menu.button_labels[0]
    with database_locked(bot.db):
        replies = await user.click(menu, label)
    assert len(user.answers) == 1 and "not saved" in user.last_answer.lower()
    assert len(user.last_answer) <= 200
    assert [m.text for m in replies] == [DB_UNAVAILABLE]


async def test_other_failures_keep_the_generic_apology(bot: BotUnderTest) -> None:
    user = bot.user(3003)
    await user.send("/start")
    with database_locked(bot.db, error=RuntimeError):
        replies = await user.send("/pain 4")
    assert [m.text for m in replies] == [SORRY]


async def test_a_failed_button_that_was_already_answered_keeps_its_answer(bot: BotUnderTest) -> None:
    user = bot.user(3004)
    await user.send("/routine")
    start = next(label for label in user.last.button_labels if "Start" in label)
    with database_locked(bot.db):
        replies = await user.click(user.last, start)  # answers "Starting…", then the database fails
    assert user.callback_answers == ["Starting…"]
    assert [m.text for m in replies] == [DB_UNAVAILABLE]


async def test_the_start_up_connect_leaves_the_app_usable_for_polling(
    fake: FakeBotApi, settings: Settings
) -> None:
    """``connect`` initializes the app; ``run_polling`` later finds it initialized and goes on."""
    services = build_services(settings, clock=SystemClock())
    app = build_application(services, request=FakeRequest(fake))
    await polling.connect(app, where="http://fake")
    try:
        await app.initialize()  # what run_polling does next: a no-op now
        assert fake.calls_to("getMe") == [{}]
    finally:
        await app.shutdown()
        await services.db.dispose()
