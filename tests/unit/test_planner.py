"""The routine planner: deterministic per day, varied across days, balanced, within the time budget."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.catalogue import Catalogue, load_catalogue
from content.planner import (
    MAX_EXERCISES,
    MIN_EXERCISES,
    PlanningError,
    PlanOptions,
    candidate_pool,
    plan_routine,
)

DAY = date(2026, 11, 24)
CATALOGUE = load_catalogue()
ROUTINE_IDS = sorted(e.id for e in CATALOGUE.routine_exercises)
POSITIONS = sorted({e.position for e in CATALOGUE.routine_exercises})


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return CATALOGUE


def test_same_user_same_day_same_routine(catalogue: Catalogue) -> None:
    assert plan_routine(catalogue, 42, DAY) == plan_routine(catalogue, 42, DAY)


def test_mix_changes_across_days_and_users(catalogue: Catalogue) -> None:
    week = {plan_routine(catalogue, 42, DAY + timedelta(days=n)).exercise_ids for n in range(7)}
    assert len(week) >= 5
    users = {plan_routine(catalogue, uid, DAY).exercise_ids for uid in range(1, 8)}
    assert len(users) >= 4


@pytest.mark.parametrize("user_id", range(1, 40))
def test_balanced_and_within_budget(catalogue: Catalogue, user_id: int) -> None:
    routine = plan_routine(catalogue, user_id, DAY + timedelta(days=user_id))
    patterns = {item.exercise.pattern for item in routine.items}
    assert "flexion" in patterns and "hip" in patterns and "core" in patterns
    assert patterns & {"extension", "rotation"}
    assert MIN_EXERCISES <= len(routine.items) <= MAX_EXERCISES
    assert 10 * 60 <= routine.seconds <= 15 * 60, routine.seconds
    assert len(set(routine.exercise_ids)) == len(routine.items)
    assert all(not item.exercise.is_cardio for item in routine.items)


def test_routine_starts_lying_down(catalogue: Catalogue) -> None:
    order = ("lying", "side_lying", "prone", "all_fours", "kneeling", "seated", "standing", "any")
    for n in range(10):
        positions = [order.index(i.exercise.position) for i in plan_routine(catalogue, n, DAY).items]
        assert positions == sorted(positions)


def test_gentle_day_is_short_easy_and_lying(catalogue: Catalogue) -> None:
    routine = plan_routine(catalogue, 7, DAY, PlanOptions(mode="gentle"))
    assert all(i.exercise.kind != "strength" and i.exercise.intensity == "gentle" for i in routine.items)
    assert len(routine.items) <= 5
    assert "gentle" in routine.reason


def test_exclusions_are_honoured_and_too_few_says_why(catalogue: Catalogue) -> None:
    options = PlanOptions(excluded_positions=frozenset({"kneeling", "all_fours"}))
    routine = plan_routine(catalogue, 3, DAY, options)
    assert all(i.exercise.position not in ("kneeling", "all_fours") for i in routine.items)
    everything = frozenset(e.id for e in catalogue.routine_exercises)
    with pytest.raises(PlanningError, match="at least 4"):
        plan_routine(catalogue, 3, DAY, PlanOptions(excluded_ids=everything))


@settings(max_examples=150, deadline=None)
@given(
    user_id=st.integers(min_value=1, max_value=2**40),
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 1, 1)),
    minutes=st.sampled_from([5.0, 10.0, 12.5, 15.0]),
    mode=st.sampled_from(["balanced", "gentle", "progress"]),
    focus=st.sampled_from(["both", "flexibility", "strength"]),
    excluded=st.sets(st.sampled_from(ROUTINE_IDS), max_size=8),
    positions=st.sets(st.sampled_from(POSITIONS), max_size=3),
)
def test_any_options_give_a_valid_routine_or_a_reason(
    user_id: int, day: date, minutes: float, mode: str, focus: str, excluded: set[str], positions: set[str]
) -> None:
    options = PlanOptions(
        minutes=minutes,
        mode=mode,  # type: ignore[arg-type]
        focus=focus,  # type: ignore[arg-type]
        excluded_ids=frozenset(excluded),
        excluded_positions=frozenset(positions),
    )
    try:
        routine = plan_routine(CATALOGUE, user_id, day, options)
    except PlanningError as exc:
        assert len(candidate_pool(CATALOGUE, options)) < MIN_EXERCISES
        assert "/settings" in str(exc)
        return
    assert MIN_EXERCISES <= len(routine.items) <= MAX_EXERCISES
    assert not set(routine.exercise_ids) & excluded
    assert all(i.exercise.position not in positions for i in routine.items)
    assert routine.seconds <= options.budget_seconds[1] or all(i.reps == 1 for i in routine.items)
    assert len(set(routine.exercise_ids)) == len(routine.items)
