"""Replies about progress: the answer to a pain score, and /stats."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from telegram import InlineKeyboardMarkup

from bot.callbacks import Action
from bot.domain.progress import WARNING_SIGNS, Change, PainFeedback, Score, trend_words, weekly_averages
from bot.domain.streaks import days_this_week, streak_phrase, streak_summary
from bot.render import button, keyboard


def _change_line(label: str, change: Change | None) -> str | None:
    if change is None:
        return None
    if change.direction == "same" or not change.meaningful:
        return f"{label}: about the same ({change.delta:+g})."
    points = abs(change.delta)
    plural = "s" if points != 1 else ""
    if change.direction == "better":
        return f"{label}: {points:g} point{plural} better 👍"
    return f"{label}: {points:g} point{plural} worse."


def pain_reply(feedback: PainFeedback) -> str:
    lines = [f"Noted: your back is at <b>{feedback.latest}</b>/10 today."]
    for line in (
        _change_line("Since last time", feedback.change_from_last),
        _change_line("Since your first week", feedback.change_from_first_week),
    ):
        if line:
            lines.append(line)
    if feedback.see_professional:
        lines.append(
            "\n⚠️ <b>Your pain has been high or has jumped.</b> Please keep to gentle movement and book an "
            "appointment with a doctor or physiotherapist. Get urgent help straight away if you notice any of these:"
        )
        lines.extend(f"• {sign}" for sign in WARNING_SIGNS)
    elif feedback.high:
        lines.append(
            "\nThat's a high score. Keep today gentle: only stretches that feel easy, and stop anything that "
            "gives you a sharp pain. If it stays this high for a few days, see a professional."
        )
    elif feedback.latest <= 3:
        lines.append("\nGood to hear. Regular gentle stretching on good days helps keep it that way.")
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
        lines.append(f"📊 7-day average: {this_week:.1f} (the 7 days before: {before})")
    lines.append("")
    lines.append(trend_words(this_week, last_week))
    return "\n".join(lines)


def stats_keyboard() -> InlineKeyboardMarkup:
    return keyboard([button("📈 Progress chart", Action("progress"))])
