"""/progress (the chart), /export and /forget: people see and control their own data."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import CallbackQuery, InputFile, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest

from bot import render
from bot.callbacks import Action
from bot.charts import render_progress
from bot.context import BotContext
from bot.export import build_export, collect
from bot.users import today, touch

log = logging.getLogger(__name__)
NOT_YOURS = "These buttons belong to someone else."
FORGET_FAILED = (
    "Sorry, something went wrong on my side and <b>nothing was deleted</b>: your data is still here. "
    "Please try again in a moment."
)
FORGET_FAILED_TAP = "Nothing was deleted. Please try again in a moment."
FORGET_UNCONFIRMED = (
    "Sorry, something went wrong on my side while deleting your data, and I can't tell whether it "
    "finished. Please tap Yes again in a moment to make sure everything is deleted."
)
FORGET_UNCONFIRMED_TAP = "Not sure it finished: please tap Yes again in a moment."


async def progress(update: Update, context: BotContext) -> None:
    """A chart of the last 30 days, or a friendly word when there is nothing to draw yet."""
    services = context.services
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    async with services.db.read() as repos:
        user = await touch(repos, update, services)
        day = today(user, services)
        since = day - timedelta(days=30)
        recent_scores = [
            (local_day, value) for _, local_day, value in await repos.pain.scores(user.id, since)
        ]
        recent_days = list(await repos.sessions.counted_per_day(user.id, since))
    if not recent_scores and not recent_days:
        await context.bot.send_message(chat_id, render.NO_PROGRESS_YET)
        return
    await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    png = await asyncio.to_thread(render_progress, recent_scores, recent_days, day)
    await context.bot.send_photo(
        chat_id,
        InputFile(png, filename="progress.png"),
        caption=render.progress_caption(len(recent_days), recent_scores),
    )


async def export(update: Update, context: BotContext) -> None:
    """Send the user's own data as a zip (JSON, plus CSVs of sessions and pain scores)."""
    services = context.services
    assert update.effective_chat is not None and update.effective_user is not None
    uid = update.effective_user.id
    async with services.db.transaction() as repos:
        user = await touch(repos, update, services)
        rows = await collect(repos.session, uid)
        day = today(user, services)
    data = await asyncio.to_thread(build_export, rows, exported_at=services.clock.now())
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.UPLOAD_DOCUMENT)
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(data, filename=f"backstretch-{day.isoformat()}.zip"),
        caption=render.EXPORT_CAPTION,
    )


async def forget(update: Update, context: BotContext) -> None:
    """Ask before deleting everything."""
    assert update.effective_message and update.effective_user
    await update.effective_message.reply_text(
        render.FORGET_QUESTION, reply_markup=render.forget_keyboard(update.effective_user.id)
    )


async def on_forget_button(update: Update, context: BotContext, action: Action) -> str:
    """Yes: delete every row of this user in one transaction. No: nothing changes.

    When the transaction fails, nothing was deleted and the user is told so, with the buttons to try
    again; when only its commit fails, the outcome is unknown and the user is asked to tap Yes again.
    """
    query = update.callback_query
    assert query is not None
    services = context.services
    uid = query.from_user.id
    if action.ref != uid:
        return NOT_YOURS
    if action.arg != "yes":
        await query.edit_message_text(render.FORGET_CANCELLED)
        return ""
    if services.runner is not None:
        await services.runner.forget_user(uid)
    committing = False
    try:
        async with services.db.transaction() as repos:
            await repos.users.delete(uid)
            await repos.session.flush()
            committing = True
    except Exception:
        log.exception("deleting the data of a user failed (%s)", "commit" if committing else "rolled back")
        if not committing:
            await _interrupt_live_session(context, uid)
        await _say(query, FORGET_UNCONFIRMED if committing else FORGET_FAILED, uid)
        return FORGET_UNCONFIRMED_TAP if committing else FORGET_FAILED_TAP
    await query.edit_message_text(render.FORGOTTEN)
    return "Deleted."


async def _interrupt_live_session(context: BotContext, user_id: int) -> None:
    """The runner dropped the user's live session before the failed delete: end its row as well, so a
    new session can start (best effort; the database may be the thing that is failing)."""
    services = context.services
    try:
        async with services.db.transaction() as repos:
            await repos.sessions.interrupt_live(user_id, services.clock.now())
    except Exception:
        log.warning("could not mark the live session of a user as interrupted", exc_info=True)


async def _say(query: CallbackQuery, text: str, user_id: int) -> None:
    try:
        await query.edit_message_text(text, reply_markup=render.forget_keyboard(user_id))
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():  # the same failure twice in a row
            raise
