"""Daily reminders: one tick job claims due users in bulk, a paced sender delivers them one by one.

No job per user lives in memory: each user's next reminder is an indexed UTC column. The tick claims
the due rows earliest first, records a delivery row keyed by (user, local date) — so a second
reminder for the same day cannot exist — moves each user to their next local occurrence (only if
their time did not change meanwhile), commits, and only then sends.

Delivery rules (README, "Exactly once a day"):

- a row is marked ``sending`` in its own short transaction right before its one request, after the
  pacing wait; everything else waits as ``claimed``, so a crash loses at most the requests on the wire;
- a failure that certainly did not deliver (5xx, connection refused, an answer that is not JSON,
  429) puts the row back to ``claimed`` with a ``not_before`` time (backoff with jitter, at least
  ``retry_after``) for as long as the lateness window allows;
- an unknown outcome (a timeout or a dropped connection after the request went out) may have
  delivered it: the row becomes ``unknown`` and is never sent again;
- 403 switches the user's reminders off;
- on shutdown the sender takes no new rows and lets the requests in flight finish (up to a grace
  period); a row still ``sending`` after a crash becomes ``unknown`` at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time as monotonic_time
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

import aiohttp
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ContextTypes

from bot import metrics, render
from bot.clock import zone
from bot.domain.schedule import local_date, next_occurrence
from bot.domain.streaks import streak_summary
from bot.users import PlanningError, frozen_ranges, plan_for_day

if TYPE_CHECKING:
    from bot.app import AnyApplication
    from bot.context import Services

log = logging.getLogger(__name__)
GROUP_BATCH = 100
"""Due groups (same time, zone and due instant) claimed in one transaction: the write lock is held for a
bounded time, and the next transaction takes the next groups."""
READ_BATCH = 200
"""Claimed rows read at once; reading one changes nothing, so a crash cannot strand them."""
SEND_WORKERS = 16
RETRY_BASE_SECONDS = 2.0
RETRY_CAP_SECONDS = 300.0
PRUNE_AFTER = timedelta(days=7)
STOP_GRACE_SECONDS = 10.0
TICK_JOB = "reminders:tick"


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


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one request's result means for its reminder."""

    kind: Literal["sent", "blocked", "rejected", "retry", "unknown"]
    reason: str = ""
    retry_after: float = 0.0


NOT_SENT_CAUSES = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
"""Transport errors (``bot.aiohttp_request``) raised before any byte of the request left: no connection
could be opened, or none became free in time. Safe to retry."""


def classify(exc: BaseException) -> Outcome:
    """Pure: sort a failed send into blocked, rejected, retry (certainly not delivered) or unknown."""
    if isinstance(exc, Forbidden):
        return Outcome("blocked", "blocked")
    if isinstance(exc, RetryAfter):
        retry = exc.retry_after
        seconds = retry.total_seconds() if isinstance(retry, timedelta) else float(retry)
        return Outcome("retry", "flood control (429)", seconds)
    if isinstance(exc, BadRequest):
        return Outcome("rejected", f"rejected: {exc.message}"[:200])
    cause = exc.__cause__
    if isinstance(exc, TimedOut):
        if isinstance(cause, NOT_SENT_CAUSES):
            return Outcome("retry", f"not sent: {exc.message}"[:200])
        return Outcome("unknown", "timed out after the request was sent; it may have arrived")
    if isinstance(exc, NetworkError):
        if cause is None or isinstance(cause, TelegramError):  # Telegram answered with an error status
            return Outcome("retry", f"server error: {exc.message}"[:200])
        if isinstance(cause, NOT_SENT_CAUSES):
            return Outcome("retry", f"not sent: {exc.message}"[:200])
        return Outcome("unknown", f"connection lost after the request was sent: {exc.message}"[:200])
    if isinstance(exc, TelegramError) and "Invalid server response" in exc.message:
        return Outcome("retry", "the answer was not JSON")
    return Outcome("unknown", f"unexpected error while sending: {exc!r}"[:200])


class Pacer:
    """Spaces request starts ``1 / rate`` seconds apart, so a row is marked ``sending`` only once its
    request may go out at once (PTB's rate limiter then has nothing left to wait for)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = monotonic_time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


@dataclass(frozen=True, slots=True)
class Prepared:
    chat_id: int
    text: str


class ReminderService:
    """Claims and sends reminders. ``tick`` and ``drain`` are called directly by tests with a fake clock."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.app: AnyApplication | None = None
        self._sending: asyncio.Task[int] | None = None
        self._send_lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._ticking = False
        self.pacer = Pacer(services.settings.send_rate)
        self.random = random.Random()
        """Jitter of the retry backoff (tests may seed it)."""
        self.stop_grace = STOP_GRACE_SECONDS
        """Seconds a shutdown waits for the requests in flight before giving up on them."""

    def attach(self, app: AnyApplication) -> None:
        self.app = app

    @property
    def lateness(self) -> timedelta:
        return timedelta(minutes=self.services.settings.reminder_max_lateness_minutes)

    def start_ticking(self) -> None:
        assert self.app is not None and self.app.job_queue is not None
        self._ticking = True
        self.app.job_queue.run_repeating(
            self._on_tick,
            interval=self.services.settings.reminder_tick_seconds,
            first=min(5.0, self.services.settings.reminder_tick_seconds),
            name=TICK_JOB,
            job_kwargs={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1},
        )

    async def _on_tick(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.tick()
        self.start_draining()  # also picks up what a crash left claimed

    def start_draining(self) -> asyncio.Task[int] | None:
        """Run ``drain`` in the background unless it already runs. It is an application task, so
        ``Application.stop`` (SIGTERM) waits for it: it then stops taking rows and finishes those in
        flight."""
        if self._stopping():
            return None
        if self._sending is None or self._sending.done():
            assert self.app is not None
            self._sending = self.app.create_task(self.drain(), name="reminders:drain")
        return self._sending

    def _stopping(self) -> bool:
        stopping_app = self._ticking and self.app is not None and not self.app.running
        return self._stop.is_set() or stopping_app

    async def recover(self) -> int:
        """At start-up: a row a crash left ``sending`` becomes ``unknown`` (never sent twice); claimed
        rows are sent if still in time, else expired. Returns how many expired."""
        before = self.services.clock.now() - self.lateness
        async with self.services.db.transaction() as repos:
            interrupted = await repos.reminders.interrupted()
            expired = await repos.reminders.expire_stale(before)
        if interrupted:
            log.warning(
                "%d reminder(s) were on the wire when the bot stopped; marked unknown, not sent again",
                interrupted,
            )
        return expired

    async def tick(self, now: datetime | None = None) -> int:
        """Claim every due reminder, earliest first, in batches; returns how many were claimed (woken
        snoozes included)."""
        now = now or self.services.clock.now()
        async with self.services.db.transaction() as repos:
            expired = await repos.reminders.expire_snoozed(now - self.lateness)
            claimed = await repos.reminders.wake_snoozed(now)
            expired += await repos.reminders.expire_stale(now - self.lateness)
            pruned = await repos.reminders.prune(now - PRUNE_AFTER)
        if expired or pruned:
            log.info("reminders: %d expired (lateness window closed), %d old rows pruned", expired, pruned)
        # Set-based: users due at the same instant with the same wall-clock time and zone share their
        # local day and next occurrence, so each such group is claimed with one INSERT ... SELECT and
        # moved with one UPDATE, whatever its size; no user id is read. Claim first, then move, both
        # only where next_reminder_at is still the value read: a /timezone or /remind that committed
        # since the read keeps its own new time.
        while True:
            async with self.services.db.transaction() as repos:
                groups = await repos.reminders.due_groups(now, GROUP_BATCH)
                for reminder_time, zone_name, due_at, _users in groups:
                    due = schedule(
                        due=due_at,
                        reminder_time=reminder_time,
                        zone_name=zone_name,
                        now=now,
                        lateness=self.lateness,
                    )
                    if not due.too_late:  # users on a break that day are left out by claim_group
                        claimed += await repos.reminders.claim_group(
                            reminder_time, zone_name, due_at, due.local_day, now
                        )
                    await repos.reminders.move_group(reminder_time, zone_name, due_at, due.next_at)
            if len(groups) < GROUP_BATCH:
                metrics.reminder(self.app, "claimed", claimed)
                metrics.reminder(self.app, "expired", expired)
                return claimed

    async def drain(self) -> int:
        """Send every claimed reminder that may go now, earliest due first, a bounded number in flight."""
        async with self._send_lock:
            sent = 0
            seen: set[int] = set()  # a row left claimed (e.g. a failing database) waits for the next tick
            while not self._stopping():
                async with self.services.db.transaction() as repos:
                    rows = await repos.reminders.ready(self.services.clock.now(), READ_BATCH)
                batch = [row for row in rows if row[0] not in seen]
                if not batch:
                    break
                seen.update(delivery_id for delivery_id, _ in batch)
                queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
                for item in batch:
                    queue.put_nowait(item)
                workers = [
                    asyncio.create_task(self._worker(queue)) for _ in range(min(SEND_WORKERS, len(batch)))
                ]
                sent += await self._join(workers)
            return sent

    async def _join(self, workers: list[asyncio.Task[int]]) -> int:
        """Wait for the workers; once stopping, give the requests in flight ``stop_grace`` seconds."""
        pending: set[asyncio.Task[int]] = set(workers)
        try:
            await self._wait_workers(pending)
        except asyncio.CancelledError:  # cancelled from outside: the workers go too, no orphan sends
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        return sum(t.result() for t in workers if t.done() and not t.cancelled() and t.exception() is None)

    async def _wait_workers(self, pending: set[asyncio.Task[int]]) -> None:
        deadline: float | None = None
        while pending:
            if deadline is None and self._stopping():
                deadline = monotonic_time.monotonic() + self.stop_grace
            timeout = 0.1 if deadline is None else max(0.0, deadline - monotonic_time.monotonic())
            _, pending = await asyncio.wait(pending, timeout=timeout)
            if pending and deadline is not None and monotonic_time.monotonic() >= deadline:
                log.warning("reminders: %d request(s) still in flight after the grace period", len(pending))
                for task in pending:
                    task.cancel()  # their rows stay 'sending' and become 'unknown' at the next start
                await asyncio.gather(*pending, return_exceptions=True)
                break

    async def _worker(self, queue: asyncio.Queue[tuple[int, int]]) -> int:
        sent = 0
        while not queue.empty() and not self._stopping():
            delivery_id, user_id = queue.get_nowait()
            try:
                sent += await self._deliver(delivery_id, user_id)
            except Exception:  # one broken reminder must not stop the others
                log.exception("reminder %s failed", delivery_id)
                with contextlib.suppress(Exception):
                    async with self.services.db.transaction() as repos:
                        await repos.reminders.finish(
                            delivery_id, "failed", "internal error", expect="claimed"
                        )
        return sent

    async def _prepare(self, delivery_id: int, user_id: int) -> Prepared | None:
        """Decide whether a claimed row is still worth sending and render it (the row stays claimed)."""
        services = self.services
        now = services.clock.now()
        async with services.db.transaction() as repos:
            delivery = await repos.reminders.get(delivery_id)
            user = await repos.users.get(user_id)
            if delivery is None or delivery.status != "claimed":
                return None

            async def skip(reason: str, status: str = "skipped") -> None:
                await repos.reminders.finish(delivery_id, status, reason[:200], expect="claimed")

            if now - delivery.due_at > self.lateness:
                await skip("expired: the lateness window closed before it could be sent", "failed")
                return None
            if user is None or user.reminder_time is None:
                await skip("reminders are off")
                return None
            # A snooze can cross midnight: the day that counts is the later of its own and today.
            day = max(delivery.local_date, local_date(now, zone(user.timezone)))
            for done_day in {delivery.local_date, day}:
                if await repos.sessions.completed_on(user_id, done_day):
                    await skip("already stretched that day")
                    return None
            if user.break_until is not None and day <= user.break_until:
                await skip("on a break")
                return None
            try:
                routine = await plan_for_day(repos, services, user, day)
            except PlanningError as exc:
                await skip(str(exc))
                return None
            days = await repos.sessions.counted_days(user_id)
            streak = streak_summary(days, day, frozen_ranges(user))
            chat_id = user.chat_id
        return Prepared(chat_id, render.reminder_message(routine, streak.current))

    async def _deliver(self, delivery_id: int, user_id: int) -> int:
        prepared = await self._prepare(delivery_id, user_id)
        if prepared is None:
            return 0
        await self.pacer.wait()  # pace first, then mark: a row waiting its turn stays 'claimed'
        if self._stopping():
            return 0
        async with self.services.db.transaction() as repos:
            if not await repos.reminders.start_sending(delivery_id):
                return 0
        outcome = await self._send(prepared, delivery_id)
        return await self._record(delivery_id, user_id, outcome)

    async def _send(self, prepared: Prepared, delivery_id: int) -> Outcome:
        """One request (PTB's rate limiter may repeat it after a 429); never raises."""
        assert self.app is not None
        try:
            await self.app.bot.send_message(
                prepared.chat_id,
                prepared.text,
                reply_markup=render.reminder_keyboard(delivery_id),
                allow_paid_broadcast=self.services.settings.allow_paid_broadcast or None,
                rate_limit_args={"bulk": True},  # issue 12: paced by the broadcast budget (bot.ratelimit)
            )
        except Exception as exc:  # every failure is sorted by classify
            return classify(exc)
        return Outcome("sent")

    async def _record(self, delivery_id: int, user_id: int, outcome: Outcome) -> int:
        sent = await self._store_outcome(delivery_id, user_id, outcome)
        label = {"sent": "sent", "blocked": "blocked", "rejected": "rejected", "unknown": "unknown"}
        metrics.reminder(self.app, label.get(outcome.kind, "retried"))
        return sent

    async def _store_outcome(self, delivery_id: int, user_id: int, outcome: Outcome) -> int:
        now = self.services.clock.now()
        async with self.services.db.transaction() as repos:
            reminders = repos.reminders
            if outcome.kind == "sent":
                await reminders.finish(delivery_id, "sent", None, sent_at=now)
                return 1
            if outcome.kind == "blocked":
                user = await repos.users.get(user_id)
                if user is not None:
                    user.reminder_time, user.next_reminder_at = None, None
                await reminders.finish(delivery_id, "failed", "blocked")
            elif outcome.kind == "rejected":
                await reminders.finish(delivery_id, "failed", outcome.reason)
            elif outcome.kind == "unknown":
                log.warning(
                    "reminder %s: outcome unknown (%s); not sending it again", delivery_id, outcome.reason
                )
                await reminders.finish(delivery_id, "unknown", outcome.reason)
            else:
                delivery = await reminders.get(delivery_id)
                attempts = delivery.attempts if delivery is not None else 1
                backoff = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
                wait = max(outcome.retry_after, backoff * self.random.uniform(0.5, 1.0))
                retry_at = now + timedelta(seconds=wait)
                if delivery is None or retry_at - delivery.due_at > self.lateness:
                    reason = f"gave up after {attempts} attempt(s): {outcome.reason}"
                    log.warning("reminder %s: %s", delivery_id, reason)
                    await reminders.finish(delivery_id, "failed", reason[:200])
                    metrics.reminder(self.app, "failed")
                else:
                    log.info("reminder %s: %s; retrying in %.1f s", delivery_id, outcome.reason, wait)
                    await reminders.finish(delivery_id, "claimed", outcome.reason, not_before=retry_at)
        return 0

    async def snooze(self, user_id: int, delivery_id: int) -> str:
        """Send today's reminder again in an hour."""
        now = self.services.clock.now()
        async with self.services.db.transaction() as repos:
            delivery = await repos.reminders.get(delivery_id)
            if delivery is None:
                return "That reminder is too old to snooze."
            if delivery.user_id != user_id:
                return "That reminder isn't yours."
            if delivery.status == "snoozed":
                return "Already snoozed — see you in an hour."
            if delivery.status in ("claimed", "sending"):
                return "That reminder is on its way."
            delivery.status, delivery.not_before = "snoozed", None
            delivery.due_at = now + timedelta(hours=1)
        return "Snoozed: I'll remind you again in an hour."

    async def wake_snoozed(self, now: datetime | None = None) -> int:
        """Snoozed reminders whose hour is up go back to the send queue (too old ones expire)."""
        now = now or self.services.clock.now()
        async with self.services.db.transaction() as repos:
            await repos.reminders.expire_snoozed(now - self.lateness)
            return await repos.reminders.wake_snoozed(now)

    async def stop(self) -> None:
        """Take no new rows; give the requests in flight ``stop_grace`` seconds, then cancel."""
        self._stop.set()
        task = self._sending
        if task is not None and not task.done():
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), timeout=self.stop_grace + 1)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
