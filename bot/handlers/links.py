"""``/start <command>``: where a ``t.me/<bot>?start=<command>`` link from a group lands.

A person new to the bot gets the welcome (with the safety note) first, then the command they asked for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.context import BotContext
from bot.handlers import basic, data, reminders, session, settings

Handler = Callable[[Update, BotContext], Awaitable[None]]
TARGETS: dict[str, Handler] = {
    "routine": basic.routine,
    "session": session.session_command,
    "pain": session.pain_command,
    "stats": session.stats,
    "progress": data.progress,
    "remind": reminders.remind,
    "timezone": reminders.timezone,
    "settings": settings.settings,
    "break": settings.break_command,
    "export": data.export,
    "forget": data.forget,
}


async def start(update: Update, context: BotContext) -> None:
    """/start, or /start with a deep-link payload naming a command."""
    target = TARGETS.get(context.args[0].lower()) if context.args else None
    if target is None:
        await basic.start(update, context)
        return
    assert update.effective_user is not None
    async with context.services.db.transaction() as repos:
        known = await repos.users.get(update.effective_user.id) is not None
    if not known:
        await basic.start(update, context)
    context.args = []
    await target(update, context)
