"""/progress (the chart), /export and /forget: people see and control their own data."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import InputFile, Update
from telegram.constants import ChatAction

from bot import render
from bot.callbacks import Action
from bot.charts import render_progress
from bot.context import BotContext
from bot.export import build_export
from bot.users import today, touch

NOT_YOURS = "These buttons belong to someone else."


async def progress(update: Update, context: BotContext) -> None:
    """A chart of the last 30 days, or a friendly word when there is nothing to draw yet."""
    services = context.services
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    async with services.db.transaction() as repos:
        user = await touch(repos, update, services)
        day = today(user, services)
        scores = [(s.local_date, s.score) for s in await repos.pain.history(user.id)]
        days = await repos.sessions.counted_days(user.id)
    recent_scores = [s for s in scores if s[0] > day - timedelta(days=30)]
    recent_days = [d for d in days if d > day - timedelta(days=30)]
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
        data = build_export(
            user,
            await repos.sessions.history(uid),
            await repos.pain.history(uid),
            await repos.reminders.history(uid),
            await repos.flags.rows(uid),
            exported_at=services.clock.now(),
        )
        day = today(user, services)
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
    """Yes: delete every row of this user in one transaction. No: nothing changes."""
    query = update.callback_query
    assert query is not None
    services = context.services
    if action.ref != query.from_user.id:
        return NOT_YOURS
    if action.arg != "yes":
        await query.edit_message_text(render.FORGET_CANCELLED)
        return ""
    if services.runner is not None:
        await services.runner.forget_user(query.from_user.id)
    async with services.db.transaction() as repos:
        await repos.users.delete(query.from_user.id)
    await query.edit_message_text(render.FORGOTTEN)
    return "Deleted."
