"""What the bot says about safety: /safety, the short note in /start, and the lines other messages reuse.

Written against NICE guideline NG59 (low back pain and sciatica in over 16s) and the usual red flags
for serious spinal problems. The bot is not a clinician: it names the kind of help and how soon,
and never diagnoses.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.text import escape
from content.catalogue import Guidance

EMERGENCY_NUMBER = "your local emergency number (999 / 112 / 911)"

EMERGENCY_SIGNS: tuple[str, ...] = (
    "new trouble controlling your bladder or bowels (you can't pee, or you leak)",
    "numbness around your genitals, buttocks or inner thighs (the “saddle” area)",
    "new problems with sexual function",
    "weakness or numbness in both legs, or in a leg that is getting worse",
)
SOON_SIGNS: tuple[str, ...] = (
    "a fever, or you feel generally unwell",
    "it started after a fall, accident or injury (even a minor fall if you have osteoporosis)",
    "you are losing weight without trying",
    "you have had cancer, take steroids long term, or have a weakened immune system",
    "the pain doesn't ease at night or when you rest",
    "it is new back pain and you are under 20 or over 50",
)
ASK_FIRST: tuple[str, ...] = (
    "recent back surgery or a recent back injury",
    "pregnancy",
    "osteoporosis or a known fracture",
)

EMERGENCY_LINE = (
    "🚨 New bladder or bowel trouble, numbness between your legs, or weakness in both legs: go to the "
    f"emergency department or call {EMERGENCY_NUMBER} now."
)
"""The emergency signs in one sentence, for messages that are not /safety."""

GP_ADVICE = (
    "Please book an appointment with your GP or a physiotherapist in the next few days, and keep the "
    "exercises gentle until then."
)
"""What to do when scores are high or not improving (not an emergency)."""

POINTER = "/safety lists the warning signs and when to get help."

SHORT_NOTE = (
    "⚠️ I'm a bot, not a clinician: stop any exercise that gives you sharp pain. Bladder or bowel "
    "changes, numbness between the legs or weakness in both legs need emergency help now.\n"
    "Please read /safety before your first session."
)
"""The two-line version for /start."""


def _bullets(lines: Sequence[str]) -> list[str]:
    return [f"• {escape(line)}" for line in lines]


def safety_text(guidance: Sequence[Guidance]) -> str:
    """The whole /safety page: emergency, see a doctor soon, ask first, how to exercise safely."""
    lines = [
        "🛟 <b>Staying safe with Backstretch</b>",
        "I'm a self-help bot for adults, not a clinician: I can't examine you or diagnose anything. "
        "The good news: most back pain gets better within a few weeks, and keeping gently active is "
        "one of the best things you can do for it.",
        "",
        "🚨 <b>Emergency — go to the emergency department or call "
        f"{escape(EMERGENCY_NUMBER)} now</b> if you have back pain with:",
        *_bullets(EMERGENCY_SIGNS),
        "These can be signs of cauda equina syndrome, which needs treatment within hours, whatever "
        "your pain score.",
        "",
        "🩺 <b>See a doctor soon — today, or within 24 hours</b> — if your back pain comes with:",
        *_bullets(SOON_SIGNS),
        "",
        "✋ <b>Ask a doctor or physiotherapist before you start</b> if you have:",
        *_bullets(ASK_FIRST),
        "",
        "🧘 <b>While you exercise</b>",
        "• Stretch to a gentle pull, never into pain. Sharp, shooting or spreading pain, tingling or "
        "numbness means stop for today — tap 😣 It hurts and I'll pause.",
    ]
    lines.extend(f"• {escape(g.tip)}" for g in guidance if g.tip)
    lines += [
        "",
        "📅 <b>Book a GP or physiotherapist appointment</b> (in the next few days) if your pain isn't "
        "getting better after a few weeks, keeps getting worse, or stops you doing everyday things. "
        "I'll suggest it too when your scores say so.",
    ]
    return "\n".join(lines)


def first_session_note(guidance: Sequence[Guidance]) -> str:
    """Shown once, before a new user's first guided session."""
    tips = [g.tip for g in guidance if g.tip][:3]
    lines = [
        "👋 <b>Before your first session</b>",
        "Move slowly and stop at a gentle pull. If anything hurts, tap 😣 It hurts: I'll pause and ask "
        "what you'd like to do.",
        *_bullets(tips),
        POINTER,
    ]
    return "\n".join(lines)


__all__ = [
    "EMERGENCY_LINE",
    "GP_ADVICE",
    "POINTER",
    "SHORT_NOTE",
    "first_session_note",
    "safety_text",
]
