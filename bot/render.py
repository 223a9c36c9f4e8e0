"""Message rendering: every text the bot sends, as Telegram HTML, and its inline keyboards.

Functions here are pure: they take domain objects and return strings or keyboards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import safety
from bot.callbacks import Action
from bot.text import escape, excerpt, fit
from content.catalogue import KIND_TITLES, POSITION_LABELS, Catalogue, Dose, Exercise
from content.planner import Routine, RoutineItem

COMMANDS: tuple[tuple[str, str], ...] = (
    ("routine", "Today's stretches, with a button to start"),
    ("session", "Start or continue today's guided session"),
    ("exercises", "The whole exercise catalogue"),
    ("stretch", "How to do one exercise, e.g. /stretch piriformis"),
    ("pain", "Log how your back feels, 0-10"),
    ("stats", "Your streak, sessions and pain trend"),
    ("progress", "A chart of your last 30 days"),
    ("remind", "Daily reminder, e.g. /remind 07:30 or /remind off"),
    ("timezone", "Your time zone, e.g. /timezone Europe/Berlin"),
    ("settings", "Session length, focus, exercises to leave out"),
    ("break", "Pause reminders and keep your streak, e.g. /break 7"),
    ("export", "Download your data"),
    ("forget", "Delete all your data"),
    ("safety", "Warning signs and when to get help"),
    ("help", "This list"),
)


def button(label: str, action: Action) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=action.encode())


def keyboard(*rows: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(row) for row in rows if row])


def command_link(exercise: Exercise) -> str:
    """A tappable command that opens the exercise, e.g. /stretch_knee_to_chest."""
    return "/stretch_" + exercise.id.replace("-", "_")


def welcome(first_name: str) -> str:
    name = excerpt(first_name, 64) or "there"  # Telegram allows 64 characters; a forged update more
    return fit(
        f"Hi {name}! I'm <b>Backstretch</b> 👋\n\n"
        "I help you look after your back with a short routine of stretches and gentle strength "
        "exercises every day: about 10–15 minutes, chosen fresh each day and balanced across your back, "
        "hips and core. I can time each hold for you, keep track of how your back feels, and remind you "
        "at a time that suits you.\n\n"
        f"{safety.SHORT_NOTE}\n\n"
        "<b>Try this first:</b> /routine to see today's stretches. /help lists everything I can do."
    )


def help_text() -> str:
    lines = [f"/{name} — {escape(description)}" for name, description in COMMANDS]
    return (
        "<b>What I can do</b>\n\n"
        + "\n".join(lines)
        + "\n\nStop any exercise that causes sharp pain. "
        + safety.POINTER
    )


def unknown_command(command: str) -> str:
    """``command`` is what the user typed (up to a whole message): quoted as a short excerpt."""
    return fit(f"I don't know the command {excerpt(command)}. Send /help to see what I can do.")


def free_text() -> str:
    return "I work with commands. Send /routine for today's stretches, or /help for the full list."


def times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def dose_range(dose: Dose) -> str:
    """The articles' dose, e.g. 'Hold 20–30 s · 5–10 times · each side'."""
    if dose.minutes is not None and dose.sessions_per_week is not None:
        return f"{dose.minutes} minutes at a comfortable pace, {dose.sessions_per_week} times a week"
    parts = []
    if dose.hold_seconds is not None:
        parts.append(f"hold {dose.hold_seconds} s")
    if dose.reps is not None:
        parts.append(f"{dose.reps} times" if dose.hold_seconds is not None else f"{dose.reps} slow movements")
    parts.append("each side" if dose.sides == "each" else "")
    text = " · ".join(p for p in parts if p)
    return text[:1].upper() + text[1:]


def dose_today(item: RoutineItem) -> str:
    """Today's dose, e.g. 'hold 25 s, 3 times, each side'."""
    if item.hold_seconds is None:
        text = f"{item.reps} slow movements"
    else:
        text = f"hold {item.hold_seconds} s, {times(item.reps)}"
    return text + (", each side" if item.sides == "each" else "")


def catalogue_list(catalogue: Catalogue) -> str:
    lines = ["<b>The exercise catalogue</b>", "Tap a command to see how to do an exercise."]
    for kind, title in KIND_TITLES.items():
        group = [e for e in catalogue if e.kind == kind]
        if not group:
            continue
        lines.append(f"\n<b>{escape(title)}</b>")
        lines.extend(f"• {escape(e.name)} — {command_link(e)}" for e in group)
    lines.append("\nOr type /stretch and a name, e.g. /stretch cat cow.")
    return "\n".join(lines)


def exercise_detail(exercise: Exercise) -> str:
    lines = [
        f"<b>{escape(exercise.name)}</b>",
        f"<i>{exercise.kind}"
        f" · {escape(POSITION_LABELS[exercise.position])} · {escape(', '.join(exercise.targets))}</i>",
        "",
        f"<b>Start:</b> {escape(exercise.start)}",
    ]
    lines.extend(f"{n}. {escape(step)}" for n, step in enumerate(exercise.steps, 1))
    lines.append(f"\n<b>Dose:</b> {escape(dose_range(exercise.dose))}")
    if exercise.dose.note:
        lines.append(f"<i>{escape(exercise.dose.note)}</i>")
    lines.append(f"<b>You should feel:</b> {escape(exercise.feel)}")
    lines.append("\n<b>Take care</b>")
    lines.extend(f"⚠️ {escape(c)}" for c in exercise.cautions)
    lines.append("Stop straight away if it gives you a sharp pain. " + safety.POINTER)
    return "\n".join(lines)


def not_found(query: str, suggestions: Iterable[Exercise]) -> str:
    suggestions = list(suggestions)[:3]
    text = f"I couldn't find an exercise called “{excerpt(query)}”."
    if suggestions:
        text += "\n\nDid you mean:\n" + "\n".join(
            f"• {escape(e.name)} — {command_link(e)}" for e in suggestions
        )
    return fit(text + "\n\nSend /exercises to see them all.")


def stretch_usage() -> str:
    return (
        "Tell me which exercise, for example:\n/stretch piriformis\n/stretch knee to chest\n\n"
        "Send /exercises to see the whole catalogue."
    )


def routine_message(routine: Routine, *, done_today: bool = False) -> str:
    lines = [
        f"<b>Today's routine</b> · about {routine.minutes} minutes",
        f"<i>{escape(routine.reason)}</i>",
        "",
    ]
    for n, item in enumerate(routine.items, 1):
        lines.append(
            f"{n}. <b>{escape(item.exercise.name)}</b> — {escape(dose_today(item))} · "
            f"{command_link(item.exercise)}"
        )
    lines.append("")
    if done_today:
        lines.append("✅ You've already done a session today. Another one is fine if your back enjoys it.")
    lines.append(
        "Tap ▶ Start and I'll guide you through it with timers. Stop anything that causes sharp pain "
        "and tap 😣 It hurts."
    )
    return "\n".join(lines)


def routine_keyboard() -> InlineKeyboardMarkup:
    return keyboard([button("▶ Start", Action("start"))])


def reminder_message(routine: Routine, streak: int) -> str:
    names = ", ".join(escape(item.exercise.name) for item in routine.items)
    lines = [f"☀️ <b>Time for your back</b> · about {routine.minutes} minutes", names]
    if streak >= 1:
        lines.append(
            f"🔥 You're on a {streak}-day streak. Keep it going!"
            if streak > 1
            else "🔥 One day so far — make it two!"
        )
    lines.append("Tap ▶ Start when you're ready.")
    return "\n".join(lines)


def reminder_keyboard(delivery_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [button("▶ Start", Action("start")), button("⏰ Snooze 1 h", Action("snooze", delivery_id))]
    )


NO_PROGRESS_YET = (
    "Nothing to draw yet 🙂 Finish a session with /session and answer how your back feels, "
    "or log a score with /pain 0-10. Your chart will grow from there."
)
EXPORT_CAPTION = (
    "Here is everything I keep about you: backstretch.json has it all; sessions.csv and pain_scores.csv "
    "open in any spreadsheet. /forget deletes it."
)
FORGET_QUESTION = (
    "This deletes <b>everything</b> I keep about you: your sessions, pain scores, streak, settings and "
    "reminder. It can't be undone. (Tip: /export first if you want a copy.)\n\nDelete it all?"
)
FORGET_CANCELLED = "Nothing was deleted. Your data is still here."
FORGOTTEN = "Done: everything I kept about you is deleted. If you ever want to start again, just send /start."


def forget_keyboard(user_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [
            button("🗑 Yes, delete everything", Action("forget", user_id, "yes")),
            button("Keep my data", Action("forget", user_id, "no")),
        ]
    )


def progress_caption(days_done: int, scores: Sequence[tuple[object, int]]) -> str:
    text = f"Your last 30 days: {days_done} day{'s' if days_done != 1 else ''} with a completed session"
    if scores:
        text += f", {len(scores)} pain score{'s' if len(scores) != 1 else ''}"
    return text + "."
