"""The reminder crash scenario: a real ``python -m bot`` against the loopback fake, stopped mid-burst.

``run_crash_scenario`` seeds a temporary SQLite database with users whose reminder is due this
minute, starts the bot, sends it a signal once about ``stop_after`` reminders have arrived, starts it
again, lets it finish, and counts per user how many reminders the fake received. Shared by
``tests/test_reminder_crash.py`` and ``bench/reminder_crash.py``.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from storage.db import Database
from storage.models import ReminderDelivery
from tests.harness.fake_api import FakeBotApi
from tests.harness.http_server import FakeHttpServer
from tests.harness.process_env import process_env
from tests.harness.seeding import seed_due_reminders

ROOT = Path(__file__).resolve().parents[2]
FIRST_USER = 700_000
REMINDER_MARK = "Time for your back"


@dataclass(frozen=True)
class CrashResult:
    signal_name: str
    users: int
    arrived_before_stop: int
    lost: int
    doubled: int
    unknown: int
    statuses: dict[str, int]
    seconds: float

    def line(self) -> str:
        return (
            f"{self.signal_name}: {self.users} users, {self.arrived_before_stop} reminders arrived before the "
            f"signal; lost {self.lost}, doubled {self.doubled}, unknown {self.unknown}; "
            f"rows {self.statuses}; {self.seconds:.1f} s"
        )


_MIGRATING = asyncio.Lock()
"""Alembic keeps its context in module globals: one migration at a time in this process."""


async def _seed(url: str, users: int) -> None:
    db = Database(url)
    async with _MIGRATING:
        await db.migrate()
    due = datetime.now(UTC).replace(second=0, microsecond=0)
    await seed_due_reminders(db, users, due=due, first_id=FIRST_USER)
    await db.dispose()


async def _pending(url: str) -> tuple[int, int]:
    """(delivery rows, rows still claimed or sending)."""
    db = Database(url)
    try:
        async with db.transaction() as repos:
            total = await repos.session.scalar(select(func.count()).select_from(ReminderDelivery))
            open_rows = await repos.session.scalar(
                select(func.count())
                .select_from(ReminderDelivery)
                .where(ReminderDelivery.status.in_(("claimed", "sending")))
            )
        return int(total or 0), int(open_rows or 0)
    finally:
        await db.dispose()


async def _statuses(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.transaction() as repos:
            rows = await repos.session.execute(
                select(ReminderDelivery.status, func.count()).group_by(ReminderDelivery.status)
            )
            return {status: int(count) for status, count in rows}
    finally:
        await db.dispose()


async def _start(workdir: Path, env: dict[str, str], log_path: Path) -> asyncio.subprocess.Process:
    log = log_path.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=workdir, env=env, stdout=log, stderr=log
        )
    finally:
        log.close()


def _reminders(fake: FakeBotApi) -> int:
    return sum(REMINDER_MARK in str(c.get("text", "")) for c in fake.calls_to("sendMessage"))


async def run_crash_scenario(
    workdir: Path,
    sig: signal.Signals,
    *,
    users: int = 300,
    stop_after: int = 100,
    send_rate: float = 25.0,
    timeout: float = 60.0,
) -> CrashResult:
    started = time.monotonic()
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{workdir / 'bot.db'}"
    await _seed(url, users)
    fake = FakeBotApi()
    async with FakeHttpServer(fake) as server:
        env = process_env(
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=server.base_url,
            DATABASE_URL=url,
            SEND_RATE=str(send_rate),
            REMINDER_TICK_SECONDS="0.5",
        )
        log_path = workdir / "bot.log"
        process = await _start(workdir, env, log_path)
        try:
            try:
                await fake.changes.wait_until(lambda: _reminders(fake) >= stop_after, timeout)
            except TimeoutError:
                tail = (await asyncio.to_thread(log_path.read_text, errors="replace"))[-3000:]
                raise AssertionError(
                    f"only {_reminders(fake)} reminders arrived in {timeout} s; the bot's log ends:\n{tail}"
                ) from None
            process.send_signal(sig)
            await asyncio.wait_for(process.wait(), timeout=30)
            arrived = _reminders(fake)
            process = await _start(workdir, env, log_path)
            async with asyncio.timeout(timeout):
                while True:
                    total, open_rows = await _pending(url)
                    if total >= users and open_rows == 0:
                        break
                    await asyncio.sleep(0.2)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), timeout=30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    counts = dict.fromkeys(range(FIRST_USER, FIRST_USER + users), 0)
    for call in fake.calls_to("sendMessage"):
        if REMINDER_MARK in str(call.get("text", "")) and call.get("chat_id") in counts:
            counts[call["chat_id"]] += 1
    statuses = await _statuses(url)
    return CrashResult(
        signal_name=sig.name,
        users=users,
        arrived_before_stop=arrived,
        lost=sum(n == 0 for n in counts.values()),
        doubled=sum(n > 1 for n in counts.values()),
        unknown=statuses.get("unknown", 0),
        statuses=statuses,
        seconds=time.monotonic() - started,
    )


__all__ = ["CrashResult", "run_crash_scenario"]
