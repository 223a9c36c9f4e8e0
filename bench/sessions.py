"""Benchmark: the cost of the session tick with 1,000 and 10,000 guided sessions running at once.

Every instance runs the session tick every 0.5 s. It finds the running sessions whose moment has
come (a phase ends, or the countdown is due its edit every 5 s) and advances them. In a steady state
about a tenth of the running sessions are due per tick. Printed per engine and size:
- idle: a tick when nothing is due (the cost of asking);
- steady: a tick with a tenth of the sessions due (asking, locking, loading, editing the card in the
  in-process fake Bot API, saving) — the figure to compare with the 500 ms between ticks.

Run: .venv/bin/python bench/sessions.py [--sizes 1000 10000] [--postgres postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_application, build_services, running
from bot.clock import FakeClock
from bot.config import Settings
from bot.domain.session import SessionState
from bot.reminders import TICK_JOB
from bot.runner import TICK_JOB as SESSION_TICK
from bot.runner import Live, routine_to_json
from content.planner import plan_routine
from storage.models import GuidedSession, User
from tests.harness import FakeBotApi, FakeRequest

NOW = datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC)


async def seed(bot_app, services, sessions: int) -> None:  # type: ignore[no-untyped-def]
    routine = plan_routine(services.catalogue, 1, NOW.date())
    users, rows = [], []
    for n in range(sessions):
        uid = 100_000 + n
        state = SessionState.start(routine, NOW, 1.0)
        live = Live(0, uid, uid, routine, state, NOW, card_id=1, last_text="x", edited_at=NOW)
        users.append({"id": uid, "chat_id": uid, "first_name": "u", "timezone": "UTC", "created_at": NOW,
                      "last_seen_at": NOW, "settings": {}})  # fmt: skip
        rows.append({"user_id": uid, "chat_id": uid, "local_date": date(2026, 11, 24), "started_at": NOW,
                     "status": "running", "message_id": 1, "exercises_total": len(routine.items),
                     "exercises_done": 0, "counted": False, "version": 0,
                     "next_at": NOW + timedelta(seconds=5 + (n % 50) / 10),  # spread over 5 s
                     "state": {"machine": state.to_dict(), "routine": routine_to_json(routine),
                               "chat": live.chat_dict()}})  # fmt: skip
    async with services.db.transaction() as repos:
        for start in range(0, sessions, 5000):
            await repos.session.execute(insert(User), users[start : start + 5000])
            await repos.session.execute(insert(GuidedSession), rows[start : start + 5000])


async def measure(url: str, sessions: int) -> tuple[float, float]:
    clock = FakeClock(NOW)
    fake = FakeBotApi()
    for n in range(sessions):  # every session's card exists in the fake, so edits succeed
        fake.next_message_id(100_000 + n)
    settings = Settings(token=fake.token, database_url=url, send_rate=100_000)
    services = build_services(settings, clock=clock)
    app = build_application(services, request=FakeRequest(fake), get_updates_request=FakeRequest(fake))
    async with running(app):
        assert app.job_queue is not None and services.runner is not None
        for name in (TICK_JOB, SESSION_TICK):
            for job in app.job_queue.get_jobs_by_name(name):
                job.schedule_removal()
        await seed(app, services, sessions)
        runner = services.runner
        idle = []
        for _ in range(5):
            started = time.perf_counter()
            await runner._tick()
            idle.append(time.perf_counter() - started)
        steady = []
        for step in range(1, 6):  # five ticks 0.5 s apart: a tenth of the sessions each
            clock.set(NOW + timedelta(seconds=5 + step * 0.5))
            started = time.perf_counter()
            await runner._tick()
            steady.append(time.perf_counter() - started)
        async with services.db.transaction() as repos:  # leave nothing running for the next run
            await repos.session.execute(update(GuidedSession).values(status="stopped"))
    return statistics.median(idle) * 1000, statistics.median(steady) * 1000


async def fresh_postgres(server: str) -> tuple[str, str]:
    name = f"backstretch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    await admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False), name


async def drop_postgres(server: str, name: str) -> None:
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            idle, steady = await measure(f"sqlite+aiosqlite:///{folder}/bench.db", size)
        print(
            f"SQLite     {size:>6} sessions: idle tick {idle:7.1f} ms, steady tick ({size // 10} due) {steady:7.1f} ms"
        )
        url, name = await fresh_postgres(args.postgres)
        try:
            idle, steady = await measure(url, size)
        finally:
            await drop_postgres(args.postgres, name)
        print(
            f"PostgreSQL {size:>6} sessions: idle tick {idle:7.1f} ms, steady tick ({size // 10} due) {steady:7.1f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
