"""Smoke test: `python -m bot` as a real process, talking to the fake Bot API over loopback HTTP."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from tests.harness import ChatUser, FakeBotApi, FakeHttpServer
from tests.harness.process_env import process_env

ROOT = Path(__file__).resolve().parents[1]


def bot_env(tmp_path: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a bot process: the test's database (SQLite in ``tmp_path`` by default)."""
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    return process_env(DATABASE_URL=url, **extra)


async def run_bot(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.slow
async def test_real_process_answers_and_stops_cleanly_on_sigterm(tmp_path: Path, database_url: str) -> None:
    fake = FakeBotApi()
    async with FakeHttpServer(fake) as server:
        env = bot_env(
            tmp_path,
            database_url,
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=server.base_url,
            PYTHONPATH=str(ROOT),
        )
        process = await run_bot(tmp_path, env)
        try:
            user = ChatUser(fake, 4242, "Smoke")
            await user.send("/start")
            greeting = await user.wait_for(lambda m: "Backstretch" in m.text, timeout=30)
            assert "Hi Smoke" in greeting.text
            await user.send("/stretch cat cow")
            await user.wait_for(lambda m: "Cat" in m.text and "Dose" in m.text, timeout=10)
            assert next(c["command"] for c in fake.commands) == "routine"
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, stderr.decode()
        assert fake.token not in stderr.decode()
        if database_url.startswith("sqlite"):
            assert await asyncio.to_thread(Path(database_url.split("///", 1)[1]).exists)


async def test_missing_token_exits_2_with_a_hint(tmp_path: Path) -> None:
    process = await run_bot(tmp_path, bot_env(tmp_path, PYTHONPATH=str(ROOT)))
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "@BotFather" in lines[0]


async def test_invalid_setting_exits_2_naming_it(tmp_path: Path) -> None:
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN="1:x", TIMER_SCALE="fast", PYTHONPATH=str(ROOT))
    process = await run_bot(tmp_path, env)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2 and "TIMER_SCALE" in stderr.decode()
