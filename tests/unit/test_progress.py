"""Pain scores: meaningful change, the professional-advice rule, weekly averages and trend words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.progress import WARNING_SIGNS, Score, compare, pain_feedback, trend_words, weekly_averages

TODAY = date(2026, 11, 24)


def score(days_ago: int, value: int) -> Score:
    day = TODAY - timedelta(days=days_ago)
    return Score(datetime(day.year, day.month, day.day, 9, tzinfo=UTC), day, value)


@pytest.mark.parametrize(
    ("previous", "current", "meaningful", "direction"),
    [
        (6, 4, True, "better"),  # 2 points
        (6, 5, False, "better"),  # 1 point, 17%
        (3, 2, True, "better"),  # 1 point but 33%
        (10, 8, True, "better"),
        (4, 6, True, "worse"),
        (5, 5, False, "same"),
        (0, 1, False, "worse"),  # 1 point up from nothing: not yet meaningful
    ],
)
def test_meaningful_change(previous: int, current: int, meaningful: bool, direction: str) -> None:
    change = compare(previous, current)
    assert change is not None and change.meaningful is meaningful and change.direction == direction


def test_compare_without_history() -> None:
    assert compare(None, 5) is None


def test_feedback_against_last_and_first_week() -> None:
    scores = [score(20, 7), score(18, 7), score(15, 8), score(1, 5), score(0, 3)]
    feedback = pain_feedback(scores, TODAY)
    assert feedback.latest == 3 and not feedback.high and not feedback.see_professional
    assert feedback.change_from_last is not None and feedback.change_from_last.delta == -2
    assert (
        feedback.change_from_first_week is not None and feedback.change_from_first_week.direction == "better"
    )
    assert pain_feedback(scores[:2], TODAY).change_from_first_week is None


def test_three_high_days_in_a_row_advise_a_professional() -> None:
    assert pain_feedback([score(2, 8), score(1, 9), score(0, 8)], TODAY).see_professional
    assert not pain_feedback([score(3, 8), score(1, 9), score(0, 8)], TODAY).see_professional  # a gap
    assert not pain_feedback([score(2, 7), score(1, 7), score(0, 7)], TODAY).see_professional
    assert pain_feedback([score(2, 7), score(1, 7), score(0, 7)], TODAY).high


def test_a_big_rise_advises_a_professional() -> None:
    assert pain_feedback([score(1, 4), score(0, 7)], TODAY).see_professional
    assert not pain_feedback([score(1, 4), score(0, 6)], TODAY).see_professional


def test_weekly_averages_and_words() -> None:
    scores = [score(10, 6), score(8, 6), score(3, 4), score(0, 3)]
    this_week, last_week = weekly_averages(scores, TODAY)
    assert (this_week, last_week) == (3.5, 6.0)
    assert "doing better" in trend_words(this_week, last_week)
    assert "up this week" in trend_words(6.5, 4.0)
    assert "Steady" in trend_words(5.0, 4.6)
    assert "No pain scores yet" in trend_words(None, None)
    assert "Not enough history" in trend_words(4.0, None)


def test_warning_signs_cover_the_red_flags() -> None:
    text = " ".join(WARNING_SIGNS)
    for word in ("saddle", "bladder", "weakness", "fever", "fall"):
        assert word in text
