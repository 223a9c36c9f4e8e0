"""Finding the person behind an update, and what their day looks like."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from telegram import Update

from bot.clock import today_in
from bot.context import Services
from content.planner import (
    DEFAULT_MINUTES,
    Mode,
    PlanningError,
    PlanOptions,
    Routine,
    choose_mode,
    plan_routine,
)
from storage.models import User
from storage.repositories import Repositories


async def touch(repos: Repositories, update: Update, services: Services) -> User:
    """The user's row, created on first contact (every handler starts here)."""
    tg_user = update.effective_user
    chat = update.effective_chat
    assert tg_user is not None, "handlers are only registered for updates with a user"
    return await repos.users.touch(
        tg_user.id,
        chat.id if chat is not None else tg_user.id,
        first_name=tg_user.first_name or "",
        language_code=tg_user.language_code,
        now=services.clock.now(),
        default_timezone=services.settings.default_timezone,
    )


def today(user: User, services: Services) -> date:
    return today_in(services.clock, user.timezone)


def options_from_settings(
    settings: dict[str, Any] | None, hurt: set[str], mode: Mode = "balanced"
) -> PlanOptions:
    """The planner's options from the user's stored settings and the exercises that hurt."""
    settings = settings or {}
    return PlanOptions(
        minutes=float(settings.get("minutes", DEFAULT_MINUTES)),
        mode=mode,
        focus=settings.get("focus", "both"),
        excluded_ids=frozenset(settings.get("excluded", [])) | frozenset(hurt),
        excluded_positions=frozenset(settings.get("positions_out", [])),
    )


async def plan_options(repos: Repositories, user: User, day: date) -> PlanOptions:
    """Settings, hurt exercises, and the adaptive mode from the last two weeks."""
    since = datetime.combine(day - timedelta(days=14), time(), tzinfo=UTC)
    scores = [(s.local_date, s.score) for s in await repos.pain.history(user.id, since=since)]
    days = await repos.sessions.counted_days(user.id)
    mode = choose_mode(scores, days, day)
    return options_from_settings(user.settings, await repos.flags.ids(user.id), mode)


async def plan_for_day(repos: Repositories, services: Services, user: User, day: date) -> Routine:
    """The user's routine for a local day; raises PlanningError with a reason the user can act on."""
    return plan_routine(services.catalogue, user.id, day, await plan_options(repos, user, day))


async def todays_routine(repos: Repositories, user: User, services: Services) -> Routine:
    """Today's routine for this user (the same one /routine, /session and the reminder give)."""
    return await plan_for_day(repos, services, user, today(user, services))


def frozen_ranges(user: User) -> list[tuple[date, date]]:
    """Every planned break, past and current, as inclusive date ranges."""
    ranges = [
        (date.fromisoformat(a), date.fromisoformat(b)) for a, b in (user.settings or {}).get("breaks", [])
    ]
    if user.break_started is not None and user.break_until is not None:
        ranges.append((user.break_started, user.break_until))
    return ranges


def end_break(user: User, day: date) -> None:
    """Close the current break (it covered the days before ``day``) and remember it for the streak."""
    if user.break_started is None or user.break_until is None:
        return
    end = min(user.break_until, day - timedelta(days=1))
    breaks = list((user.settings or {}).get("breaks", []))
    if end >= user.break_started:
        breaks.append([user.break_started.isoformat(), end.isoformat()])
    user.settings = {**(user.settings or {}), "breaks": breaks[-20:]}
    user.break_started, user.break_until = None, None


__all__ = [
    "PlanningError",
    "end_break",
    "frozen_ranges",
    "plan_for_day",
    "plan_options",
    "today",
    "todays_routine",
    "touch",
]
