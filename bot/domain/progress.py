"""Pain-score arithmetic (0 = no pain, 10 = worst imaginable): changes, weekly averages, the trend in words.

A change is called an improvement only when it is clinically meaningful: at least 2 points, or at
least 30% of the earlier value, on the 0-10 scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

MEANINGFUL_POINTS = 2
MEANINGFUL_FRACTION = 0.30
HIGH = 7
SEE_PROFESSIONAL = 8
SEE_PROFESSIONAL_DAYS = 3
BIG_RISE = 3

WARNING_SIGNS: tuple[str, ...] = (
    "numbness in the groin, buttocks or inner thighs (the 'saddle' area)",
    "new trouble controlling your bladder or bowel",
    "new or worsening weakness, numbness or tingling in one or both legs",
    "fever, or feeling generally unwell, together with back pain",
    "pain after a fall, accident or other injury",
    "severe pain at night, or pain that keeps getting worse",
)


@dataclass(frozen=True, slots=True)
class Score:
    at: datetime
    day: date
    value: int


@dataclass(frozen=True, slots=True)
class Change:
    delta: float
    meaningful: bool
    direction: Literal["better", "worse", "same"]


@dataclass(frozen=True, slots=True)
class PainFeedback:
    latest: int
    change_from_last: Change | None
    change_from_first_week: Change | None
    high: bool
    see_professional: bool


def compare(previous: float | None, current: float) -> Change | None:
    """How ``current`` compares with ``previous`` (lower is better)."""
    if previous is None:
        return None
    delta = current - previous
    meaningful = abs(delta) >= MEANINGFUL_POINTS or (
        previous > 0 and abs(delta) >= MEANINGFUL_FRACTION * previous
    )
    direction: Literal["better", "worse", "same"] = (
        "same" if delta == 0 else ("better" if delta < 0 else "worse")
    )
    return Change(round(delta, 1), meaningful and delta != 0, direction)


def _daily_max(scores: Sequence[Score]) -> dict[date, int]:
    days: dict[date, int] = {}
    for score in scores:
        days[score.day] = max(score.value, days.get(score.day, 0))
    return days


def pain_feedback(scores: Sequence[Score], today: date) -> PainFeedback:
    """What to say about the newest score (the last of ``scores``, which are chronological)."""
    if not scores:
        raise ValueError("pain_feedback needs at least one score")
    latest = scores[-1]
    previous = scores[-2].value if len(scores) >= 2 else None
    first_day = scores[0].day
    baseline_scores = [s.value for s in scores if s.day < first_day + timedelta(days=7)]
    from_first_week = None
    if latest.day >= first_day + timedelta(days=7) and baseline_scores:
        from_first_week = compare(round(sum(baseline_scores) / len(baseline_scores), 1), latest.value)
    daily = _daily_max(scores)
    run = [daily.get(latest.day - timedelta(days=n)) for n in range(SEE_PROFESSIONAL_DAYS)]
    sustained = all(v is not None and v >= SEE_PROFESSIONAL for v in run)
    jumped = previous is not None and latest.value - previous >= BIG_RISE and latest.value >= HIGH
    return PainFeedback(
        latest=latest.value,
        change_from_last=compare(previous, latest.value),
        change_from_first_week=from_first_week,
        high=latest.value >= HIGH,
        see_professional=sustained or jumped,
    )


def weekly_averages(scores: Sequence[Score], today: date) -> tuple[float | None, float | None]:
    """Mean score of the last 7 local days (today included) and of the 7 days before them."""

    def mean(start: date, end: date) -> float | None:
        values = [s.value for s in scores if start <= s.day <= end]
        return round(sum(values) / len(values), 1) if values else None

    return mean(today - timedelta(days=6), today), mean(today - timedelta(days=13), today - timedelta(days=7))


def trend_words(this_week: float | None, last_week: float | None) -> str:
    """The trend in one line of plain words."""
    if this_week is None and last_week is None:
        return "No pain scores yet — answer the question after a session, or send /pain 0-10."
    if this_week is None:
        return "No scores this week yet — send /pain 0-10 to keep the trend going."
    if last_week is None:
        return "Not enough history yet for a trend."
    change = compare(last_week, this_week)
    assert change is not None
    if change.meaningful and change.direction == "better":
        return f"Your back is doing better: average down from {last_week:.1f} to {this_week:.1f}."
    if change.meaningful and change.direction == "worse":
        return f"Your pain is up this week ({last_week:.1f} → {this_week:.1f}). Keep it gentle."
    return f"Steady: about the same as the week before ({last_week:.1f} → {this_week:.1f})."
