"""Two real instances behind a load balancer, one PostgreSQL: a crash loses no session and doubles nothing.

Each update goes to one instance or the other, as a load balancer would send it. The instance running
a user's guided session is killed mid-hold; the other one finishes the session with every exercise,
one completion message and one pain question. Reminders due meanwhile go out exactly once across both.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot import instances
from bot.app import build_application, build_services, running
from bot.clock import FakeClock
from bot.config import Settings
from bot.context import services_of
from bot.ratelimit import SplitRateLimiter
from storage.db import Database
from tests.harness import ChatUser, FakeBotApi, FakeHttpServer, FakeRequest, SentMessage
from tests.harness.cluster import Cluster

pytestmark = pytest.mark.slow
SCALE = "0.03"
"""Timers 33x faster: an 11-minute routine takes about 20 s."""


def is_card(message: SentMessage) -> bool:
    return any(label in message.button_labels for label in ("⏸ Pause", "▶ Resume", "✅ Done"))


async def test_a_killed_instance_s_session_and_reminders_go_on_elsewhere_exactly_once(
    tmp_path: Path, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances share a PostgreSQL database (SQLite is for one instance)")
    fake = FakeBotApi()
    async with FakeHttpServer(fake) as api:
        cluster = Cluster(fake, api.base_url, database_url, tmp_path)
        cluster.env.update(TIMER_SCALE=SCALE, REMINDER_TICK_SECONDS="1", SEND_RATE="100")
        try:
            await cluster.start(0)
            await cluster.start(1)

            # reminders for twenty people at the next whole minute (at least 40 s from now)
            due = (datetime.now(UTC) + timedelta(seconds=100)).replace(second=0, microsecond=0)
            if due.date() != datetime.now(UTC).date():
                pytest.skip("too close to midnight UTC for a reminder today")
            people = [ChatUser(fake, 7000 + n, f"P{n}") for n in range(20)]
            for n, person in enumerate(people):
                await cluster.post(n % 2, person.message_update(f"/remind {due:%H:%M}"))
            for person in people:
                await person.wait_for(lambda m: "Next one" in m.text, timeout=20)

            # Ana starts a session on instance 0, which then crashes in the middle of a hold
            ana = ChatUser(fake, 5001, "Ana")
            await cluster.post(1, ana.message_update("/routine"))
            routine = await ana.wait_for(lambda m: "Start" in " ".join(m.button_labels), timeout=20)
            await cluster.post(0, ana.callback_update(routine, routine.button_data("Start")))
            card = await ana.wait_for(lambda m: is_card(m) and m.text.startswith("1/"), timeout=20)
            total = int(card.text.split("/", 1)[1].split(" ", 1)[0])
            await ana.wait_for(lambda m: m.message_id == card.message_id and "Hold ·" in m.text, timeout=20)
            killed_at = await cluster.kill(0)

            # instance 1 carries on within about a second, and finishes it
            tapped: set[str] = set()

            def next_step(m: SentMessage) -> bool:
                return "How is your back" in m.text or (
                    "✅ Done" in m.button_labels and m.button_data("✅ Done") not in tapped
                )

            while True:  # untimed steps wait for Done (tapped through the surviving instance)
                done = await ana.wait_for(next_step, timeout=60)
                if "How is your back" in done.text:
                    break
                tapped.add(done.button_data("✅ Done"))
                await cluster.post(1, ana.callback_update(done, done.button_data("✅ Done")))
            after = [
                t for t, method, params in cluster.calls if t > killed_at and params.get("chat_id") == 5001
            ]
            assert after and after[0] - killed_at < 2.0, f"nothing happened for {after[0] - killed_at:.1f} s"
            cards = [m for m in ana.messages if is_card(m) or m.text[:2].rstrip("/").isdigit()]
            numbers = sorted(
                {int(m.text.split("/", 1)[0]) for m in cards if m.text.split("/", 1)[0].isdigit()}
            )
            assert numbers == list(range(1, total + 1)), ana.transcript()
            endings = [m for m in ana.messages if "How is your back" in m.text]
            assert len(endings) == 1 and "Session done" in done.text, ana.transcript()
            assert len([m for m in ana.messages if m.button_labels[:1] == ["0"]]) == 1
            steps = [m.raw for m in ana.messages if m.raw.startswith(("💪", "😮‍💨", "🔄", "➡️"))]
            repeated = [a for a, b in itertools.pairwise(steps) if a == b]
            assert not repeated, f"a step was announced twice: {repeated}"

            await cluster.start(0)  # the crashed instance comes back: both run the reminder tick again

            # the pain answer lands on the surviving instance
            await cluster.post(1, ana.callback_update(done, done.button_data("3")))
            await ana.wait_for(lambda m: "You answered" in m.text, timeout=20)

            # every reminder went out exactly once, whichever instance claimed it
            deadline = time.monotonic() + max(20.0, (due - datetime.now(UTC)).total_seconds() + 30)
            while time.monotonic() < deadline:
                got = Counter(m.chat_id for p in people for m in p.messages if "Time for your back" in m.text)
                if len(got) == len(people):
                    break
                await asyncio.sleep(0.5)
            await asyncio.sleep(3)  # and nothing more arrives
            got = Counter(m.chat_id for p in people for m in p.messages if "Time for your back" in m.text)
            assert sorted(got) == [p.user_id for p in people] and set(got.values()) == {1}, got
        except AssertionError:
            print(cluster.logs())
            raise
        finally:
            await cluster.stop_all()


async def test_instances_on_one_database_share_the_broadcast_budget(
    settings: Settings, fake: FakeBotApi, database_url: str
) -> None:
    """SEND_RATE is the bot's: two instances send broadcasts at half of it each, one alone at all of it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances share a PostgreSQL database (SQLite is for one instance)")
    first = build_application(build_services(settings), request=FakeRequest(fake))
    second = build_application(build_services(settings), request=FakeRequest(fake))

    def rate(app: Application[Any, Any, Any, Any, Any, Any]) -> float:
        assert isinstance(app.bot.rate_limiter, SplitRateLimiter)
        return app.bot.rate_limiter.bulk_rate

    registry = services_of(first).instances
    assert registry is not None
    async with running(first):
        assert rate(first) == settings.send_rate
        assert isinstance(first.bot.rate_limiter, SplitRateLimiter)
        assert first.bot.rate_limiter.bulk_held_for() == 0  # alone: nobody to wait for
        assert first.job_queue is not None and first.job_queue.get_jobs_by_name(instances.BEAT_JOB)
        async with running(second):
            assert rate(second) == settings.send_rate / 2  # it counted the first at start-up
            assert isinstance(second.bot.rate_limiter, SplitRateLimiter)  # and waits for the first's beat
            assert 0 < second.bot.rate_limiter.bulk_held_for() <= instances.BEAT_SECONDS + 1
            assert await registry.beat() == 2  # the first's next beat (every BEAT_SECONDS)
            assert rate(first) == settings.send_rate / 2
        assert await registry.beat() == 1  # the second left as it stopped
        assert rate(first) == settings.send_rate


async def test_when_the_database_does_not_answer_an_instance_keeps_its_part(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A beat that fails neither stops the bot nor lets it take the whole budget it was sharing."""
    db = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nothing_listens_here")
    limiter = SplitRateLimiter(30)
    registry = instances.Instances(db, FakeClock(datetime(2026, 11, 24, 9, tzinfo=UTC)), limiter)
    registry.count = 3
    limiter.share(3)
    try:
        assert registry.shared and await registry.beat() == 3
    finally:
        await db.dispose()
    assert limiter.bulk_rate == 10
    assert "could not count the running instances; keeping 1/3 of SEND_RATE" in caplog.text
