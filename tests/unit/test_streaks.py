"""Streaks on local dates: midnight, gaps, duplicates and planned breaks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.streaks import StreakSummary, days_this_week, streak_phrase, streak_summary

TODAY = date(2026, 11, 24)  # a Tuesday


def ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def days(*offsets: int) -> list[date]:
    return [ago(n) for n in offsets]


def test_no_days() -> None:
    assert streak_summary([], TODAY) == StreakSummary(0, 0, 0, None, False)


def test_streak_ending_today_or_yesterday_is_alive_two_days_ago_is_not() -> None:
    assert streak_summary(days(0, 1, 2), TODAY).current == 3
    yesterday = streak_summary(days(1, 2, 3), TODAY)  # alive until the end of today
    assert yesterday.current == 3 and yesterday.alive
    dead = streak_summary(days(2, 3, 4), TODAY)
    assert dead.current == 0 and dead.best == 3 and not dead.alive and dead.last_day == ago(2)


def test_across_midnight_the_new_day_extends_the_run() -> None:
    done = days(1, 2)
    assert streak_summary(done, ago(1)).current == 2  # late last night
    assert streak_summary(done, TODAY).current == 2  # just after midnight: still alive, not extended
    assert streak_summary([*done, TODAY], TODAY).current == 3  # a session after midnight counts
    assert streak_summary(done, TODAY + timedelta(days=1)).current == 0  # a whole day missed


def test_best_is_the_longest_run_and_duplicates_do_not_count_twice() -> None:
    done = days(0, 1, 5, 6, 7, 8, 0, 1)
    summary = streak_summary(done, TODAY)
    assert summary.current == 2 and summary.best == 4 and summary.total_days == 6
    assert summary.last_day == TODAY and summary.alive


def test_unsorted_input_and_a_single_day() -> None:
    assert streak_summary(days(3, 0, 2, 1), TODAY) == StreakSummary(4, 4, 4, TODAY, True)
    assert streak_summary(iter(days(0)), TODAY) == StreakSummary(1, 1, 1, TODAY, True)


def test_a_day_after_today_keeps_the_streak_alive() -> None:
    # The user moved west: a day already counted in the old zone is "tomorrow" in the new one.
    summary = streak_summary([*days(0, 1), TODAY + timedelta(days=1)], TODAY)
    assert summary.alive and summary.current == 3


def test_a_break_bridges_the_gap_without_counting() -> None:
    done = days(5, 6, 7)
    frozen = [(ago(4), ago(1))]
    summary = streak_summary(done, TODAY, frozen)
    assert summary.alive and summary.current == 3  # kept, not extended
    assert streak_summary([*done, TODAY], TODAY, frozen).current == 4
    assert streak_summary([*done, TODAY], TODAY).current == 1  # without the break the run is broken


def test_an_ongoing_break_keeps_the_streak_alive_while_it_lasts() -> None:
    done = days(3, 4)
    frozen = [(ago(2), TODAY + timedelta(days=5))]  # /break 8, started the day after the last session
    for later in range(7):
        summary = streak_summary(done, TODAY + timedelta(days=later), frozen)
        assert summary.alive and summary.current == 2, later  # during the break and the day after
    assert not streak_summary(done, TODAY + timedelta(days=7), frozen).alive


def test_a_break_that_ended_yesterday_keeps_the_streak_alive_today_only() -> None:
    done = days(5, 6)
    frozen = [(ago(4), ago(1))]
    assert streak_summary(done, TODAY, frozen).current == 2
    assert streak_summary(done, TODAY + timedelta(days=1), frozen).current == 0


def test_a_break_after_a_missed_day_does_not_revive_a_dead_streak() -> None:
    done = days(5, 6)
    frozen = [(ago(3), ago(1))]  # ago(4) was missed before the break began
    summary = streak_summary(done, TODAY, frozen)
    assert not summary.alive and summary.current == 0 and summary.best == 2


def test_touching_and_overlapping_breaks_join_and_reversed_ranges_are_ignored() -> None:
    done = days(10, 0)
    touching = [(ago(9), ago(6)), (ago(5), ago(3)), (ago(4), ago(1))]
    assert streak_summary(done, TODAY, touching).current == 2
    assert streak_summary(done, TODAY, [(ago(1), ago(9))]).current == 1  # start after end: no break


def test_a_session_during_a_break_still_counts() -> None:
    summary = streak_summary(days(6, 3, 0), TODAY, [(ago(5), ago(1))])
    assert summary.current == 3 and summary.total_days == 3


def test_days_this_week_counts_from_monday() -> None:
    assert days_this_week(days(0, 1, 2, 3), TODAY) == 2  # Tuesday and Monday; Sunday is last week
    monday, sunday = ago(1), ago(1) + timedelta(days=6)
    assert days_this_week(days(1, 1, 2), monday) == 1
    assert days_this_week([monday + timedelta(days=n) for n in range(7)], sunday) == 7
    assert days_this_week([], TODAY) == 0


@pytest.mark.parametrize(
    ("n", "phrase"), [(-1, ""), (0, ""), (1, "1 day"), (2, "2 days in a row"), (3, "3 days in a row")]
)
def test_phrases(n: int, phrase: str) -> None:
    assert streak_phrase(n) == phrase


def reference(done: set[date], today: date, frozen: list[tuple[date, date]]) -> tuple[int, int]:
    """Day-by-day walk: (current, best), the obvious and slow way."""
    if not done:
        return 0, 0
    in_break = {a + timedelta(days=k) for a, b in frozen for k in range((b - a).days + 1)}
    run = best = 0
    day = min(done)
    while day <= max(done):
        if day in done:
            run += 1
            best = max(best, run)
        elif day not in in_break:
            run = 0
        day += timedelta(days=1)
    gap = [max(done) + timedelta(days=k) for k in range(1, (today - max(done)).days)]
    alive = all(d in in_break for d in gap)
    return (run if alive else 0), best


ranges = st.tuples(st.integers(-5, 60), st.integers(0, 10)).map(lambda r: (ago(r[0]), ago(r[0] - r[1])))


@given(st.sets(st.integers(min_value=-2, max_value=60), max_size=40), st.lists(ranges, max_size=4))
def test_matches_a_day_by_day_walk(offsets: set[int], frozen: list[tuple[date, date]]) -> None:
    done = set(days(*offsets))
    summary = streak_summary([*done, *done], TODAY, frozen)
    assert (summary.current, summary.best) == reference(done, TODAY, frozen)
    assert 0 <= summary.current <= summary.best <= summary.total_days == len(offsets)
    assert summary.alive == (summary.current > 0)
