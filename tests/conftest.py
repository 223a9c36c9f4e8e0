"""Fixtures: the real Application wired to the fake Bot API, with a fresh SQLite database per test."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import AnyApplication, build_application, build_services, running
from bot.clock import Clock, FakeClock, SystemClock
from bot.config import Settings
from bot.context import Services
from bot.processor import PerChatUpdateProcessor
from bot.reminders import TICK_JOB
from tests.harness import ChatUser, FakeBotApi, FakeRequest


class TrackingProcessor(PerChatUpdateProcessor):
    """The production processor, plus a way for tests to wait until an update was fully handled."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self.finished: set[int] = set()
        self._changed = asyncio.Condition()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await super().do_process_update(update, coroutine)
        finally:
            async with self._changed:
                self.finished.add(getattr(update, "update_id", -1))
                self._changed.notify_all()

    async def wait_done(self, update_id: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: update_id in self.finished)


@dataclass
class BotUnderTest:
    """A running bot and the fake Telegram it talks to."""

    app: AnyApplication
    services: Services
    fake: FakeBotApi
    processor: TrackingProcessor
    users: dict[int, ChatUser] = field(default_factory=dict)

    def user(self, user_id: int = 1001, first_name: str = "Ana", **kwargs: Any) -> ChatUser:
        if user_id not in self.users:
            self.users[user_id] = ChatUser(
                self.fake, user_id, first_name, settle=self.processor.wait_done, **kwargs
            )
        return self.users[user_id]

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.services.db


BotFactory = Callable[..., AbstractAsyncContextManager[BotUnderTest]]


@pytest.fixture
def fake() -> FakeBotApi:
    return FakeBotApi()


async def _ping(server: str) -> None:
    engine = create_async_engine(server)
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> str | None:
    """TEST_DATABASE_URL, once checked: a server that does not answer skips the run locally and fails it in CI."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        return None
    try:
        asyncio.run(_ping(server))
    except Exception as exc:
        message = f"TEST_DATABASE_URL is set but no PostgreSQL server answered there ({exc!r})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + ": CI must test PostgreSQL", pytrace=False)
        pytest.skip(message)
    return server


@pytest.fixture
async def database_url(tmp_path: Path, postgres_server: str | None) -> AsyncIterator[str]:
    """A fresh SQLite file per test; or, with TEST_DATABASE_URL set, a fresh PostgreSQL database."""
    server = postgres_server
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    name = f"backstretch_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


@pytest.fixture
def settings(database_url: str, fake: FakeBotApi) -> Settings:
    return Settings(
        token=fake.token,
        database_url=database_url,
        timer_scale=0.004,
        reminder_tick_seconds=3600,
    )


@pytest.fixture
def make_bot(fake: FakeBotApi, settings: Settings) -> BotFactory:
    """Start a bot (several in a row share the database: a restart)."""

    @asynccontextmanager
    async def factory(clock: Clock | None = None, **overrides: Any) -> AsyncIterator[BotUnderTest]:
        services = build_services(replace(settings, **overrides), clock=clock or SystemClock())
        processor = TrackingProcessor(8)
        request = FakeRequest(fake)
        app = build_application(
            services, request=request, get_updates_request=FakeRequest(fake), update_processor=processor
        )
        async with running(app):
            assert app.job_queue is not None
            for job in app.job_queue.get_jobs_by_name(TICK_JOB):
                job.schedule_removal()  # tests call the reminder tick directly, with their own clock
            yield BotUnderTest(app, services, fake, processor)

    return factory


@pytest.fixture
async def bot(make_bot: BotFactory) -> AsyncIterator[BotUnderTest]:
    async with make_bot() as running_bot:
        yield running_bot


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
