"""Pain scores: meaningful change, the professional-advice rule, weekly averages and trend words.

Escalation and the planner's adaptation have their own tables in test_escalation.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.progress import (
    WARNING_SIGNS,
    Change,
    Direction,
    Score,
    compare,
    compare_to_baseline,
    pain_feedback,
    pain_trend,
    trend_words,
    weekly_averages,
    weekly_counts,
)

TODAY = date(2026, 11, 24)


def score(days_ago: int, value: int, hour: int = 9) -> Score:
    day = TODAY - timedelta(days=days_ago)
    return Score(datetime(day.year, day.month, day.day, hour, tzinfo=UTC), day, value)


@pytest.mark.parametrize(
    ("previous", "current", "meaningful", "direction"),
    [
        (6, 4, True, "better"),  # 2 points
        (10, 8, True, "better"),  # 2 points, only 20%
        (10, 9, False, "better"),  # 1 point
        (6, 5, False, "better"),  # 1 point
        (4, 3, False, "better"),  # 1 point
        (3, 2, False, "better"),  # 1 point, 33%: day to day the 30% rule does not apply
        (2, 1, False, "better"),  # 50%, still only 1 point
        (1, 0, False, "better"),  # 100%, still only 1 point
        (4, 6, True, "worse"),  # 2 points
        (4, 5, False, "worse"),
        (3, 4, False, "worse"),  # 33%, 1 point
        (5, 5, False, "same"),
        (0, 0, False, "same"),
        (0, 1, False, "worse"),
        (0, 2, True, "worse"),
        (0, 3, True, "worse"),
    ],
)
def test_meaningful_change(previous: int, current: int, meaningful: bool, direction: Direction) -> None:
    assert compare(previous, current) == Change(current - previous, meaningful, direction)


@pytest.mark.parametrize(
    ("baseline", "current", "meaningful"),
    [
        (7, 4, True),  # 3 points, 43%
        (6, 4, True),  # 2 points, 33%
        (8, 6, False),  # 2 points but only 25%: not yet a meaningful improvement over weeks
        (10, 8, False),  # 20%
        (10, 7, True),  # 30%
        (3, 2, False),  # 1 point is never meaningful, 33% or not
        (5, 7, True),  # worse by 2 points counts, whatever the share
        (8, 10, True),
        (5, 6, False),
        (4, 4, False),
    ],
)
def test_meaningful_change_from_the_baseline(baseline: int, current: int, meaningful: bool) -> None:
    change = compare_to_baseline(baseline, current)
    assert change.delta == current - baseline and change.meaningful is meaningful


def test_compare_without_history() -> None:
    assert compare(None, 5) is None


def test_feedback_against_last_and_first_week() -> None:
    scores = [score(20, 7), score(18, 7), score(15, 8), score(1, 5), score(0, 3)]
    feedback = pain_feedback(scores, TODAY)
    assert feedback.latest == 3 and not feedback.high and not feedback.see_professional
    assert feedback.change_from_last == Change(-2, True, "better")
    assert feedback.change_from_first_week == Change(-4, True, "better")  # baseline mean 7.3 → 7
    assert feedback.praise and feedback.today == TODAY
    assert pain_feedback(scores[:2], TODAY).change_from_first_week is None
    assert pain_feedback(scores[:1], TODAY).change_from_last is None


def test_first_week_baseline_is_rounded_half_up_and_needs_seven_days() -> None:
    first_week = [score(10, 4), score(9, 5)]  # mean 4.5 → 5
    assert pain_feedback([*first_week, score(3, 3)], TODAY).change_from_first_week == Change(
        -2, True, "better"
    )
    assert pain_feedback([*first_week, score(4, 3)], TODAY).change_from_first_week is None  # day 6
    week_later = pain_feedback([*first_week, score(4, 4), score(3, 5)], TODAY)  # day 6 is in the baseline
    assert week_later.change_from_first_week == Change(1, False, "worse")  # mean 4.33 → 4


def test_high_on_three_of_five_days_advises_a_professional() -> None:
    assert pain_feedback([score(2, 8), score(1, 9), score(0, 8)], TODAY).see_professional
    assert pain_feedback([score(4, 8), score(2, 9), score(0, 7)], TODAY).see_professional  # with gaps
    assert not pain_feedback([score(5, 8), score(2, 9), score(0, 8)], TODAY).see_professional  # 6 days
    assert not pain_feedback([score(1, 9), score(0, 8)], TODAY).see_professional  # only two days
    assert pain_feedback([score(2, 7), score(1, 7), score(0, 7)], TODAY).see_professional
    assert pain_feedback([score(2, 7), score(1, 7), score(0, 7)], TODAY).high
    assert not pain_feedback([score(0, 6)], TODAY).high


def test_the_highest_score_of_each_day_counts() -> None:
    scores = [score(2, 9, hour=8), score(2, 5, hour=20), score(1, 4, hour=8), score(1, 8, hour=20)]
    assert pain_feedback([*scores, score(0, 7)], TODAY).see_professional
    assert not pain_feedback([*scores, score(0, 6)], TODAY).see_professional


def test_a_big_rise_advises_a_professional_whatever_the_new_value() -> None:
    assert pain_feedback([score(1, 4), score(0, 7)], TODAY).see_professional  # +3 to 7
    assert pain_feedback([score(1, 5), score(0, 8)], TODAY).see_professional
    assert pain_feedback([score(1, 3), score(0, 6)], TODAY).see_professional  # +3, below 7 too
    assert pain_feedback([score(1, 0), score(0, 3)], TODAY).see_professional
    assert not pain_feedback([score(1, 4), score(0, 6)], TODAY).see_professional  # +2
    assert not pain_feedback([score(0, 9)], TODAY).see_professional  # first score: no rise, one day
    assert pain_feedback([score(0, 9)], TODAY).escalation.gentle  # but the routine is gentle


def test_feedback_carries_the_weekly_trend() -> None:
    scores = [score(10, 6), score(9, 6), score(8, 6), score(2, 4), score(1, 4), score(0, 4)]
    assert pain_feedback(scores, TODAY).trend == trend_words(4.0, 6.0, counts=(3, 3))
    assert "doing better" in pain_feedback(scores, TODAY).trend
    assert "Not enough" in pain_feedback(scores[:-1], TODAY).trend  # two scores this week


def test_feedback_needs_a_score() -> None:
    with pytest.raises(ValueError):
        pain_feedback([], TODAY)


def test_scores_are_checked() -> None:
    with pytest.raises(ValueError):
        score(0, 11)
    with pytest.raises(ValueError):
        score(0, -1)
    with pytest.raises(ValueError):
        Score(datetime(2026, 11, 24, 9), TODAY, 5)  # noqa: DTZ001 - naive on purpose


def test_weekly_averages_windows() -> None:
    scores = [score(14, 10), score(13, 6), score(8, 6), score(7, 5), score(6, 4), score(3, 4), score(0, 3)]
    assert weekly_averages(scores, TODAY) == (3.7, 5.7)  # 11/3 and 17/3, to one decimal
    assert weekly_averages([score(0, 5)], TODAY) == (5.0, None)
    assert weekly_averages([score(9, 5)], TODAY) == (None, 5.0)
    assert weekly_averages([], TODAY) == (None, None)
    assert weekly_averages([score(-1, 9), score(0, 3)], TODAY) == (3.0, None)  # nothing after today
    assert weekly_counts(scores, TODAY) == (3, 3)
    assert weekly_counts([score(-1, 9), score(0, 3), score(20, 3)], TODAY) == (1, 0)


def test_weekly_averages_and_words() -> None:
    scores = [score(10, 6), score(9, 7), score(8, 5), score(3, 4), score(1, 4), score(0, 3)]
    this_week, last_week = weekly_averages(scores, TODAY)
    assert (this_week, last_week) == (3.7, 6.0)
    assert pain_trend(scores, TODAY) == "Your back is doing better: average down from 6.0 to 3.7."


@pytest.mark.parametrize(
    ("counts", "start"),
    [
        ((2, 5), "Not enough scores this week for a trend yet: 2 so far"),
        ((1, 0), "Not enough scores this week for a trend yet: 1 so far"),
        ((3, 2), "Not enough history yet for a trend"),
        ((5, 0), "Not enough history yet for a trend"),
        ((3, 3), "Your back is doing better"),
    ],
)
def test_a_trend_needs_three_scores_in_each_week(counts: tuple[int, int], start: str) -> None:
    assert trend_words(3.0, 6.0, counts=counts).startswith(start)


@pytest.mark.parametrize(
    ("this_week", "last_week", "words"),
    [
        (None, None, "No pain scores yet — answer the question after a session, or send /pain 0-10."),
        (None, 4.0, "No scores this week yet — send /pain 0-10 to keep the trend going."),
        (
            4.0,
            None,
            "Not enough history yet for a trend: it needs at least 3 scores in each of two weeks.",
        ),
        (4.0, 6.0, "Your back is doing better: average down from 6.0 to 4.0."),
        (
            4.2,
            6.2,
            "Your back is doing better: average down from 6.2 to 4.2.",
        ),  # 2 points despite float noise
        (3.5, 5.0, "Steady: about the same as the week before (average 5.0, now 3.5)."),  # 30%, 1.5 points
        (4.3, 6.0, "Steady: about the same as the week before (average 6.0, now 4.3)."),
        (6.5, 4.0, "Your pain is up this week: average up from 4.0 to 6.5. Keep it gentle."),
        (4.6, 5.0, "Steady: about the same as the week before (average 5.0, now 4.6)."),
        (0.9, 0.0, "Steady: about the same as the week before (average 0.0, now 0.9)."),
    ],
)
def test_trend_words(this_week: float | None, last_week: float | None, words: str) -> None:
    counts = (0 if this_week is None else 3, 0 if last_week is None else 3)
    assert trend_words(this_week, last_week, counts=counts) == words


def test_warning_signs_cover_the_red_flags() -> None:
    text = " ".join(WARNING_SIGNS)
    words = ("saddle", "groin", "bladder", "bowel", "weakness", "legs", "fever", "fall", "night", "worse")
    assert [w for w in words if w not in text] == []


@given(st.integers(0, 10), st.integers(0, 10))
def test_compare_is_consistent(previous: int, current: int) -> None:
    change = compare(previous, current)
    assert change.delta == current - previous
    assert (change.direction == "same") == (previous == current)
    assert change.meaningful == (abs(change.delta) >= 2)  # day to day: 2 points, never 30%
    baseline = compare_to_baseline(previous, current)
    assert baseline.delta == change.delta and baseline.direction == change.direction
    assert not baseline.meaningful or change.meaningful  # the baseline rule is never looser
    if abs(change.delta) == 1:
        assert not baseline.meaningful
