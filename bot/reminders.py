"""Daily reminders: one tick job claims due users in bulk, a bounded sender delivers them.

No job per user lives in memory: each user's next reminder is an indexed UTC column. The tick claims
the due rows earliest first, records a delivery row keyed by (user, local date) — so a second
reminder for the same day cannot exist — moves each user to their next local occurrence, commits,
and only then sends. Sending goes through PTB's rate limiter; a blocked user's reminders are switched
off, network errors are retried with backoff, and the tick goes on with everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from bot import render
from bot.clock import zone
from bot.domain.schedule import local_date, next_occurrence
from bot.domain.streaks import streak_summary
from bot.users import PlanningError, frozen_ranges, plan_for_day

if TYPE_CHECKING:
    from bot.app import AnyApplication
    from bot.context import Services

log = logging.getLogger(__name__)
CLAIM_BATCH = 20000
STATEMENT_IDS = 5000
"""Ids in one IN (...) list: keeps each statement, and the memory it needs, small."""
SEND_BATCH = 200
SEND_WORKERS = 16
NETWORK_RETRIES = 4
TICK_JOB = "reminders:tick"


def chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class Due:
    """When a due reminder belongs, whether it is still worth sending, and when the next one is."""

    local_day: date
    next_at: datetime | None
    too_late: bool


def schedule(
    *, due: datetime, reminder_time: str | None, zone_name: str, now: datetime, lateness: timedelta
) -> Due:
    """Pure: the local day of a due reminder, whether it is too late to send, and the next due time."""
    tz = zone(zone_name)
    day = local_date(due, tz)
    if reminder_time is None:
        return Due(day, None, True)
    wall = parse_hhmm(reminder_time)
    next_at = next_occurrence(wall, tz, due)
    if next_at <= now:  # the bot was down for more than a day: skip ahead, never send a backlog
        next_at = next_occurrence(wall, tz, now)
    return Due(day, next_at, now - due > lateness)


class ReminderService:
    """Claims and sends reminders. ``tick`` and ``drain`` are called directly by tests with a fake clock."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.app: AnyApplication | None = None
        self._sending: asyncio.Task[int] | None = None
        self._send_lock = asyncio.Lock()
        self.retry_delay = 1.0
        """Seconds before the first retry after a network error; doubled on each further one."""

    def attach(self, app: AnyApplication) -> None:
        self.app = app

    @property
    def lateness(self) -> timedelta:
        return timedelta(minutes=self.services.settings.reminder_max_lateness_minutes)

    def start_ticking(self) -> None:
        assert self.app is not None and self.app.job_queue is not None
        self.app.job_queue.run_repeating(
            self._on_tick,
            interval=self.services.settings.reminder_tick_seconds,
            first=min(5.0, self.services.settings.reminder_tick_seconds),
            name=TICK_JOB,
            job_kwargs={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1},
        )

    async def _on_tick(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.tick()
        if self._sending is None or self._sending.done():  # also picks up what a crash left claimed
            self._sending = asyncio.create_task(self.drain())

    async def recover(self) -> int:
        """At start-up: claimed deliveries a crash left behind are sent if still in time, else expired;
        one caught mid-send is not sent again (it may have arrived)."""
        async with self.services.db.transaction() as repos:
            return await repos.reminders.expire_stale(self.services.clock.now() - self.lateness)

    async def tick(self, now: datetime | None = None) -> int:
        """Claim every due reminder, earliest first, in batches; returns how many will be sent."""
        now = now or self.services.clock.now()
        claimed = await self.wake_snoozed(now)
        while True:
            async with self.services.db.transaction() as repos:
                rows = await repos.reminders.due(now, CLAIM_BATCH)
                known: dict[tuple[str | None, str, datetime], Due] = {}  # many users share a time and zone
                to_claim: dict[date, list[int]] = defaultdict(list)
                to_move: dict[datetime | None, list[int]] = defaultdict(list)
                for user_id, reminder_time, zone_name, due_at, break_until in rows:
                    key = (reminder_time, zone_name, due_at)
                    if key not in known:
                        known[key] = schedule(
                            due=due_at,
                            reminder_time=reminder_time,
                            zone_name=zone_name,
                            now=now,
                            lateness=self.lateness,
                        )
                    due = known[key]
                    to_move[due.next_at].append(user_id)
                    on_break = break_until is not None and due.local_day <= break_until
                    if not due.too_late and not on_break:
                        to_claim[due.local_day].append(user_id)
                for day, user_ids in to_claim.items():
                    for chunk in chunks(user_ids, STATEMENT_IDS):
                        await repos.reminders.claim(chunk, day, now)
                for next_at, user_ids in to_move.items():
                    for chunk in chunks(user_ids, STATEMENT_IDS):
                        await repos.reminders.move(chunk, next_at)
            claimed += sum(len(ids) for ids in to_claim.values())
            if len(rows) < CLAIM_BATCH:
                return claimed

    async def drain(self) -> int:
        """Send every claimed reminder, earliest due first, with a bounded number in flight."""
        async with self._send_lock:
            sent = 0
            while True:
                async with self.services.db.transaction() as repos:
                    batch = await repos.reminders.take(SEND_BATCH)
                if not batch:
                    return sent
                queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
                for item in batch:
                    queue.put_nowait(item)
                workers = min(SEND_WORKERS, len(batch))
                sent += sum(await asyncio.gather(*(self._worker(queue) for _ in range(workers))))

    async def _worker(self, queue: asyncio.Queue[tuple[int, int]]) -> int:
        sent = 0
        while not queue.empty():
            delivery_id, user_id = queue.get_nowait()
            try:
                sent += await self._deliver(delivery_id, user_id)
            except Exception:  # one broken reminder must not stop the others
                log.exception("reminder %s failed", delivery_id)
                await self._mark(delivery_id, "failed", "internal error")
        return sent

    async def _deliver(self, delivery_id: int, user_id: int) -> int:
        services = self.services
        async with services.db.transaction() as repos:
            delivery = await repos.reminders.get(delivery_id)
            user = await repos.users.get(user_id)
            if delivery is None or delivery.status != "sending":
                return 0
            if user is None or user.reminder_time is None:
                delivery.status, delivery.error = "skipped", "reminders are off"
                return 0
            if await repos.sessions.completed_on(user_id, delivery.local_date):
                delivery.status, delivery.error = "skipped", "already stretched that day"
                return 0
            try:
                routine = await plan_for_day(repos, services, user, delivery.local_date)
            except PlanningError as exc:
                delivery.status, delivery.error = "skipped", str(exc)[:200]
                return 0
            days = await repos.sessions.counted_days(user_id)
            streak = streak_summary(days, delivery.local_date, frozen_ranges(user))
            chat_id = user.chat_id
        text = render.reminder_message(routine, streak.current)
        error = await self._send(chat_id, text, delivery_id)
        if error == "blocked":
            async with services.db.transaction() as repos:
                user = await repos.users.get(user_id)
                if user is not None:
                    user.reminder_time, user.next_reminder_at = None, None
        await self._mark(delivery_id, "sent" if error is None else "failed", error)
        return int(error is None)

    async def _send(self, chat_id: int, text: str, delivery_id: int) -> str | None:
        """Send with retries; returns None when sent, else the reason it was not."""
        assert self.app is not None
        delay = self.retry_delay
        for attempt in range(1, NETWORK_RETRIES + 1):
            try:
                await self.app.bot.send_message(
                    chat_id,
                    text,
                    reply_markup=render.reminder_keyboard(delivery_id),
                    allow_paid_broadcast=self.services.settings.allow_paid_broadcast or None,
                )
                return None
            except Forbidden:
                return "blocked"
            except RetryAfter as exc:
                retry = exc.retry_after
                await asyncio.sleep(retry.total_seconds() if isinstance(retry, timedelta) else float(retry))
            except BadRequest as exc:
                return f"rejected: {exc.message}"[:200]
            except (NetworkError, TimedOut):
                if attempt == NETWORK_RETRIES:
                    return "network error"
                await asyncio.sleep(delay)
                delay *= 2
        return "gave up after retries"

    async def _mark(self, delivery_id: int, status: str, error: str | None) -> None:
        async with self.services.db.transaction() as repos:
            delivery = await repos.reminders.get(delivery_id)
            if delivery is not None:
                delivery.status, delivery.error = status, error
                if status == "sent":
                    delivery.sent_at = self.services.clock.now()

    async def snooze(self, user_id: int, delivery_id: int) -> str:
        """Send today's reminder again in an hour."""
        now = self.services.clock.now()
        async with self.services.db.transaction() as repos:
            delivery = await repos.reminders.get(delivery_id)
            if delivery is None or delivery.user_id != user_id:
                return "That reminder isn't yours."
            if delivery.status == "snoozed":
                return "Already snoozed — see you in an hour."
            delivery.status = "snoozed"
            delivery.due_at = now + timedelta(hours=1)
        return "Snoozed: I'll remind you again in an hour."

    async def wake_snoozed(self, now: datetime | None = None) -> int:
        """Snoozed reminders whose hour is up go back to the send queue."""
        now = now or self.services.clock.now()
        async with self.services.db.transaction() as repos:
            return await repos.reminders.wake_snoozed(now)

    async def stop(self) -> None:
        if self._sending is not None:
            self._sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sending
