"""Streak arithmetic on local dates: pure, recomputed from the stored history every time.

A day counts when the user completed a session on it (a local date in the user's zone, computed by
the caller). Consecutive counted days form a run. Planned breaks (``/break 7``) are inclusive date
ranges: a day inside one neither breaks nor extends a run, so a run continues across the break.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class StreakSummary:
    """The streak as of ``today``."""

    current: int
    """Length of the run ending at ``last_day`` while it is alive, else 0."""
    best: int
    """Longest run ever (always ≥ ``current``)."""
    total_days: int
    """Distinct counted days."""
    last_day: date | None
    """The latest counted day, or None when there is none."""
    alive: bool
    """True until the end of the day after the last counted day (or after a break that follows it)."""


def _merge(frozen: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """Sorted, non-overlapping inclusive ranges; touching ranges (end + 1 day == start) are joined."""
    merged: list[tuple[date, date]] = []
    for start, end in sorted((a, b) for a, b in frozen if a <= b):
        if merged and start <= merged[-1][1] + ONE_DAY:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _bridged(earlier: date, later: date, breaks: list[tuple[date, date]]) -> bool:
    """True when every day strictly between ``earlier`` and ``later`` lies inside a planned break.

    ``breaks`` must be merged (see ``_merge``), so the gap is covered only if one range covers it.
    """
    first, last = earlier + ONE_DAY, later - ONE_DAY
    if first > last:
        return True  # nothing in between: the days are adjacent
    return any(start <= first and last <= end for start, end in breaks)


def streak_summary(
    done_days: Iterable[date], today: date, frozen: Iterable[tuple[date, date]] = ()
) -> StreakSummary:
    """Current and best streak of days with a completed session.

    ``done_days`` may be unsorted and hold duplicates. ``frozen`` are inclusive ranges of planned
    breaks; a counted day inside a break still counts. The current streak is alive while the last
    counted day is today or yesterday, or when every day since it (up to yesterday) is in a break,
    i.e. it survives a break and the day after it. A last day after ``today`` (the user moved west
    across time zones) keeps the streak alive too.
    """
    done = sorted(set(done_days))
    if not done:
        return StreakSummary(current=0, best=0, total_days=0, last_day=None, alive=False)
    breaks = _merge(frozen)
    best = run = 1
    for previous, day in pairwise(done):
        run = run + 1 if _bridged(previous, day, breaks) else 1
        best = max(best, run)
    last = done[-1]
    alive = last >= today - ONE_DAY or _bridged(last, today, breaks)
    return StreakSummary(
        current=run if alive else 0, best=best, total_days=len(done), last_day=last, alive=alive
    )


def days_this_week(done_days: Iterable[date], today: date) -> int:
    """Distinct counted days in the current ISO week, from Monday up to and including ``today``."""
    monday = today - timedelta(days=today.weekday())
    return len({day for day in done_days if monday <= day <= today})


def streak_phrase(n: int) -> str:
    """'1 day', '3 days in a row', or '' for none."""
    if n <= 0:
        return ""
    return "1 day" if n == 1 else f"{n} days in a row"
