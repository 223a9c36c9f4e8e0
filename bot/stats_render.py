"""Replies about progress: the answer to a pain score, and /stats."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from telegram import InlineKeyboardMarkup

from bot import safety
from bot.callbacks import Action
from bot.domain.progress import (
    HIGH,
    Change,
    PainFeedback,
    Score,
    reason_words,
    trend_words,
    weekly_averages,
    weekly_counts,
    when_words,
)
from bot.domain.streaks import days_this_week, streak_phrase, streak_summary
from bot.render import button, keyboard

WHEN_TO_BOOK = {"soon": "in the next few days", "routine": "in the next couple of weeks"}
"""How soon to book a GP or physiotherapist, by ``Escalation.urgency``."""


def _points(delta: int) -> str:
    points = abs(delta)
    return f"{points} point{'s' if points != 1 else ''}"


def _change_line(label: str, earlier: str, change: Change, *, cheer: bool) -> str:
    """E.g. "Since last time (3): about the same." — the earlier score in brackets, no signed numbers."""
    head = f"{label} ({earlier})"
    if not change.meaningful:
        return f"{head}: about the same."
    if change.direction == "better":
        return f"{head}: {_points(change.delta)} better" + (" 👍" if cheer else ".")
    return f"{head}: {_points(change.delta)} worse."


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:]


def pain_reply(feedback: PainFeedback) -> str:
    """The answer to a pain score: how it compares, and what to do. Praise only for a low score that
    is not meaningfully worse; escalation says which help, how soon, and points to /safety."""
    escalation, today = feedback.escalation, feedback.today
    last, first = feedback.change_from_last, feedback.change_from_first_week
    cheer = not escalation.reasons and not (last is not None and last.delta > 0)  # no 👍 next to a rise
    lines = [f"Noted: your back is at <b>{feedback.latest}</b>/10 today."]
    if last is not None:
        lines.append(_change_line("Since last time", str(feedback.latest - last.delta), last, cheer=cheer))
    if first is not None:
        earlier = f"about {feedback.latest - first.delta}"
        lines.append(_change_line("Since your first week", earlier, first, cheer=cheer))

    if escalation.see_professional:
        lines.append("")
        lines.extend(
            f"⚠️ <b>{_sentence(reason_words(r, today))}.</b>" for r in escalation.professional_reasons
        )
        lines.append(
            "Please book an appointment with your GP or a physiotherapist "
            f"{WHEN_TO_BOOK.get(escalation.urgency, WHEN_TO_BOOK['soon'])} to have your back checked. "
            "Until then your routine will be a gentle one: only stretches that feel easy, and stop "
            "anything that gives you sharp pain."
        )
        lines += ["", safety.EMERGENCY_LINE, safety.POINTER]
    elif feedback.high:
        lines.append(
            "\nThat's a high score, so your routines will be gentle ones for the next couple of days: "
            "only stretches that feel easy, and stop anything that gives you sharp pain. If it stays at "
            f"{HIGH} or more for a few days, book an appointment with your GP or a physiotherapist."
        )
        lines.append(safety.POINTER)
    elif escalation.gentle:  # a recent high score, fading
        high = escalation.reasons[0]
        lines.append(
            f"\nYou scored {high.values[0]} {when_words(high.day, today)}, so your routines stay gentle "
            "for a couple of days. " + safety.POINTER
        )
    elif feedback.praise:
        lines.append("\nGood to hear. Regular gentle stretching on good days helps keep it that way.")
    elif last is not None and last.meaningfully_worse:
        lines.append(
            "\nSorry it's worse today. Keep your session gentle and stop anything that gives you sharp pain."
        )
    return "\n".join(lines)


def stats_text(
    days: Iterable[date],
    *,
    completed_total: int,
    scores: Sequence[Score],
    today: date,
    frozen: Sequence[tuple[date, date]] = (),
) -> str:
    days = list(days)
    streak = streak_summary(days, today, frozen)
    this_week, last_week = weekly_averages(scores, today)
    this_count, last_count = weekly_counts(scores, today)
    current = streak_phrase(streak.current) if streak.current else "none yet — today is a good day to start"
    lines = [
        "<b>Your progress</b>",
        f"🔥 Current streak: {current}",
        f"🏆 Best streak: {streak_phrase(streak.best) or '0 days'}",
        f"✅ Sessions: {days_this_week(days, today)} day{'s' if days_this_week(days, today) != 1 else ''} this week, "
        f"{completed_total} in all",
    ]
    if scores:
        lines.append(f"🩺 Last pain score: {scores[-1].value}/10 ({scores[-1].day:%a %d %b})")
    if this_week is not None:
        before = f"{last_week:.1f}" if last_week is not None else "—"
        lines.append(
            f"📊 7-day average: {this_week:.1f} from {_scores(this_count)} (the 7 days before: {before})"
        )
    lines.append("")
    lines.append(trend_words(this_week, last_week, counts=(this_count, last_count)))
    return "\n".join(lines)


def _scores(count: int) -> str:
    return f"{count} score{'s' if count != 1 else ''}"


def stats_keyboard() -> InlineKeyboardMarkup:
    return keyboard([button("📈 Progress chart", Action("progress"))])
