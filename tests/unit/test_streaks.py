"""Streaks on local dates: midnight, gaps, duplicates and planned breaks."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.streaks import days_this_week, streak_phrase, streak_summary

TODAY = date(2026, 11, 24)  # a Tuesday


def days(*offsets: int) -> list[date]:
    return [TODAY - timedelta(days=n) for n in offsets]


def test_no_days() -> None:
    summary = streak_summary([], TODAY)
    assert (summary.current, summary.best, summary.total_days, summary.alive) == (0, 0, 0, False)


def test_streak_ending_today_or_yesterday_is_alive() -> None:
    assert streak_summary(days(0, 1, 2), TODAY).current == 3
    assert streak_summary(days(1, 2, 3), TODAY).current == 3  # alive until the end of today
    dead = streak_summary(days(2, 3, 4), TODAY)
    assert dead.current == 0 and dead.best == 3 and not dead.alive


def test_across_midnight_the_new_day_extends_the_run() -> None:
    done = days(1, 2)
    assert streak_summary(done, TODAY - timedelta(days=1)).current == 2
    assert streak_summary([*done, TODAY], TODAY).current == 3


def test_best_is_the_longest_run_and_duplicates_do_not_count_twice() -> None:
    done = days(0, 1, 5, 6, 7, 8, 0, 1)
    summary = streak_summary(done, TODAY)
    assert summary.current == 2 and summary.best == 4 and summary.total_days == 6
    assert summary.last_day == TODAY


def test_a_break_bridges_the_gap_without_counting() -> None:
    done = days(5, 6, 7)
    frozen = [(TODAY - timedelta(days=4), TODAY - timedelta(days=1))]
    summary = streak_summary(done, TODAY, frozen)
    assert summary.alive and summary.current == 3  # kept, not extended
    assert streak_summary([*done, TODAY], TODAY, frozen).current == 4


def test_a_break_that_ended_yesterday_keeps_the_streak_alive_today_only() -> None:
    done = days(5, 6)
    frozen = [(TODAY - timedelta(days=4), TODAY - timedelta(days=1))]
    assert streak_summary(done, TODAY, frozen).current == 2
    assert streak_summary(done, TODAY + timedelta(days=1), frozen).current == 0


def test_days_this_week_counts_from_monday() -> None:
    assert days_this_week(days(0, 1, 2, 3), TODAY) == 2  # Tuesday and Monday; Sunday is last week


def test_phrases() -> None:
    assert streak_phrase(0) == "" and streak_phrase(1) == "1 day" and streak_phrase(3) == "3 days in a row"


@given(st.sets(st.integers(min_value=0, max_value=60), max_size=40))
def test_current_never_exceeds_best(offsets: set[int]) -> None:
    summary = streak_summary(days(*offsets), TODAY)
    assert 0 <= summary.current <= summary.best <= summary.total_days == len(offsets)
