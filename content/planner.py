"""The routine planner: a pure, deterministic function of (catalogue, user, local date, options).

A routine is balanced: it covers bending forward (flexion), arching or twisting (extension or
mobility), the hips and buttocks, and core strength, before any extra exercise is added. The same
user gets the same routine all day, and a different mix on other days.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

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

# Where in the articles' dose range a mode lands: low end, middle, high end.
_LEVEL: dict[Mode, float] = {"gentle": 0.0, "balanced": 0.25, "progress": 1.0}
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

REASONS: dict[Mode, str] = {
    "balanced": "A balanced mix: bending, arching or twisting, hips and core.",
    "gentle": (
        "Your recent scores are high, so today is a gentle day: fewer, easier stretches lying down, "
        "shorter holds and no strength work."
    ),
    "progress": ("A week of low pain and steady sessions: longer holds, more reps and extra strength work."),
}


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


def plan_routine(
    catalogue: Catalogue, user_id: int, local_date: date, options: PlanOptions = PlanOptions()
) -> Routine:
    """Build today's routine; raises PlanningError when the options leave too little to choose from."""
    rng = random.Random(_seed(user_id, local_date))
    pool = candidate_pool(catalogue, options)
    low, high = options.budget_seconds
    if options.mode == "gentle":  # a gentle day is a shorter one
        low, high = round(low * GENTLE_SHARE), round(high * GENTLE_SHARE)
    level = _LEVEL[options.mode]
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
    return Routine(local_date, tuple(ordered), options.mode, REASONS[options.mode])


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


def choose_mode(scores: Sequence[tuple[date, int]], counted_days: Sequence[date], today: date) -> Mode:
    """The adaptive mode from recent pain scores (chronological) and the days a session was completed.

    - gentle: the last score is 7 or more, or the last three scores rose by 2 points or more;
    - progress: a week of steady low pain — sessions completed on at least 5 of the last 7 days, at
      least 3 scores in that week, all 3 or lower;
    - balanced otherwise.
    """
    values = [value for _, value in scores]
    if values and values[-1] >= 7:
        return "gentle"
    last3 = values[-3:]
    if len(last3) == 3 and last3[0] < last3[1] < last3[2] and last3[2] - last3[0] >= 2:
        return "gentle"
    week_start = date.fromordinal(today.toordinal() - 6)
    week_days = {d for d in counted_days if week_start <= d <= today}
    week_scores = [value for day, value in scores if week_start <= day <= today]
    if len(week_days) >= 5 and len(week_scores) >= 3 and max(week_scores) <= 3:
        return "progress"
    return "balanced"
