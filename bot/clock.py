"""The clock every time-dependent part of the bot reads, so tests can move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to (tests, benchmarks)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = at.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """The ZoneInfo for a stored zone name, falling back when the name is unknown."""
    try:
        return ZoneInfo(name or fallback)
    except (KeyError, ValueError):
        return ZoneInfo(fallback)


def today_in(clock: Clock, zone_name: str | None) -> date:
    """Today's date in the user's time zone."""
    return clock.now().astimezone(zone(zone_name)).date()
