"""Finding the person behind an update, and what their day looks like."""

from __future__ import annotations

from datetime import date

from telegram import Update

from bot.clock import today_in
from bot.context import Services
from content.planner import PlanningError, PlanOptions, Routine, plan_routine
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


def plan_options(user: User) -> PlanOptions:
    """The planner's options from the user's settings."""
    return PlanOptions()


def plan_for_day(services: Services, user: User, day: date) -> Routine:
    """The user's routine for a local day; raises PlanningError with a reason the user can act on."""
    return plan_routine(services.catalogue, user.id, day, plan_options(user))


async def todays_routine(repos: Repositories, user: User, services: Services) -> Routine:
    """Today's routine for this user (the same one /routine, /session and the reminder give)."""
    return plan_for_day(services, user, today(user, services))


__all__ = ["PlanningError", "plan_for_day", "plan_options", "today", "todays_routine", "touch"]
