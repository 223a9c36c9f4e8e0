"""What a guided session looks like in the chat: the exercise card, transitions, the end."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup

from bot import safety
from bot.callbacks import Action
from bot.domain.session import COUNTED_HOLD_SECONDS, Phase
from bot.domain.streaks import StreakSummary, streak_phrase
from bot.render import button, dose_today, keyboard
from bot.text import escape
from content.planner import RoutineItem

if TYPE_CHECKING:
    from bot.runner import Live

BAR_CELLS = 10


def clock_text(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def progress_bar(left: int, total: int) -> str:
    if total <= 0:
        return ""
    filled = round(BAR_CELLS * (total - left) / total)
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def side_label(item: RoutineItem, phase: Phase) -> str:
    if item.sides != "each":
        return ""
    return "first side" if phase.side == 0 else "second side"


def phase_line(item: RoutineItem, phase: Phase) -> str:
    """What to do right now, e.g. 'Hold · rep 2 of 3 · second side'."""
    side = side_label(item, phase)
    suffix = f" · {side}" if side else ""
    if phase.kind == "lead_in":
        return "Get into position"
    if phase.kind == "hold":
        return f"Hold · {phase.rep} of {item.reps}{suffix}"
    if phase.kind == "rest":
        return f"Rest · {phase.rep} of {item.reps} next{suffix}"
    if phase.kind == "switch":
        return "Switch sides"
    return f"{item.reps} slow movements at your own pace{suffix}, then tap ✅ Done"


def tip_for(live: Live, tips: Sequence[str]) -> str | None:
    """One short tip per exercise, rotating through the general advice (stable while it lasts)."""
    if not tips:
        return None
    return tips[(live.id + live.state.item) % len(tips)]


def card_text(live: Live, now: datetime, tips: Sequence[str] = ()) -> str:
    state, item = live.state, live.current
    phase = state.phase
    exercise = item.exercise
    lines = [
        f"<b>{state.item + 1}/{state.item_count} · {escape(exercise.name)}</b>",
        f"<i>{escape(dose_today(item))}</i>",
    ]
    lines.extend(f"• {escape(cue)}" for cue in exercise.cues)
    if exercise.card_caution:
        lines.append(f"⚠️ {escape(exercise.card_caution)}")
    if phase.kind == "lead_in":
        lines.append(f"\n{escape(exercise.start)}")
        tip = tip_for(live, tips)
        if tip:
            lines.append(f"💡 <i>{escape(tip)}</i>")
    lines.append(f"\n<b>{escape(phase_line(item, phase))}</b>")
    if state.waiting_after_hurt:
        lines.append("⏸ Paused — it hurt. Choose below what to do next.")
    elif phase.timed:
        left = state.remaining(now)
        status = "⏸ Paused · " if state.status == "paused" else "⏱ "
        lines.append(f"{status}<b>{clock_text(left)}</b> left  {progress_bar(left, phase.seconds)}")
    elif state.status == "paused":
        lines.append("⏸ Paused")
    return "\n".join(lines)


def card_keyboard(live: Live) -> InlineKeyboardMarkup | None:
    state = live.state
    sid, item = live.id, str(state.item)
    if state.waiting_after_hurt:
        return None  # the choice is on the message below the card
    first = []
    if not state.phase.timed:
        first.append(button("✅ Done", Action("done", sid, str(state.index))))
    if state.status == "paused":
        first.append(button("▶ Resume", Action("resume", sid)))
    else:
        first.append(button("⏸ Pause", Action("pause", sid)))
    return keyboard(
        first,
        [button("⏭ Skip", Action("skip", sid, item)), button("⏹ Stop", Action("stop", sid))],
        [button("😣 It hurts", Action("hurt", sid, item))],
    )


def closed_card_text(live: Live, index: int) -> str:
    state = live.state
    name = escape(live.routine.items[index].exercise.name)
    if index in state.hurt:
        mark = "😣 stopped — it hurt"
    elif index in state.skipped:
        mark = "⏭ skipped"
    elif state.status == "stopped" and index == state.item:
        mark = "⏹ stopped"
    else:
        mark = "✅ done"
    return f"<b>{index + 1}/{state.item_count} · {name}</b> — {mark}"


def transition_text(live: Live) -> str:
    """A short message that makes the phone buzz: the hold ended, the sides switch, a rest is over."""
    item, phase = live.current, live.state.phase
    if phase.kind == "hold":
        side = f", {side_label(item, phase)}" if item.sides == "each" else ""
        text = f"💪 Hold — {phase.rep} of {item.reps}{side}"
        if phase.seconds <= COUNTED_HOLD_SECONDS:  # counted: the rest after it has no message
            text += f"\nCount to {phase.seconds}, then let go"
            if phase.rep < item.reps and item.rest_seconds:
                text += f" and rest {item.rest_seconds} s"
        return text
    if phase.kind == "rest":
        return f"😮‍💨 Rest {phase.seconds} s — release gently"
    if phase.kind == "switch":
        return "🔄 Switch sides"
    if phase.kind == "manual":
        return f"🔁 {item.reps} slow movements, then tap ✅ Done"
    return f"➡️ Next: {escape(item.exercise.name)}"


def hurt_text(item: RoutineItem) -> str:
    """Sent at once when 😣 It hurts is tapped; the session waits for one of the two buttons."""
    return (
        f"😣 <b>I've paused {escape(item.exercise.name)}.</b> Ease out of the position slowly and rest.\n\n"
        "Don't push into pain. Sharp, shooting or spreading pain (for example down a leg), tingling or "
        "numbness means stop for today.\n"
        f"{safety.EMERGENCY_LINE}\n\n"
        "I'll leave this exercise out of your next routines (you can bring it back in /settings). "
        "What would you like to do?"
    )


def hurt_keyboard(live: Live) -> InlineKeyboardMarkup:
    sid, item = live.id, str(live.state.item)
    return keyboard(
        [button("⏭ Skip this one and go on", Action("hurt_go", sid, item))],
        [button("⏹ Stop for today", Action("hurt_stop", sid))],
    )


PAIN_QUESTION = "<b>How is your back right now?</b>\n0 = no pain, 10 = worst imaginable"


def finished_text(live: Live, elapsed_seconds: float, streak: StreakSummary) -> str:
    state = live.state
    minutes = max(1, round(elapsed_seconds / 60))
    done = f"{state.done_items} of {state.item_count} exercises in about {minutes} min"
    if state.hurt:  # no party after pain
        lines = [f"<b>Session finished.</b> {done}, and you left out what hurt. Well listened."]
        if state.counts:
            lines.append("Today still counts for your streak.")
        lines.append("Go easy for the rest of the day. " + safety.POINTER)
    else:
        lines = [f"🎉 <b>Session done!</b> {done}."]
        if state.counts:
            phrase = streak_phrase(streak.current)
            lines.append(
                f"🔥 Streak: {phrase}." if streak.current >= 2 else "🔥 That's day 1 of your streak."
            )
        else:
            lines.append(
                "You skipped more than half of it, so it doesn't count for the streak today — that's okay."
            )
    lines.append("")
    lines.append(PAIN_QUESTION)
    return "\n".join(lines)


def stopped_text(live: Live) -> str:
    state = live.state
    if state.hurt:
        first = "⏹ <b>Stopped for today.</b> Stopping when something hurts is exactly right. "
        if state.counts:
            first += "You did some exercises first, so today still counts for your streak."
        first += (
            "\nRest, keep gently moving through the day, and if the pain stays sharp or spreads, "
            + safety.POINTER
        )
        return first + "\n\n" + PAIN_QUESTION
    return (
        "⏹ <b>Session stopped.</b> Listening to your back is always the right call. "
        "A stopped session doesn't count for the streak; /session starts a fresh one whenever you like.\n\n"
        + PAIN_QUESTION
    )


def pain_keyboard(session_id: int) -> InlineKeyboardMarkup:
    buttons = [button(str(n), Action("pain", session_id, str(n))) for n in range(11)]
    return keyboard(buttons[:6], buttons[6:])


def live_session_text(live: Live) -> str:
    return (
        f"You already have a session going: exercise {live.state.item + 1} of {live.state.item_count}, "
        f"<b>{escape(live.current.exercise.name)}</b>. Continue it, or restart with today's routine?"
    )


def live_session_keyboard(live: Live) -> InlineKeyboardMarkup:
    return keyboard(
        [button("▶ Continue", Action("continue", live.id)), button("🔁 Restart", Action("restart", live.id))]
    )
