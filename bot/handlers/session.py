"""/session, the session's buttons, pain scores (/pain, buttons, a bare number) and /stats."""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta

from telegram import Message, Update

from bot import session_render as view
from bot import stats_render
from bot.callbacks import Action
from bot.context import BotContext, Services
from bot.domain.progress import Score, pain_feedback
from bot.handlers import data, settings
from bot.parsing import parse_int
from bot.runner import SessionRunner
from bot.text import MESSAGE_LIMIT, fit, visible_length
from bot.users import PlanningError, frozen_ranges, today, todays_routine, touch
from storage.repositories import LatestSession

PAIN_USAGE = "Send a whole number from 0 to 10, for example /pain 3.\n0 = no pain, 10 = worst imaginable. Nothing was saved."
OPEN_QUESTION = timedelta(hours=6)
"""A bare number answers the after-session question for this long; later it is just a score."""


def _runner(services: Services) -> SessionRunner:
    assert services.runner is not None
    return services.runner


async def session_command(update: Update, context: BotContext) -> None:
    """Start today's routine as a guided session, or offer to continue the one that is running."""
    await _start_or_offer(update, context)


async def _start_or_offer(update: Update, context: BotContext) -> None:
    runner = _runner(context.services)
    assert update.effective_user is not None
    # one at a time per user, on every instance: two taps on Start start one session
    async with runner.locks.hold(update.effective_user.id):
        await _start_or_offer_locked(update, context, runner)


async def _start_or_offer_locked(update: Update, context: BotContext, runner: SessionRunner) -> None:
    services = context.services
    assert update.effective_chat is not None and update.effective_user is not None
    live = await runner.live_for(update.effective_user.id)
    if live is not None and await runner.is_from_an_earlier_day(live):
        await runner.abandon(live)  # yesterday's session is closed, not offered back
        live = None
    if live is not None:
        await context.bot.send_message(
            update.effective_chat.id,
            view.live_session_text(live),
            reply_markup=view.live_session_keyboard(live),
        )
        return
    async with services.db.transaction() as repos:
        user = await touch(repos, update, services)
        try:
            routine = await todays_routine(repos, user, services)
        except PlanningError as exc:
            await context.bot.send_message(update.effective_chat.id, str(exc))
            return
    await runner.start(user, update.effective_chat.id, routine)


async def on_button(update: Update, context: BotContext) -> None:
    """Every inline button: decode it, act, and always answer the tap."""
    query = update.callback_query
    assert query is not None
    action = Action.decode(query.data)
    if action is None:
        await query.answer("That button is from an older version of me. Send /help to start again.")
        return
    message = query.message
    if not isinstance(message, Message) or not message.is_accessible or message.chat.type != "private":
        # an inline message, a message too old for Telegram to send along, or a group's message
        await query.answer(
            "That button only works on a recent message in our private chat. Send /help there."
        )
        return
    services = context.services
    notice = ""
    if action.kind == "start":
        await query.answer("Starting…")
        await _start_or_offer(update, context)
        return
    if action.kind == "restart":
        runner = _runner(services)
        live = await runner.get(action.ref)
        if live is not None and live.user_id != query.from_user.id:
            await query.answer("These buttons belong to someone else's session.")
            return
        if live is not None:
            await runner.abandon(live)
        await query.answer("Starting a fresh session…")
        await _start_or_offer(update, context)
        return
    if action.kind == "pain":
        notice = await _pain_button(update, context, action)
    elif action.kind in (
        "pause",
        "resume",
        "skip",
        "stop",
        "hurt",
        "hurt_go",
        "hurt_stop",
        "done",
        "continue",
    ):
        notice = await _runner(services).act(query.from_user.id, action)
        if action.kind == "hurt" and not notice:
            await _flag_hurt(update, context, action)
    elif action.kind == "snooze":
        assert services.reminders is not None
        notice = await services.reminders.snooze(query.from_user.id, action.ref)
    elif action.kind == "settings":
        notice = await settings.on_settings_button(update, context, action)
    elif action.kind == "forget":
        notice = await data.on_forget_button(update, context, action)
    elif action.kind in ("stats", "progress"):
        await query.answer()
        await (stats if action.kind == "stats" else data.progress)(update, context)
        return
    else:
        notice = "That button doesn't do anything yet."
    await query.answer(notice or None)


async def _flag_hurt(update: Update, context: BotContext, action: Action) -> None:
    """Remember which exercise hurt, so the planner can leave it out."""
    services = context.services
    assert update.effective_user is not None
    async with services.db.transaction() as repos:
        row = await repos.sessions.get(update.effective_user.id, action.ref)
        items = row.state.get("routine", []) if row is not None else []
        index = parse_int(action.arg, 0, len(items) - 1)
        if index is None:
            return
        exercise_id = items[index]["id"]
        await repos.flags.hurt(update.effective_user.id, exercise_id, services.clock.now())


async def _pain_button(update: Update, context: BotContext, action: Action) -> str:
    query = update.callback_query
    assert query is not None and query.message is not None
    score = _parse_score(action.arg)
    if score is None:
        return "That isn't a score from 0 to 10. Nothing was saved."
    services = context.services
    async with services.db.transaction() as repos:
        session = await repos.sessions.get(query.from_user.id, action.ref)
        if session is None:
            return "That session isn't yours or no longer exists."
        if await repos.pain.for_session(query.from_user.id, session.id) is not None:
            return "You've already answered for this session. /pain logs another score."
    await _record_pain(update, context, score, session_id=action.ref)
    asked = query.message.text_html if isinstance(query.message, Message) and query.message.text else ""
    answered = f"\n\n✅ You answered <b>{score}</b>/10."
    await query.edit_message_text(
        (fit(asked, MESSAGE_LIMIT - visible_length(answered)) + answered).strip(), reply_markup=None
    )
    return ""


async def pain_command(update: Update, context: BotContext) -> None:
    """/pain N logs a score at any time."""
    assert update.effective_message
    args = context.args or []
    if len(args) != 1:
        await update.effective_message.reply_text(PAIN_USAGE)
        return
    score = _parse_score(args[0])
    if score is None:
        await update.effective_message.reply_text(PAIN_USAGE)
        return
    await _record_pain(update, context, score, session_id=None)


async def bare_number(update: Update, context: BotContext) -> None:
    """A bare number sent as text answers the pain question."""
    assert update.effective_message and update.effective_message.text
    score = _parse_score(update.effective_message.text)
    if score is None:
        await update.effective_message.reply_text(PAIN_USAGE)
        return
    await _record_pain(update, context, score, session_id=None, answer_open_question=True)


def _parse_score(text: str) -> int | None:
    """A pain score 0-10 in ASCII digits ('3', ' 07 '); None for anything else."""
    return parse_int(text, 0, 10)


async def _record_pain(
    update: Update,
    context: BotContext,
    score: int,
    *,
    session_id: int | None,
    answer_open_question: bool = False,
) -> None:
    services = context.services
    assert update.effective_chat is not None
    now = services.clock.now()
    # read first, then one INSERT: on SQLite the write turn is held for one statement, not three (this
    # chat's updates run one at a time, so nothing of this user changes in between)
    async with services.db.read() as reader:
        user = await touch(reader, update, services)
        day = today(user, services)
        history, latest = await reader.pain.scores_and_latest_session(user.id)
    if answer_open_question and session_id is None:
        session_id = open_question(latest, now)
    async with services.db.transaction() as repos:
        await repos.pain.record(user.id, score, at=now, local_date=day, session_id=session_id)
    scores = with_score(
        [Score(at, local_day, value) for at, local_day, value in history], Score(now, day, score)
    )
    feedback = pain_feedback(scores, day)
    await context.bot.send_message(update.effective_chat.id, stats_render.pain_reply(feedback))


def open_question(latest: LatestSession | None, now: datetime) -> int | None:
    """The user's latest ended session, if it ended in the last few hours and its question is unanswered."""
    if latest is None or latest.answered or now - latest.ended_at > OPEN_QUESTION:
        return None
    return latest.id


def with_score(scores: list[Score], new: Score) -> list[Score]:
    """``scores`` (ordered as stored: by time, then as recorded) with ``new``, just recorded, in its place."""
    place = bisect.bisect_right([s.at for s in scores], new.at)
    return [*scores[:place], new, *scores[place:]]


async def stats(update: Update, context: BotContext) -> None:
    """/stats: streak, sessions, pain and the trend in words."""
    services = context.services
    assert update.effective_chat is not None
    async with services.db.read() as repos:
        user = await touch(repos, update, services)
        day = today(user, services)
        per_day = await repos.sessions.counted_per_day(user.id)
        frozen = frozen_ranges(user)
        history = await repos.pain.scores(user.id)
    scores = [Score(at, local_day, value) for at, local_day, value in history]
    await context.bot.send_message(
        update.effective_chat.id,
        stats_render.stats_text(
            list(per_day), completed_total=sum(per_day.values()), scores=scores, today=day, frozen=frozen
        ),
        reply_markup=stats_render.stats_keyboard(),
    )


__all__ = ["bare_number", "on_button", "pain_command", "session_command", "stats"]
