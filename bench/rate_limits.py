"""Benchmark: a reminder burst at SEND_RATE while people keep talking to the bot (issue 12).

The in-process app (real Application, ReminderService, SplitRateLimiter) talks to the fake Bot API,
wrapped here so that it enforces Telegram's flood control with real 429s (``retry_after``):

- broadcasts: at most 30 messages in any rolling second, counting messages to chats that have not
  written to the bot in the last minute (Telegram's bulk-notification limit; replies are not
  broadcasts — ``allow_paid_broadcast`` "ignores broadcasting limits");
- every chat: 1 message/s, with a burst of 3 (a token bucket), replies and broadcasts alike.

Due reminders for ``--reminders`` users are claimed by one tick and drained, while ``--rate``
distinct users a second send /help. Printed: the reminders' rate against SEND_RATE (target ≥ 95 %),
the 429s met (target 0), and the time from pushing each /help to the bot's reply reaching the fake
(target p99 ≤ 100 ms).

Run: .venv/bin/python bench/rate_limits.py [--reminders 3000] [--rate 50] [--database-url URL]
The default is 3,000 reminders (~105 s at 30/s); --reminders 10000 is the full burst (~6 min).
With ``--instances N`` (and a PostgreSQL ``--database-url``), N applications share the database and the
fake, as N instances of one bot: one claims the burst, all of them send it, each at its part of
SEND_RATE (``bot.instances``); the people's updates all reach the first instance.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import statistics
import sys
import tempfile
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_application, build_services, running
from bot.clock import FakeClock
from bot.config import Settings
from bot.ratelimit import is_message
from bot.reminders import TICK_JOB
from storage.db import Database
from tests.harness import ChatUser, FakeBotApi, FakeRequest
from tests.harness.fake_api import ApiError
from tests.harness.seeding import seed_due_reminders

NOW = datetime(2026, 11, 24, 8, 0, 30, tzinfo=UTC)
FIRST_REMINDER_USER = 10_000_000
FIRST_TALKER = 20_000_000
BROADCAST_LIMIT = 30
CONVERSATION_SECONDS = 60.0


class FloodControlledFake(FakeBotApi):
    """The fake Bot API plus Telegram's flood control (429 with retry_after), as described above."""

    def __init__(self) -> None:
        super().__init__()
        self.wrote_at: dict[int, float] = {}
        self.broadcasts: deque[float] = deque()
        self.buckets: dict[int, tuple[float, float]] = {}
        self.floods: list[tuple[str, int, bool]] = []
        """(method, chat, was a broadcast) of every 429 given."""
        self.accepted: list[tuple[float, int, bool]] = []
        """(time, chat, was a broadcast) of every message accepted."""
        self.replied_at: dict[int, float] = {}

    def push_update(self, update: dict[str, Any]) -> int:
        message = update.get("message") or (update.get("callback_query") or {}).get("message")
        if message:
            self.wrote_at[message["chat"]["id"]] = time.monotonic()
        return super().push_update(update)

    async def call(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]] | None = None
    ) -> tuple[int, dict[str, Any]]:
        chat = params.get("chat_id")
        if is_message(method) and isinstance(chat, int):
            now = time.monotonic()
            broadcast = now - self.wrote_at.get(chat, -math.inf) > CONVERSATION_SECONDS
            tokens, updated = self.buckets.get(chat, (3.0, now))
            tokens = min(3.0, tokens + (now - updated))
            while self.broadcasts and self.broadcasts[0] <= now - 1.0:
                self.broadcasts.popleft()
            if tokens < 1 or (broadcast and len(self.broadcasts) >= BROADCAST_LIMIT):
                self.floods.append((method, chat, broadcast))
                error = ApiError(429, "Too Many Requests: retry after 1", 1)
                return error.code, error.body()
            self.buckets[chat] = (tokens - 1, now)
            if broadcast:
                self.broadcasts.append(now)
            self.accepted.append((now, chat, broadcast))
            self.replied_at.setdefault(chat, now)
        return await super().call(method, params, files)


async def seed(url: str, users: int) -> None:
    db = Database(url)
    await db.migrate()
    await seed_due_reminders(db, users, due=NOW.replace(second=0), first_id=FIRST_REMINDER_USER)
    await db.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


async def talk(fake: FloodControlledFake, rate: float, stop: asyncio.Event, pushed: dict[int, float]) -> None:
    """``rate`` different people a second each send /help, on a fixed schedule, until ``stop``."""
    started, n = time.monotonic(), 0
    while not stop.is_set():
        due = started + n / rate
        if due > time.monotonic():
            await asyncio.sleep(due - time.monotonic())
        person = ChatUser(fake, FIRST_TALKER + n, f"p{n}")
        update = person.message_update("/help")
        pushed[person.chat_id] = time.monotonic()
        fake.push_update(update)
        n += 1


async def main(reminders: int, rate: float, url: str | None, instances: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite+aiosqlite:///{folder}/bench.db"
        await seed(url, reminders)
        fake = FloodControlledFake()
        settings = Settings(token=fake.token, database_url=url, reminder_tick_seconds=3600)
        everyone = [build_services(settings, clock=FakeClock(NOW)) for _ in range(instances)]
        # people's updates reach the first instance; the others poll a fake with none (two pollers of
        # one bot get Telegram's 409 Conflict: several instances take updates by webhook)
        apps = [
            build_application(
                services,
                request=FakeRequest(fake),
                get_updates_request=FakeRequest(fake if n == 0 else FakeBotApi()),
            )
            for n, services in enumerate(everyone)
        ]
        pushed: dict[int, float] = {}
        async with contextlib.AsyncExitStack() as stack:
            for app in apps:
                await stack.enter_async_context(running(app))
                assert app.job_queue is not None
                for job in app.job_queue.get_jobs_by_name(TICK_JOB):
                    job.schedule_removal()
            for services in everyone:  # each counts the others now, not at its next beat
                if services.instances is not None and services.instances.shared:
                    await services.instances.beat()
            await asyncio.sleep(1.0)  # start-up traffic (setMyCommands, the first polls) is over
            held = max(app.bot.rate_limiter.bulk_held_for() for app in apps)  # type: ignore[attr-defined]
            await asyncio.sleep(held)  # a new instance waits for the others' next beat (bot.instances)
            assert everyone[0].reminders is not None
            claimed = await everyone[0].reminders.tick(NOW)  # one instance claims the whole burst
            stop = asyncio.Event()
            talking = asyncio.create_task(talk(fake, rate, stop, pushed))
            started = time.monotonic()
            shares = await asyncio.gather(*(s.reminders.drain() for s in everyone if s.reminders))
            sent = sum(shares)
            drained = time.monotonic() - started
            stop.set()
            await talking
            await asyncio.sleep(1.0)  # the last replies
        flood_waits = sum(app.bot.rate_limiter.flood_waits for app in apps)  # type: ignore[attr-defined]

    bulk = [at for at, chat, _ in fake.accepted if chat >= FIRST_REMINDER_USER and chat < FIRST_TALKER]
    latencies = [
        (fake.replied_at[chat] - at) * 1000 for chat, at in pushed.items() if chat in fake.replied_at
    ]
    unanswered = len(pushed) - len(latencies)
    bulk_rate = (len(bulk) - 1) / (max(bulk) - min(bulk)) if len(bulk) > 1 else 0.0
    window = max((sum(1 for b in bulk if t - 1.0 < b <= t) for t in bulk), default=0)
    replies = [at for at, chat, _ in fake.accepted if chat >= FIRST_TALKER]
    send_rate = settings.send_rate
    print(f"reminders: {reminders} due, {claimed} claimed, {sent} sent in {drained:.1f} s", end="")
    print(f" by {instances} instances ({' + '.join(map(str, shares))})" if instances > 1 else "")
    print(
        f"reminder rate: {bulk_rate:.2f}/s = {100 * bulk_rate / send_rate:.1f} % of SEND_RATE {send_rate:g}"
        f"  (target >= 95 %); at most {window} in any second"
    )
    print(
        f"429s: {len(fake.floods)} ({sum(1 for *_, b in fake.floods if b)} to broadcasts)  (target 0);"
        f" the limiters met {flood_waits}"
    )
    print(
        f"interactive: {len(pushed)} /help from distinct users at {rate:g}/s, {len(replies)} replies,"
        f" {unanswered} unanswered"
    )
    if latencies:
        print(
            f"push -> reply: p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms"
            f" (target <= 100 ms), max {max(latencies):.1f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=3_000)
    parser.add_argument("--rate", type=float, default=50.0, help="interactive updates per second")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="instances sharing SEND_RATE (needs a PostgreSQL --database-url)",
    )
    args = parser.parse_args()
    if args.instances > 1 and not (args.database_url or "").startswith("postgresql"):
        parser.error(
            "several instances share a PostgreSQL database: give --database-url postgresql+asyncpg://..."
        )
    asyncio.run(main(args.reminders, args.rate, args.database_url, args.instances))
