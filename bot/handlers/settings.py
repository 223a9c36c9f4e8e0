"""/settings (session length, focus, exercises to leave out) and /break (pause without losing the streak)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update

from bot.callbacks import Action
from bot.context import BotContext, Services
from bot.parsing import parse_int
from bot.render import button, keyboard
from bot.text import ANSWER_LIMIT, escape, excerpt, fit, fit_plain, plain
from bot.users import end_break, options_from_settings, today, touch
from content.lookup import LookupResult
from content.planner import PlanningError, plan_routine
from storage.models import User

LENGTHS = {"len5": 5.0, "len10": 10.0, "len15": 15.0}
FOCUS = {"fboth": "both", "fflexibility": "flexibility", "fstrength": "strength"}
KNEELING = ["kneeling", "all_fours"]
MAX_BREAK_DAYS = 30
BREAK_USAGE = (
    "Take a planned break of 1 to 30 days, e.g. /break 7. Reminders pause and your streak stays frozen "
    "until the break ends or you come back early. /break off ends it."
)
MAX_NAME = 200
"""No exercise name is longer: a longer one is not looked up."""
SETTINGS_HELP = (
    "To leave out one exercise: /settings leave out bird dog\nTo bring it back: /settings bring back bird dog"
)


def settings_text(user: User, services: Services, hurt: set[str]) -> str:
    s = user.settings or {}
    minutes = s.get("minutes")
    length = f"about {int(minutes)} minutes" if minutes else "about 10–15 minutes (default)"
    focus = {"both": "flexibility and strength", "flexibility": "flexibility", "strength": "strength"}[
        s.get("focus", "both")
    ]
    kneeling = "left out" if s.get("positions_out") else "included"
    left_out = [
        escape(services.catalogue[e].name) + (" (it hurt)" if e in hurt else "")
        for e in sorted(set(s.get("excluded", [])) | hurt)
        if services.catalogue.get(e)
    ]
    lines = [
        "⚙️ <b>Your settings</b>",
        f"• Session length: {length}",
        f"• Focus: {focus}",
        f"• Kneeling and hands-and-knees exercises: {kneeling}",
        f"• Left out: {', '.join(left_out) if left_out else 'nothing'}",
        "",
        SETTINGS_HELP,
    ]
    return "\n".join(lines)


def settings_keyboard(user: User, services: Services, hurt: set[str]) -> InlineKeyboardMarkup:
    s = user.settings or {}

    def mark(label: str, on: bool) -> str:
        return f"✓ {label}" if on else label

    rows: list[list[Any]] = [
        [
            button(mark(f"{int(v)} min", s.get("minutes") == v), Action("settings", user.id, k))
            for k, v in LENGTHS.items()
        ],
        [
            button(mark(label, s.get("focus", "both") == FOCUS[k]), Action("settings", user.id, k))
            for k, label in (("fflexibility", "Flexibility"), ("fstrength", "Strength"), ("fboth", "Both"))
        ],
        [
            button("🦵 Allow kneeling", Action("settings", user.id, "kneel1"))
            if s.get("positions_out")
            else button("🦵 No kneeling", Action("settings", user.id, "kneel0"))
        ],
    ]
    for exercise_id in sorted(set(s.get("excluded", [])) | hurt)[:6]:
        exercise = services.catalogue.get(exercise_id)
        if exercise is not None:
            rows.append(
                [button(f"↩ Bring back {exercise.name}", Action("settings", user.id, f"b.{exercise_id}"))]
            )
    return keyboard(*rows)


async def settings(update: Update, context: BotContext) -> None:
    """Show the settings with buttons; `/settings leave out NAME` and `/settings bring back NAME` edit one exercise."""
    assert update.effective_message
    services = context.services
    args = " ".join(context.args or []).strip()
    async with services.db.transaction() as repos:
        user = await touch(repos, update, services)
        hurt = await repos.flags.ids(user.id)
        notice = ""
        if args:
            lowered = args.lower()
            verb = next(
                (v for v in ("leave out", "bring back", "skip", "restore") if lowered.startswith(v)), None
            )
            name = args[len(verb) :].strip() if verb else ""
            found = None
            if name:
                found = services.index.find(name) if len(name) <= MAX_NAME else LookupResult(None)
            if verb is None or found is None or found.exercise is None:
                hint = (
                    f"I couldn't find “{excerpt(name)}”, so nothing changed. "
                    if name and found and found.exercise is None
                    else ""
                )
                await update.effective_message.reply_text(fit(hint + SETTINGS_HELP))
                return
            exercise = found.exercise
            excluded = set((user.settings or {}).get("excluded", []))
            if verb in ("leave out", "skip"):
                excluded.add(exercise.id)
            else:
                excluded.discard(exercise.id)
                await repos.flags.clear(user.id, exercise.id)
                hurt.discard(exercise.id)
            problem = _check(services, user, {"excluded": sorted(excluded)}, hurt, today(user, services))
            if problem:
                await update.effective_message.reply_text(problem)
                return
            await repos.users.update_settings(user, excluded=sorted(excluded))
            notice = f"{'Left out' if verb in ('leave out', 'skip') else 'Brought back'}: {escape(exercise.name)}.\n\n"
        text = notice + settings_text(user, services, hurt)
        markup = settings_keyboard(user, services, hurt)
    await update.effective_message.reply_text(text, reply_markup=markup)


def _check(services: Services, user: User, changes: dict[str, Any], hurt: set[str], day: date) -> str | None:
    """A change that would leave too few exercises is refused with the planner's reason."""
    options = options_from_settings({**(user.settings or {}), **changes}, hurt)
    try:
        plan_routine(services.catalogue, user.id, day, options)
    except PlanningError as exc:
        return f"I can't change that: {exc}"
    return None


async def on_settings_button(update: Update, context: BotContext, action: Action) -> str:
    query = update.callback_query
    assert query is not None
    services = context.services
    arg = action.arg
    if action.ref != query.from_user.id:
        return "These buttons belong to someone else."
    async with services.db.transaction() as repos:
        user = await touch(repos, update, services)
        hurt = await repos.flags.ids(user.id)
        changes: dict[str, Any]
        if arg in LENGTHS:
            changes = {"minutes": LENGTHS[arg]}
        elif arg in FOCUS:
            changes = {"focus": FOCUS[arg]}
        elif arg in ("kneel0", "kneel1"):
            changes = {"positions_out": KNEELING if arg == "kneel0" else []}
        elif arg.startswith("b."):
            exercise_id = arg[2:]
            changes = {"excluded": [e for e in (user.settings or {}).get("excluded", []) if e != exercise_id]}
            await repos.flags.clear(user.id, exercise_id)
            hurt.discard(exercise_id)
        else:
            return "That button doesn't do anything here."
        problem = _check(services, user, changes, hurt, today(user, services))
        if problem:
            return fit_plain(problem, ANSWER_LIMIT)
        await repos.users.update_settings(user, **changes)
        text, markup = settings_text(user, services, hurt), settings_keyboard(user, services, hurt)
    message = query.message
    shows_it_already = (
        isinstance(message, Message) and message.text == plain(text) and message.reply_markup == markup
    )  # a second tap on the same choice: Telegram refuses an edit that changes nothing
    if message is not None and not shows_it_already:
        await query.edit_message_text(text, reply_markup=markup)
    return "Saved."


async def break_command(update: Update, context: BotContext) -> None:
    """/break N: pause reminders and freeze the streak for N days; /break off ends it."""
    assert update.effective_message
    services = context.services
    args = context.args or []
    async with services.db.transaction() as repos:
        user = await touch(repos, update, services)
        day = today(user, services)
        if user.break_until is not None and user.break_until < day:
            end_break(user, day)  # a break that ran out by itself
        if not args:
            if user.break_until is not None:
                text = f"You're on a break until {user.break_until:%a %d %b}. /break off ends it early."
            else:
                text = BREAK_USAGE
        elif len(args) == 1 and args[0].lower() in ("off", "end", "stop", "over"):
            if user.break_until is None:
                text = "You're not on a break. " + BREAK_USAGE
            else:
                end_break(user, day)
                text = "Welcome back! Your break is over, your streak is waiting, and reminders are back on."
        elif len(args) == 1 and (days := parse_int(args[0], 1, MAX_BREAK_DAYS)) is not None:
            if user.break_started is None:
                user.break_started = day
            user.break_until = day + timedelta(days=days - 1)
            text = (
                f"🌴 Break until {user.break_until:%a %d %b} ({days} day{'s' if days != 1 else ''}). "
                "Reminders pause and your streak stays frozen. Come back any time: a session ends the break early, "
                "or send /break off."
            )
        else:
            text = "That isn't a number of days from 1 to 30. Nothing was saved.\n" + BREAK_USAGE
    await update.effective_message.reply_text(text)
