"""/remind and /timezone: a daily reminder at the user's own local time."""

from __future__ import annotations

from telegram import Update

from bot.clock import zone
from bot.context import BotContext
from bot.domain.schedule import format_local, next_occurrence, parse_time, parse_timezone, zone_label
from bot.reminders import parse_hhmm
from bot.text import escape
from bot.users import touch

REMIND_USAGE = (
    "Tell me a time of day, for example /remind 07:30 (also 7:30, 7am, 19:15). "
    "/remind off stops the reminder; /remind alone shows it."
)
TIMEZONE_USAGE = "For example /timezone Europe/Berlin, /timezone Berlin or /timezone UTC+2."


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
            wall = parse_time(arg)
            if wall is None:
                await update.effective_message.reply_text(
                    f"I couldn't read “{escape(arg)}” as a time of day. " + REMIND_USAGE
                )
                return
            first_time = not (user.settings or {}).get("timezone_set")
            user.reminder_time = f"{wall:%H:%M}"
            user.next_reminder_at = next_occurrence(wall, tz, now)
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
            found = parse_timezone(arg)
            if found.zone is None or found.name is None:
                text = f"I don't know the time zone “{escape(arg)}”."
                if found.suggestions:
                    text += " Did you mean: " + ", ".join(escape(s) for s in found.suggestions) + "?"
                await update.effective_message.reply_text(f"{text}\n{TIMEZONE_USAGE}")
                return
            user.timezone = found.name
            await repos.users.update_settings(user, timezone_set=True)
            text = f"🌍 Time zone set to <b>{escape(zone_label(found.name))}</b>."
            if user.reminder_time is not None:
                user.next_reminder_at = next_occurrence(
                    parse_hhmm(user.reminder_time), found.zone, services.clock.now()
                )
                text += (
                    f" Your {user.reminder_time} reminder follows it: next one "
                    f"{escape(format_local(user.next_reminder_at, found.zone))}."
                )
    await update.effective_message.reply_text(text)
