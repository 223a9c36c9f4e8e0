"""Pain-score arithmetic (0 = no pain, 10 = worst imaginable): changes, weekly averages, the trend in
words, and when to escalate (a gentle routine, advice to see a GP or physiotherapist).

What counts as a meaningful change (lower is better), after NICE NG59 and the IMMPACT thresholds:

- day to day, and one week's average against the week before: at least 2 points
  (``MEANINGFUL_POINTS``). A 1-point change is "about the same", whatever the starting value;
- against the first-week baseline, over weeks: also at least 2 points, and an *improvement* must
  also be at least 30% of the baseline (``MEANINGFUL_FRACTION``). The 30% rule is never used day
  to day, and never makes a 1-point change meaningful.

``escalation`` is the one place that decides when pain needs a gentler routine and when to advise a
GP or physiotherapist; the reply to a pain score and the planner's mode both read it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, overload

Direction = Literal["better", "worse", "same"]
DayScore = tuple[date, int]
"""A pain score as the local day it was given and its value (chronological sequences of these)."""

LOWEST, HIGHEST = 0, 10
MEANINGFUL_POINTS = 2
MEANINGFUL_FRACTION = 0.30
"""Over weeks only: an improvement from the first-week baseline must also be this share of it."""
LOW = 3
"""A score at or below this is low (praise is possible, progression is possible)."""
HIGH = 7
"""A score at or above this is high: the next routines are gentle for ``FADE_DAYS`` days."""
FADE_DAYS = 3
"""A trigger on day D keeps routines gentle on D, D+1 and D+2; from D+3 it has faded."""
BIG_RISE = 3
"""A rise of this many points from the score before (whatever the new value): see a professional."""
HIGH_DAYS, HIGH_WINDOW = 3, 5
"""Scores of HIGH or more on HIGH_DAYS of the last HIGH_WINDOW days: see a professional."""
CLIMB_SCORES, CLIMB_WINDOW, CLIMB_POINTS = 3, 7, 2
"""A steady climb: at least CLIMB_SCORES days in the last CLIMB_WINDOW days, each day's score higher
than the day before's, rising CLIMB_POINTS or more in all, the last of them recent."""
NO_IMPROVEMENT_WEEKS = 6
BASELINE_DAYS = 7
MIN_TREND_SCORES = 3
"""A week's average is only compared when the week has at least this many scores."""

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

    @property
    def meaningfully_worse(self) -> bool:
        return self.meaningful and self.direction == "worse"


EscalationKind = Literal["high_days", "rise", "climb", "no_improvement", "high_score"]
Urgency = Literal["none", "routine", "soon"]


@dataclass(frozen=True, slots=True)
class EscalationReason:
    """One pattern in the scores that calls for care.

    ``day`` is the day of the score that set it off; ``values`` are the scores behind it: the high
    days' scores (high_days), before and after (rise), each day's score of the climb (climb), the
    first-week baseline and last week's rounded average (no_improvement), the score (high_score).
    ``since`` is where a climb starts, or the first score's day for no_improvement.
    """

    kind: EscalationKind
    day: date
    values: tuple[int, ...]
    since: date | None = None

    @property
    def see_professional(self) -> bool:
        """Every pattern but a single high score needs a GP or physiotherapist."""
        return self.kind != "high_score"

    @property
    def urgency(self) -> Urgency:
        """How soon to see a GP or physiotherapist: "soon" is in the next few days, "routine" in the
        next couple of weeks (no improvement, or a climb that is still at a low score)."""
        if self.kind == "high_score":
            return "none"
        if self.kind == "no_improvement" or (self.kind == "climb" and self.values[-1] <= LOW):
            return "routine"
        return "soon"


@dataclass(frozen=True, slots=True)
class Escalation:
    """What the recent scores call for, most important reason first (no reasons: nothing to do)."""

    reasons: tuple[EscalationReason, ...] = ()

    @property
    def gentle(self) -> bool:
        """The next routine is a gentle one."""
        return bool(self.reasons)

    @property
    def see_professional(self) -> bool:
        return any(r.see_professional for r in self.reasons)

    @property
    def urgency(self) -> Urgency:
        """The most urgent advice: "soon" (next few days), "routine" (next couple of weeks) or none."""
        levels: tuple[Urgency, ...] = ("none", "routine", "soon")
        return max((r.urgency for r in self.reasons), key=levels.index, default="none")

    @property
    def professional_reasons(self) -> tuple[EscalationReason, ...]:
        return tuple(r for r in self.reasons if r.see_professional)


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
    escalation: Escalation
    """The same assessment the planner uses for the next routine."""
    trend: str
    """The weekly trend in words (``pain_trend``)."""
    today: date
    """The user's local day the feedback is for (reasons say "today", "yesterday")."""

    @property
    def see_professional(self) -> bool:
        """A pattern that needs a GP or physiotherapist (see ``escalation``)."""
        return self.escalation.see_professional

    @property
    def praise(self) -> bool:
        """Worth a kind word: low, no higher than last time, not meaningfully worse than the first
        week, and nothing to escalate (never praise next to a rise)."""
        rose = self.change_from_last is not None and self.change_from_last.delta > 0
        worse = self.change_from_first_week is not None and self.change_from_first_week.meaningfully_worse
        return self.latest <= LOW and not rose and not worse and not self.escalation.reasons


def _direction(delta: float) -> Direction:
    if delta == 0:
        return "same"
    return "better" if delta < 0 else "worse"


def _at_least(value: float, bound: float) -> bool:
    """``value >= bound``, forgiving float noise (0.3 * 6 is 1.7999999999999998)."""
    return value >= bound or math.isclose(value, bound, abs_tol=1e-9)


def _is_meaningful(previous: float, current: float) -> bool:
    """Day to day and week to week: at least 2 points."""
    return _at_least(abs(current - previous), MEANINGFUL_POINTS)


def _is_meaningful_from_baseline(baseline: float, current: float) -> bool:
    """Over weeks: at least 2 points, and an improvement also at least 30% of the baseline."""
    if not _is_meaningful(baseline, current):
        return False
    return current > baseline or _at_least(baseline - current, MEANINGFUL_FRACTION * baseline)


@overload
def compare(previous: None, current: int) -> None: ...
@overload
def compare(previous: int, current: int) -> Change: ...
@overload
def compare(previous: int | None, current: int) -> Change | None: ...
def compare(previous: int | None, current: int) -> Change | None:
    """Day to day: how ``current`` compares with ``previous``; None when there is no previous."""
    if previous is None:
        return None
    delta = current - previous
    return Change(delta=delta, meaningful=_is_meaningful(previous, current), direction=_direction(delta))


def compare_to_baseline(baseline: int, current: int) -> Change:
    """Over weeks: how ``current`` compares with the first-week ``baseline`` (the 30% rule applies)."""
    delta = current - baseline
    return Change(delta, _is_meaningful_from_baseline(baseline, current), _direction(delta))


def _round_half_up(value: float) -> int:
    """Half up, as people round: 4.5 → 5 (``round`` rounds half to even and gives 4)."""
    return math.floor(value + 0.5)


def _mean(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None


def _first_week_baseline(scores: Sequence[DayScore]) -> int | None:
    """Rounded mean of the scores in the 7 days starting on the first score's day."""
    first_day = scores[0][0]
    end = first_day + timedelta(days=BASELINE_DAYS - 1)
    mean = _mean([value for day, value in scores if first_day <= day <= end])
    return None if mean is None else _round_half_up(mean)


def _pairs(scores: Iterable[Score]) -> list[DayScore]:
    return [(s.day, s.value) for s in scores]


def _daily_max(scores: Iterable[DayScore]) -> dict[date, int]:
    """Each day's highest score (the worst of the day counts)."""
    daily: dict[date, int] = {}
    for day, value in scores:
        daily[day] = max(value, daily.get(day, LOWEST))
    return daily


def _recent(day: date, today: date) -> bool:
    return 0 <= (today - day).days < FADE_DAYS


def _climb(daily: dict[date, int], today: date) -> list[DayScore] | None:
    """The steady climb ending on the latest scored day of the last week, if there is one."""
    start = today - timedelta(days=CLIMB_WINDOW - 1)
    series = sorted((d, v) for d, v in daily.items() if start <= d <= today)
    if not series or not _recent(series[-1][0], today):
        return None
    run = [series[-1]]
    for day_score in reversed(series[:-1]):
        if day_score[1] >= run[0][1]:
            break
        run.insert(0, day_score)
    if len(run) >= CLIMB_SCORES and run[-1][1] - run[0][1] >= CLIMB_POINTS:
        return run
    return None


def _no_improvement(scores: Sequence[DayScore], today: date) -> EscalationReason | None:
    """Six weeks of scores, and last week is no meaningful improvement on the first (and not low)."""
    first_day = scores[0][0]
    if (scores[-1][0] - first_day).days < NO_IMPROVEMENT_WEEKS * 7:
        return None
    baseline = _first_week_baseline(scores)
    last_week = _mean([v for d, v in scores if today - timedelta(days=6) <= d <= today])
    if baseline is None or last_week is None or last_week <= LOW:
        return None  # low pain that stays low is not a worry
    if _is_meaningful_from_baseline(baseline, last_week) and last_week < baseline:
        return None
    return EscalationReason("no_improvement", scores[-1][0], (baseline, _round_half_up(last_week)), first_day)


def escalation(scores: Sequence[DayScore], today: date) -> Escalation:
    """What the scores up to ``today`` (chronological ``(day, value)`` pairs) call for.

    Each of these makes the next routine gentle and needs a GP or physiotherapist:

    - high_days: a score of 7 or more on 3 of the last 5 days (today included);
    - rise: the latest score is 3 or more points above the one before it, whatever its value, and was
      given in the last 3 days;
    - climb: on at least 3 days of the last 7, each day's (highest) score is higher than the day
      before's, 2 points or more in all, the last of them in the last 3 days;
    - no_improvement: scores span 6 weeks or more, and the last 7 days' average is still above 3 and
      not meaningfully better than the first-week baseline (2 points and 30%).

    A single score of 7 or more (high_score) only makes routines gentle, for 3 days (that day and the
    two after), unless another high score follows.
    """
    scores = [(d, v) for d, v in scores if d <= today]
    if not scores:
        return Escalation()
    reasons: list[EscalationReason] = []
    daily = _daily_max(scores)

    window = [today - timedelta(days=n) for n in range(HIGH_WINDOW - 1, -1, -1)]
    high_days = [d for d in window if daily.get(d, LOWEST) >= HIGH]
    if len(high_days) >= HIGH_DAYS:
        reasons.append(EscalationReason("high_days", high_days[-1], tuple(daily[d] for d in high_days)))

    if len(scores) >= 2:
        (_, before), (day, after) = scores[-2], scores[-1]
        if after - before >= BIG_RISE and _recent(day, today):
            reasons.append(EscalationReason("rise", day, (before, after)))

    climb = _climb(daily, today)
    if climb is not None:
        reasons.append(EscalationReason("climb", climb[-1][0], tuple(v for _, v in climb), climb[0][0]))

    stuck = _no_improvement(scores, today)
    if stuck is not None:
        reasons.append(stuck)

    recent_highs = [d for d, v in daily.items() if v >= HIGH and _recent(d, today)]
    if recent_highs:
        last_high = max(recent_highs)
        reasons.append(EscalationReason("high_score", last_high, (daily[last_high],)))
    return Escalation(tuple(reasons))


def when_words(day: date, today: date) -> str:
    """ "today", "yesterday" or "on Mon 23 Nov"."""
    if day == today:
        return "today"
    if day == today - timedelta(days=1):
        return "yesterday"
    return f"on {day:%a %d %b}"


def reason_words(reason: EscalationReason, today: date) -> str:
    """The reason as the end of a sentence, in plain words, e.g. "your pain went up from 2 to 6 today"."""
    values = reason.values
    if reason.kind == "high_days":
        return f"your pain was {HIGH} or more on {len(values)} of the last {HIGH_WINDOW} days"
    if reason.kind == "rise":
        return f"your pain went up from {values[0]} to {values[1]} {when_words(reason.day, today)}"
    if reason.kind == "climb":
        since = reason.since or reason.day
        steps = " → ".join(str(v) for v in values)
        return f"your pain has kept going up since {since:%a %d %b} ({steps})"
    if reason.kind == "no_improvement":
        since = reason.since or reason.day
        weeks = (reason.day - since).days // 7
        return (
            f"after {weeks} weeks your pain is no better than in your first week "
            f"(about {values[0]} then, about {values[1]} now)"
        )
    return f"you scored {values[0]} {when_words(reason.day, today)}"


def pain_feedback(scores: Sequence[Score], today: date) -> PainFeedback:
    """What to say about the newest score (the last of ``scores``, which are chronological).

    Raises ValueError when ``scores`` is empty.
    """
    if not scores:
        raise ValueError("pain_feedback needs at least one score")
    pairs = _pairs(scores)
    latest = scores[-1]
    previous = scores[-2].value if len(scores) >= 2 else None
    from_first_week = None
    if latest.day >= scores[0].day + timedelta(days=BASELINE_DAYS):
        baseline = _first_week_baseline(pairs)
        if baseline is not None:
            from_first_week = compare_to_baseline(baseline, latest.value)
    return PainFeedback(
        latest=latest.value,
        change_from_last=compare(previous, latest.value),
        change_from_first_week=from_first_week,
        high=latest.value >= HIGH,
        escalation=escalation(pairs, today),
        trend=pain_trend(scores, today),
        today=today,
    )


def _week_values(scores: Sequence[Score], today: date) -> tuple[list[int], list[int]]:
    this_start = today - timedelta(days=6)
    last_start = this_start - timedelta(days=7)
    this = [s.value for s in scores if this_start <= s.day <= today]
    last = [s.value for s in scores if last_start <= s.day < this_start]
    return this, last


def weekly_averages(scores: Sequence[Score], today: date) -> tuple[float | None, float | None]:
    """Mean score (to one decimal) of the last 7 local days (today - 6 .. today) and of the 7 before."""

    def rounded(values: Sequence[int]) -> float | None:
        mean = _mean(values)
        return None if mean is None else round(mean, 1)

    this, last = _week_values(scores, today)
    return rounded(this), rounded(last)


def weekly_counts(scores: Sequence[Score], today: date) -> tuple[int, int]:
    """How many scores the two weeks of ``weekly_averages`` hold."""
    this, last = _week_values(scores, today)
    return len(this), len(last)


def trend_words(this_week: float | None, last_week: float | None, *, counts: tuple[int, int]) -> str:
    """The trend in one line of plain words: the weeks' averages, each from ``counts`` scores.

    A week with fewer than 3 scores is not enough for a trend; a change of 2 points or more in the
    average is meaningful.
    """
    this_count, last_count = counts
    if this_week is None and last_week is None:
        return "No pain scores yet — answer the question after a session, or send /pain 0-10."
    if this_week is None:
        return "No scores this week yet — send /pain 0-10 to keep the trend going."
    if this_count < MIN_TREND_SCORES:
        return (
            f"Not enough scores this week for a trend yet: {this_count} so far, and a trend needs "
            f"at least {MIN_TREND_SCORES}."
        )
    if last_week is None or last_count < MIN_TREND_SCORES:
        return (
            f"Not enough history yet for a trend: it needs at least {MIN_TREND_SCORES} scores in each "
            "of two weeks."
        )
    if _is_meaningful(last_week, this_week):
        if this_week < last_week:
            return f"Your back is doing better: average down from {last_week:.1f} to {this_week:.1f}."
        return (
            f"Your pain is up this week: average up from {last_week:.1f} to {this_week:.1f}. Keep it gentle."
        )
    return f"Steady: about the same as the week before (average {last_week:.1f}, now {this_week:.1f})."


def pain_trend(scores: Sequence[Score], today: date) -> str:
    """``trend_words`` for these scores, as of ``today``."""
    return trend_words(*weekly_averages(scores, today), counts=weekly_counts(scores, today))
