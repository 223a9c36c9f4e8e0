"""Load benchmark: the real ``python -m bot`` (long polling, SQLite) under many users (issue 12).

Every bot runs as its own process against a loopback fake Bot API (``tests.harness.FakeHttpServer``)
in this process. N users write in N private chats; an update's latency runs from the moment it is
available in the fake to the moment the bot's first reply to that chat reaches the fake. In the same
run, interleaved, two reference bots (``bench/reference_bot.py``) answer the same /routine load: bare
python-telegram-bot, and python-telegram-bot with one SQLite read and one write per update.

Scenarios (goals in brackets):
- closed loop, 50 users sending /routine as fast as they get answers: updates/s
  [>= 0.8 x the PTB+SQLite reference and >= 150/s];
- open loop, 100 updates/s of /routine, /stretch NAME and bare pain scores: p50 / p99 [p99 <= 50 ms];
- open loop, 50 updates/s, every Bot API call answered after 50 ms: p50 / p99 [p99 <= 100 ms];
- CPU per update (the process's CPU time / updates, closed loop) for /routine, /stretch NAME and a
  bare score [<= 5 ms]; and, for scale, /safety, which touches no database;
- resident memory at idle and after the first /progress chart [report; a small VPS has 256 MB];
- failed updates: "Sorry" replies and updates left unanswered [0].

Medians of ``--runs`` (3) short runs. The bot runs with SEND_RATE=1000 (PTB's rate limiter then caps
nothing here). Run: ``.venv/bin/python bench/load.py`` (about 3-4 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import ChatUser, FakeBotApi, FakeHttpServer  # noqa: E402
from tests.harness.process_env import process_env  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
REPLIES = {"sendMessage", "sendPhoto", "sendAnimation", "sendDocument", "sendChatAction"}
STRETCH = "/stretch cat cow"
SEND_RATE = "1000"
CHATS = 2_000
"""Users (private chats) the load is spread over: at 500 updates/s each chat gets one every 4 s, well
inside Telegram's pace of about one message a second per private chat, which the bot keeps to (with
400 chats a fast bot met that pace, and the next scenario started with chats still being paced)."""


class LoadFake(FakeBotApi):
    """The fake Bot API, timing each chat's updates to the bot's first reply."""

    def __init__(self) -> None:
        super().__init__(strict_html=False)
        self.waiting: dict[int, deque[tuple[float, asyncio.Future[float]]]] = {}
        self.sorry = 0

    def expect(self, chat_id: int) -> asyncio.Future[float]:
        """Called when an update of ``chat_id`` is pushed: the future gets its latency in seconds."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(chat_id, deque()).append((time.perf_counter(), future))
        return future

    async def call(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]] | None = None
    ) -> tuple[int, dict[str, Any]]:
        if method in REPLIES:
            chat_id = params.get("chat_id")
            queue = self.waiting.get(int(chat_id)) if chat_id is not None else None
            if queue:
                pushed, future = queue.popleft()
                if not future.done():
                    future.set_result(time.perf_counter() - pushed)
            text = str(params.get("text") or params.get("caption") or "")
            if text.startswith("Sorry"):
                self.sorry += 1
        return await super().call(method, params, files)

    def clear(self) -> None:
        """Forget what was recorded (a long run would otherwise keep every call in memory)."""
        self.calls.clear()
        self._sent.clear()
        self._messages.clear()
        self._events.clear()


@dataclass
class Bot:
    """One bot process under test."""

    name: str
    process: asyncio.subprocess.Process
    fake: LoadFake
    users: dict[int, ChatUser] = field(default_factory=dict)
    failed: int = 0

    def user(self, user_id: int) -> ChatUser:
        if user_id not in self.users:
            self.users[user_id] = ChatUser(self.fake, user_id, f"User{user_id}")
        return self.users[user_id]

    def push(self, user_id: int, text: str) -> asyncio.Future[float]:
        user = self.user(user_id)
        update = user.message_update(text)
        future = self.fake.expect(user.chat_id)
        self.fake.push_update(update)
        return future

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime, every thread

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")) / 1024


@contextlib.asynccontextmanager
async def started(name: str, command: list[str], folder: Path, extra: dict[str, str]) -> Any:
    fake = LoadFake()
    async with FakeHttpServer(fake) as server:
        env = process_env(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=server.base_url, **extra)
        log = open(folder / f"{name}.log", "w")  # noqa: SIM115
        process = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=folder, stdout=asyncio.subprocess.DEVNULL, stderr=log
        )
        bot = Bot(name, process, fake)
        try:
            began = time.perf_counter()
            while not fake.calls_to("getUpdates"):
                if process.returncode is not None or time.perf_counter() - began > 60:
                    raise RuntimeError(f"{name} did not start:\n" + (folder / f"{name}.log").read_text())
                await asyncio.sleep(0.02)
            yield bot
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            log.close()


async def answered(bot: Bot, future: asyncio.Future[float], timeout: float = 15.0) -> float | None:
    try:
        return await asyncio.wait_for(future, timeout)
    except TimeoutError:
        bot.failed += 1
        return None


async def closed_loop(
    bot: Bot, senders: int, chats: list[int], text: Callable[[int], str], seconds: float
) -> dict[str, float]:
    """``senders`` users each send, wait for the reply and send again, for ``seconds``.

    Each sender moves on to the next of ``chats`` after every reply, so one chat gets an update only
    every ``len(chats) / senders`` rounds: Telegram's pace of about one message a second per private
    chat (which the bot keeps to) then never limits the rate, the bot does."""
    latencies: list[float] = []
    cpu = bot.cpu_seconds()
    began = time.perf_counter()
    stop = began + seconds

    async def one(sender: int) -> None:
        turn = 0
        while time.perf_counter() < stop:
            user_id = chats[(sender + senders * turn) % len(chats)]
            turn += 1
            latency = await answered(bot, bot.push(user_id, text(user_id)))
            if latency is None:
                return
            latencies.append(latency)

    await asyncio.gather(*(one(n) for n in range(senders)))
    elapsed = time.perf_counter() - began
    used = bot.cpu_seconds() - cpu
    bot.fake.clear()
    return {
        "rate": len(latencies) / elapsed,
        "cpu_ms": 1000 * used / max(1, len(latencies)),
        "p50": 1000 * percentile(latencies, 50),
        "p99": 1000 * percentile(latencies, 99),
    }


async def open_loop(
    bot: Bot, users: list[int], texts: list[str], rate: float, seconds: float
) -> dict[str, float]:
    """Updates arrive at ``rate`` per second whatever the bot does; users and texts in turn."""
    futures: list[Awaitable[float | None]] = []
    began = time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        user_id = users[n % len(users)]
        futures.append(answered(bot, bot.push(user_id, texts[n % len(texts)])))
    results = await asyncio.gather(*futures)
    latencies = [r for r in results if r is not None]
    bot.fake.clear()
    return {"p50": 1000 * percentile(latencies, 50), "p99": 1000 * percentile(latencies, 99)}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def bare_score(user_id: int) -> str:
    return str(user_id % 4 + 2)


async def run_backstretch(folder: Path, seconds: float, results: dict[str, list[float]]) -> None:
    extra = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/backstretch.db",
        "SEND_RATE": SEND_RATE,
        "REMINDER_TICK_SECONDS": "3600",
        "LOG_LEVEL": "INFO",
    }
    async with started("backstretch", [sys.executable, "-m", "bot"], folder, extra) as bot:
        users = list(range(100_001, 100_001 + CHATS))
        # every user has talked to the bot before (their row exists), and the picture is uploaded
        await asyncio.gather(*(answered(bot, bot.push(u, "/help")) for u in users))
        await answered(bot, bot.push(users[0], STRETCH))
        await asyncio.sleep(1.0)
        bot.fake.clear()
        results["rss_idle"].append(bot.rss_mb())

        closed = await closed_loop(bot, 50, users, lambda u: "/routine", seconds)
        results["closed_rate"].append(closed["rate"])
        results["cpu_routine"].append(closed["cpu_ms"])
        results["closed_p99"].append(closed["p99"])
        stretch = await closed_loop(bot, 50, users, lambda u: STRETCH, seconds / 2)
        results["cpu_stretch"].append(stretch["cpu_ms"])
        score = await closed_loop(bot, 50, users, bare_score, seconds / 2)
        results["cpu_score"].append(score["cpu_ms"])
        floor = await closed_loop(bot, 50, users, lambda u: "/safety", seconds / 2)
        results["cpu_safety"].append(floor["cpu_ms"])

        mixed = ["/routine", STRETCH, "3"]
        fast = await open_loop(bot, users, mixed, 100, seconds)
        results["open100_p50"].append(fast["p50"])
        results["open100_p99"].append(fast["p99"])
        bot.fake.latency = 0.05
        slow = await open_loop(bot, users, mixed, 50, seconds)
        bot.fake.latency = 0.0
        results["open50_p50"].append(slow["p50"])
        results["open50_p99"].append(slow["p99"])

        await answered(bot, bot.push(users[100], "/progress"))
        while not bot.fake.calls_to("sendPhoto"):
            await asyncio.sleep(0.05)
        results["rss_chart"].append(bot.rss_mb())
        results["failed"].append(bot.failed + bot.fake.sorry)


async def run_reference(kind: str, folder: Path, seconds: float, results: dict[str, list[float]]) -> None:
    command = [sys.executable, str(ROOT / "bench" / "reference_bot.py"), kind]
    async with started(f"ref-{kind}", command, folder, {"REFERENCE_DB": str(folder / "ref.db")}) as bot:
        users = list(range(100_001, 100_001 + CHATS))
        await asyncio.gather(*(answered(bot, bot.push(u, "/help")) for u in users))
        bot.fake.clear()
        closed = await closed_loop(bot, 50, users, lambda u: "/routine", seconds)
        results[f"{kind}_rate"].append(closed["rate"])
        results[f"{kind}_cpu"].append(closed["cpu_ms"])


async def main(runs: int, seconds: float) -> None:
    results: dict[str, list[float]] = {}
    keys = (
        "rss_idle closed_rate cpu_routine closed_p99 cpu_stretch cpu_score cpu_safety open100_p50 open100_p99 "
        "open50_p50 open50_p99 rss_chart failed bare_rate bare_cpu sqlite_rate sqlite_cpu"
    )
    for key in keys.split():
        results[key] = []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            await run_backstretch(folder, seconds, results)
            await run_reference("bare", folder, seconds, results)
            await run_reference("sqlite", folder, seconds, results)
        print(
            f"run {run + 1}/{runs}: " + ", ".join(f"{k}={v[-1]:.1f}" for k, v in results.items()), flush=True
        )
    report(results, runs)


def report(results: dict[str, list[float]], runs: int) -> None:
    def med(key: str) -> float:
        return statistics.median(results[key])

    def span(key: str, unit: str = "", digits: int = 1) -> str:
        values = results[key]
        return f"{med(key):.{digits}f}{unit} ({min(values):.{digits}f}–{max(values):.{digits}f})"

    reference = med("sqlite_rate")
    rows = [
        ("closed loop, 50 users /routine", span("closed_rate", "/s", 0),
         f">= {0.8 * reference:.0f}/s (0.8 x PTB+SQLite) and >= 150/s"),
        ("  reference: bare PTB", span("bare_rate", "/s", 0), "—"),
        ("  reference: PTB + 1 SQLite read + 1 write", span("sqlite_rate", "/s", 0), "—"),
        ("open loop 100/s: p50 / p99", f"{med('open100_p50'):.1f} / {span('open100_p99', ' ms')}", "p99 <= 50 ms"),
        ("open loop 50/s, 50 ms per API call: p50 / p99",
         f"{med('open50_p50'):.1f} / {span('open50_p99', ' ms')}", "p99 <= 100 ms"),
        ("CPU per update: /routine", span("cpu_routine", " ms", 2), "<= 5 ms"),
        ("CPU per update: /stretch NAME", span("cpu_stretch", " ms", 2), "<= 5 ms"),
        ("CPU per update: bare pain score", span("cpu_score", " ms", 2), "<= 5 ms"),
        ("  for scale: /safety (no database at all)", span("cpu_safety", " ms", 2), "—"),
        ("  reference CPU per /routine: bare PTB / PTB+SQLite",
         f"{med('bare_cpu'):.2f} / {med('sqlite_cpu'):.2f} ms", "—"),
        ("resident memory: idle / after the first /progress chart",
         f"{med('rss_idle'):.0f} / {med('rss_chart'):.0f} MB", "report (256 MB VPS)"),
        ("failed updates (Sorry or unanswered), all scenarios", f"{sum(results['failed']):.0f}", "0"),
    ]  # fmt: skip
    print(f"\nMedians of {runs} runs (min–max), SEND_RATE={SEND_RATE}, SQLite, {os.cpu_count()} cores:\n")
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"{'Figure':<{width}}  {'Measured':<{value_width}}  Goal")
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:<{value_width}}  {goal}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each timed scenario")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.seconds))
