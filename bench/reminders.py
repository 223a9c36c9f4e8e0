"""Benchmark: 100,000 users in SQLite, all due in the same minute.

Prints three figures (issue 4's targets in brackets):
- the time for one tick to find and claim them all (< 2 s),
- the bot's peak resident memory (< 150 MB),
- the bot's start-up time: `python -m bot` as a real process, from spawn to its first getUpdates
  against a loopback fake Bot API, with the 100,000-user database (< 3 s).

Run: .venv/bin/python bench/reminders.py [--users 100000]
Sending is not measured: it is bounded by Telegram's rate limit (30/s), not by the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_application, build_services, running
from bot.clock import FakeClock
from bot.config import Settings
from bot.reminders import TICK_JOB
from storage.db import Database
from storage.models import ReminderDelivery, User
from tests.harness import FakeBotApi, FakeHttpServer, FakeRequest
from tests.harness.seeding import seed_due_reminders

NOW = datetime(2026, 11, 24, 8, 0, 30, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata"]


async def seed(url: str, users: int) -> None:
    db = Database(url)
    await db.migrate()
    await seed_due_reminders(
        db, users, due=NOW.replace(second=0), first_id=10_000, zones=ZONES, spread_seconds=60
    )
    await db.dispose()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def startup_as_process(url: str) -> tuple[float, float]:
    """Spawn `python -m bot` and time it until it first asks the (fake) Bot API for updates."""
    fake = FakeBotApi()
    root = Path(__file__).resolve().parents[1]
    async with FakeHttpServer(fake) as server:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": server.base_url,
               "DATABASE_URL": url, "REMINDER_TICK_SECONDS": "3600", "PYTHONPATH": str(root)}  # fmt: skip
        log = open(Path(url.split("///", 1)[1]).with_suffix(".log"), "w")  # noqa: SIM115
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=root,
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        try:
            while not any(method == "getUpdates" for method, _ in fake.calls):
                if process.returncode is not None or time.perf_counter() - started > 60:
                    log.close()
                    raise RuntimeError("the bot did not start:\n" + Path(log.name).read_text())
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
            status = Path(f"/proc/{process.pid}/status").read_text()
            rss = (
                next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")) / 1024
            )
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()
            log.close()
    return elapsed, rss


async def main(users: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        # seeded by a separate process, so the memory figure is the bot's alone
        subprocess.run([sys.executable, __file__, "--users", str(users), "--seed", url], check=True)

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

            # the bot loads matplotlib (for /progress) in the background at start-up; measure the tick in
            # the steady state after that, with matplotlib's memory counted in the peak
            while "matplotlib.figure" not in sys.modules:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            claimed = await services.reminders.tick(NOW)
            claim_seconds = time.perf_counter() - started

            async with services.db.transaction() as repos:
                stored = await repos.session.scalar(select(func.count()).select_from(ReminderDelivery))
                still_due = await repos.session.scalar(
                    select(func.count()).select_from(User).where(User.next_reminder_at <= NOW)
                )
        peak = rss_mb()
        process_startup, process_rss = await startup_as_process(url)

    print(f"users: {users}")
    print(f"claimed: {claimed} (delivery rows: {stored}, still due after the tick: {still_due})")
    print(f"tick claim time: {claim_seconds:.2f} s  (target < 2 s)")
    print(f"peak resident memory: {peak:.0f} MB  (target < 150 MB)")
    print(f"start-up time: {process_startup:.2f} s as a process, {startup:.2f} s in-process  (target < 3 s)")
    print(f"the bot process's resident memory once up: {process_rss:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", metavar="URL", help="only fill the database at URL (used internally)")
    args = parser.parse_args()
    asyncio.run(seed(args.seed, args.users) if args.seed else main(args.users))
