"""Finding the person behind an update, and what their day looks like."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from telegram import Update

from bot.clock import today_in, zone
from bot.context import Services
from content.catalogue import Catalogue, load_catalogue
from content.planner import (
    DEFAULT_MINUTES,
    Adaptation,
    Hurt,
    Mode,
    PlanningError,
    PlanOptions,
    Routine,
    adapt,
    avoid_directions,
    plan_routine,
)
from storage.models import User
from storage.repositories import PlanInputs, Repositories


async def touch(repos: Repositories, update: Update, services: Services) -> User:
    """The user's row, created on first contact (every handler starts here).

    It writes only on a first contact, a new name or language, or once a minute (``last_seen_at``);
    in a ``Database.read()`` unit that write waits for the end of the block."""
    tg_user = update.effective_user
    assert tg_user is not None, "handlers are only registered for updates with a user"
    # Reminders and sessions always go to the private chat, whose id is the user's id: a message in a
    # group never changes where they go (and personal commands never run there: handlers.privacy).
    return await repos.users.touch(
        tg_user.id,
        tg_user.id,
        first_name=tg_user.first_name or "",
        language_code=tg_user.language_code,
        now=services.clock.now(),
        default_timezone=services.settings.default_timezone,
    )


def today(user: User, services: Services) -> date:
    return today_in(services.clock, user.timezone)


def options_from_settings(
    settings: dict[str, Any] | None,
    hurt: set[str],
    mode: Mode = "balanced",
    *,
    adaptation: Adaptation | None = None,
    catalogue: Catalogue | None = None,
) -> PlanOptions:
    """The planner's options from the user's stored settings and the exercises that hurt.

    With an ``adaptation`` (``content.planner.adapt``) its mode wins over ``mode``, and the movement
    directions of what hurt recently are left out (looked up in ``catalogue``).
    """
    settings = settings or {}
    options = PlanOptions(
        minutes=float(settings.get("minutes", DEFAULT_MINUTES)),
        mode=mode,
        focus=settings.get("focus", "both"),
        # stored ids may name a retired exercise: leave out what replaced it
        excluded_ids=frozenset(
            (catalogue or _default_catalogue()).canonical_id(i)
            for i in [*settings.get("excluded", []), *hurt]
        ),
        excluded_positions=frozenset(settings.get("positions_out", [])),
    )
    if adaptation is None:
        return options
    return replace(
        options,
        mode=adaptation.mode,
        escalation=adaptation.escalation,
        good_weeks=adaptation.good_weeks,
        avoid_directions=avoid_directions(catalogue or _default_catalogue(), adaptation.recently_hurt),
    )


@cache
def _default_catalogue() -> Catalogue:
    return load_catalogue()


def _local_day(at: datetime, zone_name: str | None) -> date:
    if at.tzinfo is None:  # stored as UTC; some drivers hand it back naive
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone(zone_name)).date()


async def plan_options(
    repos: Repositories, user: User, day: date, catalogue: Catalogue | None = None
) -> PlanOptions:
    """Settings, hurt exercises, and the adaptive mode from the user's whole pain history.

    ``catalogue`` maps what hurt to the movement directions to leave out (the bundled one when None).
    """
    return options_for(await repos.users.plan_inputs(user.id), user, day, catalogue)


def options_for(inputs: PlanInputs, user: User, day: date, catalogue: Catalogue | None = None) -> PlanOptions:
    """``plan_options`` from history already read (``UserRepository.plan_inputs``)."""
    hurts: list[Hurt] = [(exercise, _local_day(at, user.timezone)) for exercise, at in inputs.hurts]
    adaptation = adapt(inputs.scores, inputs.counted_days, day, hurts)
    return options_from_settings(
        user.settings, {exercise for exercise, _ in inputs.hurts}, adaptation=adaptation, catalogue=catalogue
    )


async def plan_for_day(repos: Repositories, services: Services, user: User, day: date) -> Routine:
    """The user's routine for a local day; raises PlanningError with a reason the user can act on."""
    options = await plan_options(repos, user, day, services.catalogue)
    return plan_routine(services.catalogue, user.id, day, options)


async def todays_routine(repos: Repositories, user: User, services: Services) -> Routine:
    """Today's routine for this user (the same one /routine, /session and the reminder give)."""
    return await plan_for_day(repos, services, user, today(user, services))


async def todays_plan(repos: Repositories, user: User, services: Services) -> tuple[Routine, bool]:
    """Today's routine (as ``todays_routine``) and whether a session that counts was done today, from
    one read of the user's history."""
    day = today(user, services)
    inputs = await repos.users.plan_inputs(user.id)
    options = options_for(inputs, user, day, services.catalogue)
    return plan_routine(services.catalogue, user.id, day, options), day in inputs.counted_days


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
    "options_for",
    "plan_for_day",
    "plan_options",
    "today",
    "todays_plan",
    "todays_routine",
    "touch",
]
