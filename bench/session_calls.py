"""Benchmark: Bot API calls per guided minute.

Runs whole guided sessions through the real Application against the in-process fake Bot API, with
timers sped up (TIMER_SCALE), tapping Done on untimed steps as a person would, and counts every Bot API
call made for that chat while the session ran, by method, per nominal minute of session.

Run: .venv/bin/python bench/session_calls.py [--sessions 3] [--scale 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_application, build_services, running
from bot.clock import SystemClock
from bot.config import Settings
from bot.reminders import TICK_JOB
from tests.conftest import TrackingProcessor
from tests.harness import ChatUser, FakeBotApi, FakeRequest, SentMessage


def is_card(message: SentMessage) -> bool:
    return any(label in message.button_labels for label in ("⏸ Pause", "▶ Resume", "✅ Done"))


async def one_session(folder: str, user_id: int, scale: float) -> tuple[Counter[str], float]:
    fake = FakeBotApi()
    settings = Settings(token=fake.token, database_url=f"sqlite+aiosqlite:///{folder}/b{user_id}.db",
                        timer_scale=scale, send_rate=1000)  # fmt: skip
    services = build_services(settings, clock=SystemClock())
    processor = TrackingProcessor(8)
    app = build_application(
        services, request=FakeRequest(fake), get_updates_request=FakeRequest(fake), update_processor=processor
    )
    async with running(app):
        assert app.job_queue is not None
        for job in app.job_queue.get_jobs_by_name(TICK_JOB):
            job.schedule_removal()
        user = ChatUser(fake, user_id, "Bench", settle=processor.wait_done)
        await user.send("/start")
        await user.send("/session")  # the first session's note, once
        first = await user.wait_for(is_card)
        await user.click(first, "Stop")
        await user.wait_for(lambda m: "How is your back" in m.text)
        await user.send("/routine")
        mark = user.last.message_id
        await user.click(user.last, "Start")
        before = len(fake.calls)
        started = time.monotonic()
        tapped: set[str] = set()
        while True:
            step = await user.wait_for(
                lambda m: (
                    m.message_id > mark
                    and (
                        "How is your back" in m.text
                        or ("✅ Done" in m.button_labels and m.button_data("✅ Done") not in tapped)
                    )
                ),
                timeout=120,
            )
            if "How is your back" in step.text:
                break
            tapped.add(step.button_data("✅ Done"))
            await user.click(step, "✅ Done")
        nominal_minutes = (time.monotonic() - started) / scale / 60
        calls = Counter(
            method
            for method, params in fake.calls[before:]
            if method not in ("getUpdates", "answerCallbackQuery")
        )
    return calls, nominal_minutes


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--scale", type=float, default=0.05)
    args = parser.parse_args()
    total: Counter[str] = Counter()
    minutes = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for n in range(args.sessions):
            calls, nominal = await one_session(folder, 3000 + n, args.scale)
            total += calls
            minutes += nominal
            print(
                f"session {n + 1}: {sum(calls.values())} calls in {nominal:.1f} guided minutes ({dict(calls)})"
            )
    per_minute = sum(total.values()) / minutes
    by_method = ", ".join(f"{m} {c / minutes:.1f}" for m, c in total.most_common())
    print(f"Bot API calls per guided minute: {per_minute:.1f} (goal <= 10): {by_method}")


if __name__ == "__main__":
    asyncio.run(main())
