"""/start, /help, /exercises, /stretch, /routine, and the replies to anything else."""

from __future__ import annotations

from telegram import Update

from bot import render, safety
from bot.context import BotContext
from bot.handlers.privacy import is_private
from bot.users import PlanningError, todays_plan, touch
from content.lookup import LookupResult


async def _remember(update: Update, context: BotContext) -> None:
    """Create (or refresh) the user's row: every first private contact is remembered, whatever it was.

    Nothing is stored for a message in a group.
    """
    if not is_private(update):
        return
    async with context.services.db.read() as repos:  # writes only when there is something new
        await touch(repos, update, context.services)


async def start(update: Update, context: BotContext) -> None:
    """Greet the user and say what the bot does and how to stay safe."""
    assert update.effective_message and update.effective_user
    async with context.services.db.transaction() as repos:
        await touch(repos, update, context.services)
    await update.effective_message.reply_text(render.welcome(update.effective_user.first_name or ""))


async def safety_command(update: Update, context: BotContext) -> None:
    """The warning signs, when to get which help, and how to exercise safely."""
    assert update.effective_message
    await update.effective_message.reply_text(safety.safety_text(context.services.catalogue.guidance))


async def help_command(update: Update, context: BotContext) -> None:
    """List every command."""
    assert update.effective_message
    await _remember(update, context)
    await update.effective_message.reply_text(render.help_text())


async def exercises(update: Update, context: BotContext) -> None:
    """The whole catalogue, grouped by kind."""
    assert update.effective_message
    await _remember(update, context)
    await update.effective_message.reply_text(render.catalogue_list(context.services.catalogue))


async def stretch(update: Update, context: BotContext) -> None:
    """Full instructions for one exercise, found forgivingly by name."""
    assert update.effective_message
    await _remember(update, context)
    query = " ".join(context.args or []).strip()
    if not query:
        await update.effective_message.reply_text(render.stretch_usage())
        return
    await _show_exercise(update, context, query)


async def stretch_link(update: Update, context: BotContext) -> None:
    """The tappable form from /exercises: /stretch_knee_to_chest."""
    assert update.effective_message and update.effective_message.text
    command = update.effective_message.text.split()[0].split("@")[0]
    await _remember(update, context)
    await _show_exercise(update, context, command.removeprefix("/stretch_").replace("_", "-"))


MAX_QUERY = 200
"""No exercise name is longer; a longer query (a pasted essay) is not looked up, only answered."""


async def _show_exercise(update: Update, context: BotContext, query: str) -> None:
    assert update.effective_message
    found = context.services.index.find(query) if len(query) <= MAX_QUERY else LookupResult(None)
    message = update.effective_message
    if found.exercise is None:
        await message.reply_text(render.not_found(query, found.suggestions))
        return
    text = render.exercise_detail(found.exercise)
    pictures = context.services.pictures
    if pictures is None:
        await message.reply_text(text)
        return
    # the picture with the instructions as its caption (or followed by them, when they are too long)
    thread = {"message_thread_id": message.message_thread_id} if message.is_topic_message else {}
    await pictures.send_exercise_picture(context.bot, message.chat_id, found.exercise, caption=text, **thread)


async def routine(update: Update, context: BotContext) -> None:
    """Today's routine with its doses and a Start button (it only reads: ``Database.read``)."""
    assert update.effective_message
    services = context.services
    problem: str | None = None
    async with services.db.read() as repos:
        user = await touch(repos, update, services)
        try:
            plan, done = await todays_plan(repos, user, services)
        except PlanningError as exc:
            problem = str(exc)
    if problem is not None:  # replied after the unit of work: no request while it is open
        await update.effective_message.reply_text(problem)
        return
    await update.effective_message.reply_text(
        render.routine_message(plan, done_today=done), reply_markup=render.routine_keyboard()
    )


async def unknown_command(update: Update, context: BotContext) -> None:
    """Any command the bot does not have."""
    assert update.effective_message and update.effective_message.text
    await _remember(update, context)
    command = update.effective_message.text.split()[0].split("@")[0]
    await update.effective_message.reply_text(render.unknown_command(command))


async def free_text(update: Update, context: BotContext) -> None:
    """Text that is not a command (a bare pain score is handled before this)."""
    assert update.effective_message
    await _remember(update, context)
    await update.effective_message.reply_text(render.free_text())
