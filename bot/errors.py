"""The error handler: log the failure, and tell the user something went wrong when that is possible."""

from __future__ import annotations

import contextlib
import logging
import traceback

from sqlalchemy import exc as sa
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot.context import BotContext

log = logging.getLogger(__name__)
SORRY = "Sorry, something went wrong on my side. Please try again in a moment; nothing you saved was lost."
DB_UNAVAILABLE = "Sorry, my storage is busy right now, so what you just sent was NOT saved. Please send it again in a moment."
DB_UNAVAILABLE_TAP = "Not saved: my storage is busy right now. Please tap again in a moment."
"""The answer to a button tap (a toast: at most 200 characters)."""
SORRY_TAP = "Sorry, something went wrong. Please try again in a moment."
GONE_TAP = "That message is gone or too old to change. Send /help to carry on."
_GONE = ("message to edit not found", "message can't be edited", "message to delete not found")


_DATABASE_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.", "sqlite3.")


def database_unavailable(error: BaseException | None) -> bool:
    """The database is locked, down or out of connections: the unit of work was rolled back.

    SQLAlchemy wraps what the driver reports (``OperationalError``: "database is locked", a server
    that went away); a connection refused while connecting (a PostgreSQL server that is down) comes
    through unwrapped as an ``OSError`` raised inside the driver.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa.OperationalError | sa.InterfaceError | sa.TimeoutError):
            return True
        if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, OSError) and _raised_in_database_code(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _raised_in_database_code(error: BaseException) -> bool:
    frames = traceback.walk_tb(error.__traceback__)
    return any(str(frame.f_globals.get("__name__", "")).startswith(_DATABASE_MODULES) for frame, _ in frames)


async def on_error(update: object, context: BotContext) -> None:
    """Degrade gracefully: a failed handler never leaves the user with silence if a reply can be sent."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("user blocked the bot: %s", error)
        return
    if isinstance(error, BadRequest) and "message is not modified" in str(error).lower():
        # an edit that changes nothing (a second tap on the same choice): nothing to tell anyone
        if isinstance(update, Update) and update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        return
    if (
        isinstance(error, BadRequest)
        and any(reason in str(error).lower() for reason in _GONE)
        and isinstance(update, Update)
        and update.callback_query is not None
    ):  # a tap on a message that was deleted or is too old: a notice, not an apology
        log.info("a tap's message could not be changed: %s", error)
        try:
            await update.callback_query.answer(GONE_TAP)
        except TelegramError:
            log.debug("the tap was answered already")
        return
    unsaved = database_unavailable(error)
    if unsaved:
        log.warning("the database is unavailable; an update was not applied: %s", error)
    else:
        log.error("error while handling an update", exc_info=error)
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return  # Telegram is unreachable: a reply would fail as well
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:
        try:  # stop the button's spinner, unless the handler answered before it failed
            await update.callback_query.answer(DB_UNAVAILABLE_TAP if unsaved else SORRY_TAP)
        except BadRequest:
            log.debug("the failed button tap was answered already")
        except TelegramError:
            log.warning("could not answer the failed button tap", exc_info=True)
    if update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, DB_UNAVAILABLE if unsaved else SORRY)
        except TelegramError:
            log.warning("could not tell the user about the error", exc_info=True)
