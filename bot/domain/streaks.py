"""Streak arithmetic on local dates: pure, recomputed from the stored history every time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class StreakSummary:
    current: int
    best: int
    total_days: int
    last_day: date | None
    alive: bool


def _frozen_days(frozen: Iterable[tuple[date, date]]) -> set[date]:
    days: set[date] = set()
    for start, end in frozen:
        day = start
        while day <= end:
            days.add(day)
            day += ONE_DAY
    return days


def streak_summary(
    done_days: Iterable[date], today: date, frozen: Iterable[tuple[date, date]] = ()
) -> StreakSummary:
    """Current and best streak of days with a completed session.

    A run is a sequence of counted days with no gap; days inside a planned break (``frozen``,
    inclusive ranges) neither break nor extend it. The current streak stays alive until the end of
    the day after the last counted day (or after the break that follows it).
    """
    done = sorted(set(done_days))
    bridge = _frozen_days(frozen) - set(done)
    if not done:
        return StreakSummary(0, 0, 0, None, False)
    best = run = 0
    previous: date | None = None
    for day in done:
        if previous is not None and _bridged(previous, day, bridge):
            run += 1
        else:
            run = 1
        best = max(best, run)
        previous = day
    last = done[-1]
    alive = last <= today and (last >= today - ONE_DAY or _bridged(last, today, bridge))
    current = run if alive else 0
    return StreakSummary(current, best, len(done), last, alive)


def _bridged(earlier: date, later: date, bridge: set[date]) -> bool:
    """True when every day strictly between ``earlier`` and ``later`` is a frozen day."""
    day = earlier + ONE_DAY
    while day < later:
        if day not in bridge:
            return False
        day += ONE_DAY
    return True


def days_this_week(done_days: Iterable[date], today: date) -> int:
    """Distinct counted days in the current ISO week (Monday to today)."""
    monday = today - timedelta(days=today.weekday())
    return len({d for d in done_days if monday <= d <= today})


def streak_phrase(n: int) -> str:
    """'1 day', '3 days in a row', or '' for none."""
    if n <= 0:
        return ""
    return "1 day" if n == 1 else f"{n} days in a row"
