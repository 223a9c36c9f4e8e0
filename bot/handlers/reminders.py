"""/remind and /timezone: a daily reminder at the user's own local time."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from telegram import Update

from bot.clock import zone
from bot.context import BotContext
from bot.domain.schedule import (
    format_local,
    local_date,
    next_occurrence,
    zone_label,
)
from bot.parsing import parse_time_of_day, parse_zone
from bot.reminders import parse_hhmm
from bot.text import escape, excerpt, fit
from bot.users import touch
from storage.models import User
from storage.repositories import Repositories

DONE = frozenset({"sent", "failed", "skipped", "unknown"})

REMIND_USAGE = (
    "Tell me a time of day, for example /remind 07:30 (also 7:30, 7am, 19:15). "
    "/remind off stops the reminder; /remind alone shows it."
)
TIMEZONE_USAGE = "For example /timezone Europe/Berlin, /timezone Berlin or /timezone UTC+2."


async def next_reminder(repos: Repositories, user: User, wall: time, tz: ZoneInfo, now: datetime) -> datetime:
    """The next instant the tick will really send a reminder at ``wall`` in ``tz``.

    A local day that already has its delivery row gets no second one, so the promise moves to the
    next day — unless that row belongs to an earlier day on the new zone's calendar (someone who flew
    west): then the new day is still free, and the old row makes way (history only, it was sent).
    """
    at = next_occurrence(wall, tz, now)
    for _ in range(3):
        day = local_date(at, tz)
        row = await repos.reminders.for_day(user.id, day)
        if row is None:
            return at
        if row.status in DONE and local_date(row.due_at, tz) < day:
            await repos.reminders.forget(row.id)
            return at
        at = next_occurrence(wall, tz, at)
    return at


async def remind(update: Update, context: BotContext) -> None:
    """Set, show or stop the daily reminder."""
    assert update.effective_message
    services = context.services
    arg = " ".join(context.args or []).strip()
    now = services.clock.now()
    async with services.db.transaction() as repos:
        user = await touch(repos, update, services)
        tz = zone(user.timezone)
        if not arg:
            if user.reminder_time is None:
                text = "You have no daily reminder. " + REMIND_USAGE
            else:
                due = user.next_reminder_at or next_occurrence(parse_hhmm(user.reminder_time), tz, now)
                text = (
                    f"Your daily reminder is at <b>{user.reminder_time}</b> ({escape(zone_label(user.timezone))}). "
                    f"Next: {escape(format_local(due, tz))}. /remind off stops it."
                )
        elif arg.lower() in ("off", "stop", "no", "none", "cancel"):
            user.reminder_time, user.next_reminder_at = None, None
            text = "Daily reminder off. /remind 07:30 turns it back on whenever you like."
        else:
            wall = parse_time_of_day(arg)
            if wall is None:
                await update.effective_message.reply_text(
                    fit(
                        f"I couldn't read “{excerpt(arg)}” as a time of day. Nothing was saved.\n"
                        + REMIND_USAGE
                    )
                )
                return
            first_time = not (user.settings or {}).get("timezone_set")
            user.reminder_time = f"{wall:%H:%M}"
            user.next_reminder_at = await next_reminder(repos, user, wall, tz, now)
            text = (
                f"⏰ Daily reminder set for <b>{user.reminder_time}</b> ({escape(zone_label(user.timezone))}). "
                f"Next one: {escape(format_local(user.next_reminder_at, tz))}."
            )
            if first_time:
                text += (
                    f"\n\nIs {escape(zone_label(user.timezone))} your time zone? If not, tell me yours so the reminder "
                    f"comes at the right hour: {TIMEZONE_USAGE}"
                )
    await update.effective_message.reply_text(text)


async def timezone(update: Update, context: BotContext) -> None:
    """Show or set the user's time zone; a reminder moves with it."""
    assert update.effective_message
    services = context.services
    arg = " ".join(context.args or []).strip()
    async with services.db.transaction() as repos:
        user = await touch(repos, update, services)
        if not arg:
            text = f"Your time zone is <b>{escape(zone_label(user.timezone))}</b>. To change it: {TIMEZONE_USAGE}"
        else:
            found = parse_zone(arg)
            if found.zone is None or found.name is None:
                text = f"I don't know the time zone “{excerpt(arg)}”. Nothing was saved."
                if found.suggestions:
                    text += " Did you mean: " + ", ".join(escape(s) for s in found.suggestions[:3]) + "?"
                await update.effective_message.reply_text(fit(f"{text}\n{TIMEZONE_USAGE}"))
                return
            user.timezone = found.name
            await repos.users.update_settings(user, timezone_set=True)
            text = f"🌍 Time zone set to <b>{escape(zone_label(found.name))}</b>."
            if user.reminder_time is not None:
                user.next_reminder_at = await next_reminder(
                    repos, user, parse_hhmm(user.reminder_time), found.zone, services.clock.now()
                )
                text += (
                    f" Your {user.reminder_time} reminder follows it: next one "
                    f"{escape(format_local(user.next_reminder_at, found.zone))}."
                )
    await update.effective_message.reply_text(text)
