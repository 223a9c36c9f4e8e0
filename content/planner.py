"""The routine planner: a pure, deterministic function of (catalogue, user, local date, options).

A routine is balanced: it covers bending forward (flexion), arching or twisting (extension or
mobility), the hips and buttocks, and core strength, before any extra exercise is added. The same
user gets the same routine all day, and a different mix on other days.

``adapt`` turns the user's history into the day's mode (NICE NG59, a physiotherapist's review):

- gentle whenever ``bot.domain.progress.escalation`` finds anything (the same assessment the reply
  to a pain score uses, so the two never disagree);
- progress, one step of the dose range per good week in a row, otherwise;
- and for 7 days after something hurt, no exercise that loads the same movement direction.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

from bot.domain.progress import LOW, MEANINGFUL_POINTS, DayScore, Escalation, escalation, reason_words
from content.catalogue import Catalogue, Exercise, Sides

Mode = Literal["balanced", "gentle", "progress"]
Focus = Literal["both", "flexibility", "strength"]

LEAD_IN_SECONDS = 10
"""Time to get into position before an exercise's first hold."""
SWITCH_SECONDS = 5
"""Time to change sides between the two halves of an each-side exercise."""
MANUAL_REP_SECONDS = 3
"""Estimated time of one repetition of an exercise with no timed hold."""
MIN_EXERCISES = 4
MAX_EXERCISES = 8
DEFAULT_MINUTES = 12.5
GENTLE_SHARE = 0.7
"""A gentle day's share of the usual session length."""

LEVEL_STEP = 0.25
"""One step up the articles' dose range: a quarter of it."""
_LEVEL: dict[Mode, float] = {"gentle": 0.0, "balanced": 0.25}
"""Where in the dose range a mode lands; progress is a step above balanced per good week."""
HURT_DAYS = 7
"""After something hurt, its movement directions are left out for this many days (that day included)."""
GOOD_WEEK_SESSION_DAYS = 5
GOOD_WEEK_SCORES = 3
# Lying down first, standing last: nobody has to get up and down more than once.
_POSITION_ORDER = ("lying", "side_lying", "prone", "all_fours", "kneeling", "seated", "standing", "any")
_GENTLE_POSITIONS = frozenset({"lying", "side_lying", "prone"})

Slot = frozenset[str]
_FLEXION: Slot = frozenset({"flexion"})
_EXT_OR_MOBILITY: Slot = frozenset({"extension", "rotation"})
_HIP: Slot = frozenset({"hip"})
_CORE: Slot = frozenset({"core"})
_SLOTS: dict[Focus, tuple[Slot, ...]] = {
    "both": (_FLEXION, _EXT_OR_MOBILITY, _HIP, _CORE),
    "flexibility": (_FLEXION, _EXT_OR_MOBILITY, _HIP, _EXT_OR_MOBILITY),
    "strength": (_CORE, _CORE, _HIP, _FLEXION | _EXT_OR_MOBILITY),
}

GENTLE_DAY = "fewer, easier stretches lying down, shorter holds and no strength work"
GOOD_WEEK = "sessions on at least 5 days, low pain and nothing hurt"
REASONS: dict[Mode, str] = {
    "balanced": "A balanced mix: bending, arching or twisting, hips and core.",
    "gentle": f"Today is a gentle day: {GENTLE_DAY}.",
    "progress": (
        f"A good week ({GOOD_WEEK}), so one step up: slightly longer holds and more repetitions, "
        "as time allows, with extra strength work."
    ),
}
"""The reason line when there is nothing more specific to say (``plan_routine`` names the cause)."""
DIRECTION_WORDS: dict[str, str] = {
    "flexion": "forward-bending",
    "extension": "arching",
    "rotation": "twisting",
}


_NOTHING_TO_ESCALATE = Escalation()


class PlanningError(ValueError):
    """No routine can be built with these options; the message says why, for the user."""


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What shapes a routine besides the day: the user's settings and the adaptive mode."""

    minutes: float = DEFAULT_MINUTES
    mode: Mode = "balanced"
    focus: Focus = "both"
    excluded_ids: frozenset[str] = frozenset()
    excluded_positions: frozenset[str] = frozenset()
    avoid_directions: frozenset[str] = frozenset()
    """Movement directions to leave out (flexion, extension, rotation): something that loads them hurt
    in the last week. Relaxed as little as possible when too few exercises would be left."""
    escalation: Escalation = _NOTHING_TO_ESCALATE
    """Why the day is gentle: the same assessment the reply to the last pain score used."""
    good_weeks: int = 0
    """Good weeks in a row, ending today: the progress mode goes up one step of the range per week."""

    @property
    def level(self) -> float:
        """Where in the articles' dose range today lands (0 = low end, 1 = high end).

        Progress is one step above balanced per good week in a row, capped at the top: never a jump.
        """
        if self.mode == "progress":
            return min(1.0, _LEVEL["balanced"] + LEVEL_STEP * max(1, self.good_weeks))
        return _LEVEL[self.mode]

    @property
    def budget_seconds(self) -> tuple[int, int]:
        """The accepted length of a routine: about the target, give or take a fifth."""
        return round(self.minutes * 60 * 0.8), round(self.minutes * 60 * 1.2)


@dataclass(frozen=True, slots=True)
class RoutineItem:
    """One exercise in a routine with the dose chosen for today."""

    exercise: Exercise
    hold_seconds: int | None
    reps: int
    sides: Sides
    rest_seconds: int

    @property
    def side_count(self) -> int:
        return 2 if self.sides == "each" else 1

    @property
    def seconds(self) -> int:
        """Estimated length, matching the guided session's timeline."""
        if self.hold_seconds is None:
            per_side = self.reps * MANUAL_REP_SECONDS
        else:
            per_side = self.reps * self.hold_seconds + (self.reps - 1) * self.rest_seconds
        return LEAD_IN_SECONDS + self.side_count * per_side + (self.side_count - 1) * SWITCH_SECONDS


def dose_item(exercise: Exercise, level: float) -> RoutineItem:
    """The exercise at ``level`` (0 = low end of the articles' range, 1 = high end)."""
    dose = exercise.dose
    if dose.reps is None:
        raise PlanningError(f"{exercise.name} has no repetitions and cannot be part of a routine")
    hold = dose.hold_seconds.pick(level) if dose.hold_seconds else None
    return RoutineItem(exercise, hold, dose.reps.pick(level), dose.sides, dose.rest_seconds)


@dataclass(frozen=True, slots=True)
class Routine:
    """Today's routine for one user."""

    local_date: date
    items: tuple[RoutineItem, ...]
    mode: Mode = "balanced"
    reason: str = field(default=REASONS["balanced"])

    @property
    def seconds(self) -> int:
        return sum(item.seconds for item in self.items)

    @property
    def minutes(self) -> int:
        return max(1, round(self.seconds / 60))

    @property
    def exercise_ids(self) -> tuple[str, ...]:
        return tuple(item.exercise.id for item in self.items)


def _seed(user_id: int, day: date) -> int:
    digest = hashlib.sha256(f"backstretch:{user_id}:{day.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def candidate_pool(catalogue: Catalogue, options: PlanOptions) -> list[Exercise]:
    """The exercises this user can be given today, in catalogue order."""
    return _pool(catalogue, options)[0]


def _pool(catalogue: Catalogue, options: PlanOptions) -> tuple[list[Exercise], frozenset[str], bool]:
    """The pool, the avoided directions that were fully left out, and whether some had to stay in."""
    pool = _settings_pool(catalogue, options)
    kept, avoided = _avoiding(pool, options.avoid_directions)
    return kept, avoided, avoided != options.avoid_directions


def _avoiding(pool: list[Exercise], avoid: frozenset[str]) -> tuple[list[Exercise], frozenset[str]]:
    """Leave out exercises loading ``avoid`` directions, as many directions as still leaves a routine.

    The largest set of directions that leaves MIN_EXERCISES wins (then the one leaving most); when
    not even one direction can go, the exercises loading the fewest avoided directions fill up to
    MIN_EXERCISES and nothing is fully avoided. Never fails: the result is as long as the pool
    or MIN_EXERCISES.
    """
    if not avoid or len(pool) < MIN_EXERCISES:
        return pool, frozenset()
    for size in range(len(avoid), 0, -1):
        best: list[Exercise] | None = None
        best_set: frozenset[str] = frozenset()
        for subset in itertools.combinations(sorted(avoid), size):
            kept = [e for e in pool if not e.directions & set(subset)]
            if len(kept) >= MIN_EXERCISES and (best is None or len(kept) > len(best)):
                best, best_set = kept, frozenset(subset)
        if best is not None:
            return best, best_set
    ranked = sorted(pool, key=lambda e: len(e.directions & avoid))  # stable: catalogue order among equals
    kept_ids = {e.id for e in ranked[:MIN_EXERCISES]}
    return [e for e in pool if e.id in kept_ids], frozenset()


def _settings_pool(catalogue: Catalogue, options: PlanOptions) -> list[Exercise]:
    pool = [
        e
        for e in catalogue.routine_exercises
        if e.id not in options.excluded_ids and e.position not in options.excluded_positions
    ]
    if options.mode == "gentle":
        pool = [
            e
            for e in pool
            if e.intensity == "gentle" and e.kind != "strength" and e.position in _GENTLE_POSITIONS
        ]
    elif options.focus == "flexibility":
        pool = [e for e in pool if e.kind != "strength"]
    return pool


@functools.lru_cache(maxsize=4096)
def plan_routine(
    catalogue: Catalogue, user_id: int, local_date: date, options: PlanOptions = PlanOptions()
) -> Routine:
    """Build today's routine; raises PlanningError when the options leave too little to choose from.

    Pure, and all its inputs are immutable: the same inputs always give the same routine, so the last
    few thousand are remembered (a routine is asked for by /routine, its reminder and its session)."""
    rng = random.Random(_seed(user_id, local_date))
    pool, avoided, relaxed = _pool(catalogue, options)
    low, high = options.budget_seconds
    if options.mode == "gentle":  # a gentle day is a shorter one
        low, high = round(low * GENTLE_SHARE), round(high * GENTLE_SHARE)
    level = options.level
    wanted = MIN_EXERCISES
    if len(pool) < wanted:
        raise PlanningError(
            f"Your settings leave only {len(pool)} exercise{'s' if len(pool) != 1 else ''} to choose from; "
            f"a routine needs at least {wanted}. Put some back in /settings."
        )

    chosen: list[Exercise] = []
    slots = _SLOTS[options.focus]
    if options.mode == "gentle":
        slots = (_FLEXION, _EXT_OR_MOBILITY, _HIP)
    elif options.mode == "progress" and options.focus != "flexibility":
        slots = (*slots, _CORE)  # progressing means extra strength work
    for slot in slots:
        options_for_slot = [e for e in pool if e.pattern in slot and e not in chosen]
        if options_for_slot:
            chosen.append(rng.choice(options_for_slot))

    extras = [e for e in pool if e not in chosen]
    rng.shuffle(extras)
    if options.mode == "progress" or options.focus == "strength":
        extras.sort(key=lambda e: e.kind != "strength")  # stable: strength first, still shuffled
    max_count = MIN_EXERCISES if options.mode == "gentle" else MAX_EXERCISES
    for variety in (True, False):  # at most two of a kind, unless nothing else is left
        for exercise in extras:
            total = sum(dose_item(e, level).seconds for e in chosen)
            if len(chosen) >= max_count or (total >= low and len(chosen) >= MIN_EXERCISES):
                break
            if exercise in chosen or (variety and _pattern_count(chosen, exercise) >= 2):
                continue
            if total + dose_item(exercise, level).seconds <= high or len(chosen) < MIN_EXERCISES:
                chosen.append(exercise)

    items = _fit([dose_item(e, level) for e in chosen], level, high)
    ordered = sorted(
        items, key=lambda i: (_POSITION_ORDER.index(i.exercise.position), chosen.index(i.exercise))
    )
    reason = reason_line(options, local_date, avoided, relaxed)
    return Routine(local_date, tuple(ordered), options.mode, reason)


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:]


def _and(words: Iterable[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _direction_words(directions: Iterable[str]) -> str:
    return _and(DIRECTION_WORDS.get(d, d) for d in sorted(directions))


def reason_line(
    options: PlanOptions, local_date: date, avoided: frozenset[str] = frozenset(), relaxed: bool = False
) -> str:
    """The routine's one-line reason, naming the actual cause (never a claim the scores don't back)."""
    parts: list[str] = []
    if options.mode == "gentle":
        reasons = options.escalation.reasons
        if reasons:
            cause = _sentence(reason_words(reasons[0], local_date))
            parts.append(f"{cause}, so this is a gentle day: {GENTLE_DAY}.")
        else:
            parts.append(REASONS["gentle"])
    elif options.mode == "progress":
        parts.append(_progress_reason(options))
    elif not options.avoid_directions:
        parts.append(REASONS["balanced"])
    if options.avoid_directions:
        if avoided:
            line = f"Something hurt recently, so this week leaves out {_direction_words(avoided)} movements"
            rest = options.avoid_directions - avoided
            if rest:
                line += (
                    f"; there weren't enough other exercises to leave out {_direction_words(rest)} "
                    "ones too, so go extra gently with those"
                )
            parts.append(line + ".")
        elif relaxed:
            parts.append(
                "Something hurt recently, but there weren't enough other exercises to leave out "
                f"{_direction_words(options.avoid_directions)} movements this week, so go extra gently "
                "with those."
            )
    return " ".join(parts)


def _progress_reason(options: PlanOptions) -> str:
    weeks = max(1, options.good_weeks)
    more = "slightly longer holds and more repetitions, as time allows"
    if options.focus != "flexibility":
        more += ", with extra strength work"
    good = f"A good week ({GOOD_WEEK})" if weeks == 1 else f"{weeks} good weeks in a row ({GOOD_WEEK})"
    if options.level >= 1.0:
        top = "holds and repetitions at the top of the usual range, as time allows"
        if options.focus != "flexibility":
            top += ", with extra strength work"
        return f"{good}, so {top}."
    step = "one step up" if weeks == 1 else "one more step up"
    return f"{good}, so {step}: {more}."


def _pattern_count(chosen: Sequence[Exercise], exercise: Exercise) -> int:
    return sum(1 for e in chosen if e.pattern == exercise.pattern)


def _fit(items: list[RoutineItem], level: float, high: int) -> list[RoutineItem]:
    """Shorten doses, then drop the last extras, until the routine fits the time budget."""
    step = level
    while sum(i.seconds for i in items) > high and step > 0:
        step = max(0.0, step - 0.25)
        items = [dose_item(i.exercise, step) for i in items]
    while sum(i.seconds for i in items) > high and len(items) > MIN_EXERCISES:
        items = items[:-1]
    while sum(i.seconds for i in items) > high:
        longest = max(items, key=lambda i: i.seconds)
        if longest.reps <= 1:
            break
        items = [replace(i, reps=i.reps - 1) if i is longest else i for i in items]
    return items


Hurt = tuple[str, date]
"""An exercise that hurt, and the user's local day it last did."""


@dataclass(frozen=True, slots=True)
class Adaptation:
    """The day's mode and everything behind it (``adapt``)."""

    mode: Mode
    escalation: Escalation
    good_weeks: int
    recently_hurt: frozenset[str]
    """Exercises that hurt in the last HURT_DAYS days."""


def recently_hurt(hurts: Iterable[Hurt], today: date) -> frozenset[str]:
    """The exercises that hurt on one of the last HURT_DAYS days (today included)."""
    return frozenset(i for i, day in hurts if 0 <= (today - day).days < HURT_DAYS)


def avoid_directions(catalogue: Catalogue, exercise_ids: Iterable[str]) -> frozenset[str]:
    """Every movement direction these exercises load (what their relatives share)."""
    directions: set[str] = set()
    for exercise_id in exercise_ids:
        exercise = catalogue.get(exercise_id)
        if exercise is not None:
            directions |= exercise.directions
    return frozenset(directions)


def good_week(
    scores: Sequence[DayScore], counted_days: Iterable[date], hurt_days: Iterable[date], end: date
) -> bool:
    """The 7 days ending on ``end`` earn a step up.

    Sessions on at least 5 of those days, at least 3 scores, all 3 or lower, nothing hurt, no rising
    trend (the last score 2 or more above the first), and nothing to escalate at ``end``.
    """
    start = end - timedelta(days=6)
    if len({d for d in counted_days if start <= d <= end}) < GOOD_WEEK_SESSION_DAYS:
        return False
    if any(start <= d <= end for d in hurt_days):
        return False
    week = [v for d, v in scores if start <= d <= end]
    if len(week) < GOOD_WEEK_SCORES or max(week) > LOW or week[-1] - week[0] >= MEANINGFUL_POINTS:
        return False
    return not escalation([s for s in scores if s[0] <= end], end).reasons


def good_weeks(
    scores: Sequence[DayScore], counted_days: Iterable[date], hurt_days: Iterable[date], today: date
) -> int:
    """Good weeks in a row, the last one ending today (any week that isn't good resets the count)."""
    days, hurts = list(counted_days), list(hurt_days)
    count, end = 0, today
    while good_week(scores, days, hurts, end):
        count += 1
        end -= timedelta(days=7)
    return count


def adapt(
    scores: Sequence[DayScore], counted_days: Iterable[date], today: date, hurts: Sequence[Hurt] = ()
) -> Adaptation:
    """The adaptive mode from recent pain scores (chronological), session days and hurts.

    - gentle: ``escalation`` found something (a recent score of 7+, a rise of 3+, 7+ on 3 of 5 days,
      a steady climb, or no improvement after 6 weeks);
    - progress: one or more good weeks in a row ending today (``good_week``), one step each;
    - balanced otherwise.
    """
    found = escalation(scores, today)
    weeks = 0 if found.gentle else good_weeks(scores, counted_days, [d for _, d in hurts], today)
    mode: Mode = "gentle" if found.gentle else "progress" if weeks else "balanced"
    return Adaptation(mode, found, weeks, recently_hurt(hurts, today))


def choose_mode(
    scores: Sequence[DayScore], counted_days: Sequence[date], today: date, hurts: Sequence[Hurt] = ()
) -> Mode:
    """The adaptive mode (``adapt``) alone."""
    return adapt(scores, counted_days, today, hurts).mode
