"""Pain-score arithmetic (0 = no pain, 10 = worst imaginable): changes, weekly averages, the trend in words.

A change is called meaningful only when it is clinically meaningful: at least 2 points, or at least
30% of the earlier value, on the 0-10 scale. Lower is better.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, overload

Direction = Literal["better", "worse", "same"]

LOWEST, HIGHEST = 0, 10
MEANINGFUL_POINTS = 2
MEANINGFUL_FRACTION = 0.30
HIGH = 7
"""A latest score at or above this is high: keep the day gentle."""
SEE_PROFESSIONAL = 8
SEE_PROFESSIONAL_DAYS = 3
"""Scores of SEE_PROFESSIONAL or more on this many consecutive days: advise a professional."""
BIG_RISE = 3
"""A rise of this many points to a high score: advise a professional."""
BASELINE_DAYS = 7

WARNING_SIGNS: tuple[str, ...] = (
    "numbness in the groin, buttocks or inner thighs (the 'saddle' area)",
    "new trouble controlling your bladder or bowel",
    "new or worsening weakness, numbness or tingling in one or both legs",
    "fever, or feeling generally unwell, together with back pain",
    "pain after a fall, accident or other injury",
    "severe pain at night, or pain that keeps getting worse",
)
"""Red flags that need urgent medical help, in plain words."""


@dataclass(frozen=True, slots=True)
class Score:
    """One pain score: when it was given (aware, UTC), the user's local date then, and the value 0-10."""

    at: datetime
    day: date
    value: int

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("Score.at must be an aware datetime")
        if not LOWEST <= self.value <= HIGHEST:
            raise ValueError(f"a pain score is {LOWEST}-{HIGHEST}, not {self.value}")


@dataclass(frozen=True, slots=True)
class Change:
    """How a score compares with an earlier one: ``delta`` = current - previous (negative is better)."""

    delta: int
    meaningful: bool
    direction: Direction


@dataclass(frozen=True, slots=True)
class PainFeedback:
    """What to say about the newest score."""

    latest: int
    change_from_last: Change | None
    """Against the score before it; None for the very first score."""
    change_from_first_week: Change | None
    """Against the rounded mean of the first week; None until the latest is 7+ days after the first."""
    high: bool
    """The latest score is HIGH (7) or more."""
    see_professional: bool
    """Three consecutive days at 8+ (ending on the latest day), or a rise of 3+ points to 7+."""
    trend: str
    """The weekly trend in words (``trend_words`` of ``weekly_averages``)."""


def _direction(delta: float) -> Direction:
    if delta == 0:
        return "same"
    return "better" if delta < 0 else "worse"


def _at_least(value: float, bound: float) -> bool:
    """``value >= bound``, forgiving float noise (0.3 * 6 is 1.7999999999999998)."""
    return value >= bound or math.isclose(value, bound, abs_tol=1e-9)


def _is_meaningful(previous: float, current: float) -> bool:
    """At least 2 points, or at least 30% of ``previous`` (when there is something to take 30% of)."""
    delta = abs(current - previous)
    if delta == 0:
        return False
    return _at_least(delta, MEANINGFUL_POINTS) or (
        previous > 0 and _at_least(delta, MEANINGFUL_FRACTION * previous)
    )


@overload
def compare(previous: None, current: int) -> None: ...
@overload
def compare(previous: int, current: int) -> Change: ...
@overload
def compare(previous: int | None, current: int) -> Change | None: ...
def compare(previous: int | None, current: int) -> Change | None:
    """How ``current`` compares with ``previous`` (lower is better); None when there is no previous."""
    if previous is None:
        return None
    delta = current - previous
    return Change(delta=delta, meaningful=_is_meaningful(previous, current), direction=_direction(delta))


def _round_half_up(value: float) -> int:
    """Half up, as people round: 4.5 → 5 (``round`` rounds half to even and gives 4)."""
    return math.floor(value + 0.5)


def _mean(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None


def _first_week_baseline(scores: Sequence[Score]) -> int | None:
    """Rounded mean of the scores in the 7 days starting on the first score's day."""
    first_day = scores[0].day
    end = first_day + timedelta(days=BASELINE_DAYS - 1)
    mean = _mean([s.value for s in scores if first_day <= s.day <= end])
    return None if mean is None else _round_half_up(mean)


def _high_days_in_a_row(scores: Sequence[Score], last_day: date) -> int:
    """How many consecutive days, ending on ``last_day``, have a daily maximum of 8 or more."""
    daily: dict[date, int] = {}
    for score in scores:
        daily[score.day] = max(score.value, daily.get(score.day, LOWEST))
    count, day = 0, last_day
    while daily.get(day, LOWEST) >= SEE_PROFESSIONAL:
        count += 1
        day -= timedelta(days=1)
    return count


def pain_feedback(scores: Sequence[Score], today: date) -> PainFeedback:
    """What to say about the newest score (the last of ``scores``, which are chronological).

    Raises ValueError when ``scores`` is empty.
    """
    if not scores:
        raise ValueError("pain_feedback needs at least one score")
    latest = scores[-1]
    previous = scores[-2].value if len(scores) >= 2 else None
    from_first_week = None
    if latest.day >= scores[0].day + timedelta(days=BASELINE_DAYS):
        from_first_week = compare(_first_week_baseline(scores), latest.value)
    sustained = _high_days_in_a_row(scores, latest.day) >= SEE_PROFESSIONAL_DAYS
    jumped = previous is not None and latest.value - previous >= BIG_RISE and latest.value >= HIGH
    return PainFeedback(
        latest=latest.value,
        change_from_last=compare(previous, latest.value),
        change_from_first_week=from_first_week,
        high=latest.value >= HIGH,
        see_professional=sustained or jumped,
        trend=trend_words(*weekly_averages(scores, today)),
    )


def weekly_averages(scores: Sequence[Score], today: date) -> tuple[float | None, float | None]:
    """Mean score (to one decimal) of the last 7 local days (today - 6 .. today) and of the 7 before."""

    def mean(start: date, end: date) -> float | None:
        average = _mean([s.value for s in scores if start <= s.day <= end])
        return None if average is None else round(average, 1)

    week = timedelta(days=7)
    this_start = today - timedelta(days=6)
    return mean(this_start, today), mean(this_start - week, today - week)


def trend_words(this_week: float | None, last_week: float | None) -> str:
    """The trend in one line of plain words (the meaningful-change rule of ``compare``)."""
    if this_week is None and last_week is None:
        return "No pain scores yet — answer the question after a session, or send /pain 0-10."
    if this_week is None:
        return "No scores this week yet — send /pain 0-10 to keep the trend going."
    if last_week is None:
        return "Not enough history yet for a trend."
    if _is_meaningful(last_week, this_week):
        if this_week < last_week:
            return f"Your back is doing better: average down from {last_week:.1f} to {this_week:.1f}."
        return f"Your pain is up this week ({last_week:.1f} → {this_week:.1f}). Keep it gentle."
    return f"Steady: about the same as the week before ({last_week:.1f} → {this_week:.1f})."
