"""Benchmark: 100,000 users in SQLite, all due in the same minute.

Prints three figures (issue 4's targets in brackets):
- the time for one tick to find and claim them all (< 2 s),
- the bot's peak resident memory (< 150 MB),
- the bot's start-up time: building the application, migrating the database and going live (< 3 s).

Run: .venv/bin/python bench/reminders.py [--users 100000]
Sending is not measured: it is bounded by Telegram's rate limit (30/s), not by the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness import FakeBotApi, FakeRequest

from bot.app import build_application, build_services, running
from bot.clock import FakeClock
from bot.config import Settings
from bot.reminders import TICK_JOB
from storage.db import Database
from storage.models import ReminderDelivery, User

NOW = datetime(2026, 11, 24, 8, 0, 30, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata"]


async def seed(url: str, users: int) -> None:
    db = Database(url)
    await db.migrate()
    due = NOW.replace(second=0)
    async with db.transaction() as repos:
        rows = [
            {
                "id": 10_000 + n,
                "chat_id": 10_000 + n,
                "first_name": f"user{n}",
                "timezone": ZONES[n % len(ZONES)],
                "created_at": due - timedelta(days=30),
                "last_seen_at": due - timedelta(days=1),
                "settings": {},
                "reminder_time": "08:00",
                "next_reminder_at": due - timedelta(seconds=n % 60),
            }
            for n in range(users)
        ]
        for start in range(0, users, 10_000):
            await repos.session.execute(insert(User), rows[start : start + 10_000])
    await db.dispose()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(users: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        # seeded by a separate process, so the memory figure is the bot's alone
        subprocess.run([sys.executable, __file__, "--users", str(users), "--seed", url], check=True)  # noqa: ASYNC221

        fake = FakeBotApi()
        started = time.perf_counter()
        settings = Settings(token=fake.token, database_url=url, reminder_tick_seconds=3600)
        services = build_services(settings, clock=FakeClock(NOW))
        app = build_application(services, request=FakeRequest(fake), get_updates_request=FakeRequest(fake))
        async with running(app):
            startup = time.perf_counter() - started
            assert app.job_queue is not None and services.reminders is not None
            for job in app.job_queue.get_jobs_by_name(TICK_JOB):
                job.schedule_removal()

            started = time.perf_counter()
            claimed = await services.reminders.tick(NOW)
            claim_seconds = time.perf_counter() - started

            async with services.db.transaction() as repos:
                stored = await repos.session.scalar(select(func.count()).select_from(ReminderDelivery))
                still_due = await repos.session.scalar(
                    select(func.count()).select_from(User).where(User.next_reminder_at <= NOW)
                )
        peak = rss_mb()

    print(f"users: {users}")
    print(f"claimed: {claimed} (delivery rows: {stored}, still due after the tick: {still_due})")
    print(f"tick claim time: {claim_seconds:.2f} s  (target < 2 s)")
    print(f"peak resident memory: {peak:.0f} MB  (target < 150 MB)")
    print(f"start-up time: {startup:.2f} s  (target < 3 s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", metavar="URL", help="only fill the database at URL (used internally)")
    args = parser.parse_args()
    asyncio.run(seed(args.seed, args.users) if args.seed else main(args.users))
