"""Benchmark: how long a guided session waits when the instance running it is killed (SIGKILL).

Two real ``python -m bot`` instances in webhook mode share one PostgreSQL database and a loopback fake
Bot API. Each try starts a session through instance 0, kills instance 0 in the middle of a hold, and
measures the takeover delay: from the moment the session next needed the bot (its stored ``next_at``,
or the kill if that was later) to instance 1 having advanced and saved it (its version in the database
goes up; a step need not call Telegram, so the first Bot API call can come later). It also counts steps
lost or repeated (a card number skipped, a step's message sent twice in a row). Then the session is
stopped through instance 1 and instance 0 restarted for the next try.

Run: .venv/bin/python bench/takeover.py [--tries 20] [--postgres postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from tests.harness import ChatUser, FakeBotApi, FakeHttpServer, SentMessage
from tests.harness.cluster import Cluster

STEPS = ("💪", "😮‍💨", "🔄", "➡️")


def is_card(message: SentMessage) -> bool:
    return any(label in message.button_labels for label in ("⏸ Pause", "▶ Resume", "✅ Done"))


async def one_try(cluster: Cluster, engine, user_id: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    fake = cluster.fake
    user = ChatUser(fake, user_id, f"U{user_id}")
    await cluster.post(0, user.message_update("/routine"))
    routine = await user.wait_for(lambda m: "Start" in " ".join(m.button_labels), timeout=20)
    await cluster.post(0, user.callback_update(routine, routine.button_data("Start")))
    card = await user.wait_for(lambda m: is_card(m) and m.text.startswith("1/"), timeout=20)
    while True:  # a card arrives in its lead-in: a hold's message or, if untimed, a Done button follows
        await user.wait_for(
            lambda m, c=card: (
                (m.message_id > c.message_id and m.raw.startswith("💪"))
                or (m.message_id == c.message_id and "✅ Done" in m.button_labels)
            ),
            timeout=20,
        )
        if "✅ Done" not in card.button_labels:
            break
        number = int(card.text.split("/", 1)[0])  # untimed: no hold to be killed in, so skip it
        await cluster.post(0, user.callback_update(card, card.button_data("⏭ Skip")))
        card = await user.wait_for(
            lambda m, n=number: is_card(m) and m.text.startswith(f"{n + 1}/"), timeout=20
        )
    first = int(card.text.split("/", 1)[0])
    killed_at = await cluster.kill(0)
    row = text("SELECT next_at, version FROM guided_sessions WHERE user_id = :u AND status = 'running'")
    async with engine.connect() as connection:
        found = (await connection.execute(row, {"u": user_id})).first()
    next_at, version = (found[0], found[1]) if found is not None else (None, None)
    due_at = killed_at
    if next_at is not None:
        due_at = max(killed_at, time.monotonic() - (datetime.now(UTC) - next_at).total_seconds())
    # taken over: instance 1 has advanced and saved the session (a step need not call Telegram)
    taken = None
    deadline = time.monotonic() + 30
    while taken is None and time.monotonic() < deadline:
        async with engine.connect() as connection:
            now_version = await connection.scalar(
                text("SELECT version FROM guided_sessions WHERE user_id = :u"), {"u": user_id}
            )
        if version is None or (now_version is not None and now_version > version):
            taken = time.monotonic()
        else:
            await asyncio.sleep(0.005)
    assert taken is not None, "the session was not taken over within 30 s"
    delay = max(0.0, taken - due_at)
    # let it run on past the next exercise change, then look for lost or repeated steps
    tapped: set[str] = set()
    while True:  # untimed steps wait for Done
        step = await user.wait_for(
            lambda m: (
                (is_card(m) and m.text.startswith(f"{first + 1}/"))
                or ("✅ Done" in m.button_labels and m.button_data("✅ Done") not in tapped)
            ),
            timeout=90,
        )
        if step.text.startswith(f"{first + 1}/"):
            break
        tapped.add(step.button_data("✅ Done"))
        await cluster.post(1, user.callback_update(step, step.button_data("✅ Done")))
    steps = [m.raw for m in user.messages if m.raw.startswith(STEPS)]
    repeated = sum(1 for a, b in itertools.pairwise(steps) if a == b)
    numbers = [
        int(m.text.split("/", 1)[0]) for m in user.messages if is_card(m) or m.text[:2].rstrip("/").isdigit()
    ]
    lost = sum(1 for a, b in itertools.pairwise(numbers) if b > a + 1 and a >= first)
    last = next(m for m in reversed(user.messages) if is_card(m))
    await cluster.post(1, user.callback_update(last, last.button_data("⏹ Stop")))
    await user.wait_for(lambda m: "How is your back" in m.text, timeout=20)
    await cluster.start(0)
    return delay, repeated + lost


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--scale", default="0.2", help="TIMER_SCALE of the instances")
    args = parser.parse_args()
    name = f"backstretch_takeover_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(args.postgres, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    engine = create_async_engine(url)
    fake = FakeBotApi()
    delays, wrong = [], 0
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with FakeHttpServer(fake) as api:
                cluster = Cluster(fake, api.base_url, url, Path(folder))
                cluster.env.update(TIMER_SCALE=args.scale, REMINDER_TICK_SECONDS="60")
                try:
                    await cluster.start(0)
                    await cluster.start(1)
                    for n in range(args.tries):
                        delay, bad = await one_try(cluster, engine, 9000 + n)
                        delays.append(delay)
                        wrong += bad
                        print(
                            f"try {n + 1:>2}: takeover {delay * 1000:6.0f} ms, steps lost or repeated {bad}"
                        )
                finally:
                    await cluster.stop_all()
    finally:
        await engine.dispose()
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()
    print(
        f"session takeover after SIGKILL over {len(delays)} tries: median {statistics.median(delays) * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms; steps lost or repeated: {wrong}"
    )


if __name__ == "__main__":
    asyncio.run(main())
