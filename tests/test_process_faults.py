"""`python -m bot` as a real process when Telegram misbehaves (issue 9): it waits, skips, or says why."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness import ChatUser, FakeBotApi, FakeHttpServer
from tests.test_smoke_process import ROOT, bot_env, run_bot

pytestmark = pytest.mark.slow

POISON = {"message": {"message_id": 9, "date": 0, "chat": {"id": 5151}, "text": "hi"}}
"""``telegram.Update.de_json`` raises on it: the chat has no ``type``."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Stderr:
    """The process's stderr, read as it comes, so a test can wait for a line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        self.stream = process.stderr
        self.lines: list[str] = []
        self._new = asyncio.Event()
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while line := await self.stream.readline():
            self.lines.append(line.decode(errors="replace").rstrip("\n"))
            self._new.set()

    async def wait_for(self, predicate: Callable[[str], bool], timeout: float) -> str:
        async with asyncio.timeout(timeout):
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if predicate(line):
                        return line
                seen = len(self.lines)
                if self.task.done():
                    raise AssertionError("the process ended first:\n" + self.text)
                self._new.clear()
                await asyncio.wait([asyncio.ensure_future(self._new.wait()), self.task], timeout=1)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


async def stop(process: asyncio.subprocess.Process, stderr: Stderr) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), timeout=30)
    await asyncio.wait_for(stderr.task, timeout=5)


async def test_waits_for_an_unreachable_bot_api_then_serves_and_skips_a_poison_update(
    tmp_path: Path, database_url: str
) -> None:
    fake = FakeBotApi()
    port = free_port()  # nothing listens here yet
    env = bot_env(
        tmp_path,
        database_url,
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot",
        PYTHONPATH=str(ROOT),
    )
    process = await run_bot(tmp_path, env)
    stderr = Stderr(process)
    try:
        first = await stderr.wait_for(lambda line: "retrying in" in line, timeout=30)
        assert "cannot reach the Telegram Bot API" in first and f"127.0.0.1:{port}" in first
        assert process.returncode is None  # still waiting, not crashed
        async with FakeHttpServer(fake, port=port):
            user = ChatUser(fake, 4343, "Late")
            await user.send("/start")
            greeting = await user.wait_for(lambda m: "Hi Late" in m.text, timeout=30)
            assert fake.calls_to("getUpdates")[-1]["allowed_updates"] == [
                "message",
                "edited_message",
                "callback_query",
            ]
            poison_id = fake.push_update(POISON)
            await user.send("/help")
            await user.wait_for(
                lambda m: m.message_id > greeting.message_id and "/routine" in m.text, timeout=10
            )
            await stop(process, stderr)
    finally:
        if process.returncode is None:
            process.kill()
            with contextlib.suppress(Exception):
                await process.wait()
    assert process.returncode == 0, stderr.text
    assert "Traceback" not in stderr.text, stderr.text
    assert "Error while parsing updates" not in stderr.text  # PTB's CRITICAL line, once per poll
    assert "Something went wrong processing the data" not in stderr.text
    assert len([line for line in stderr.lines if f"skipped update {poison_id}" in line]) == 1, stderr.text
    assert "reached the Telegram Bot API" in stderr.text
    assert fake.token not in stderr.text


async def test_a_stop_while_waiting_for_the_bot_api_exits_cleanly(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    env = bot_env(
        tmp_path,
        database_url,
        TELEGRAM_BOT_TOKEN="1:x",
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot",
        PYTHONPATH=str(ROOT),
    )
    process = await run_bot(tmp_path, env)
    stderr = Stderr(process)
    try:
        await stderr.wait_for(lambda line: "retrying in" in line, timeout=30)
    finally:
        await stop(process, stderr)
    assert process.returncode == 0, stderr.text
    assert "Traceback" not in stderr.text and "stopped before" in stderr.text, stderr.text


async def test_a_bot_api_answering_5xx_at_start_up_is_waited_for(tmp_path: Path, database_url: str) -> None:
    fake = FakeBotApi()
    fake.fail_next("getMe", "server", times=2)
    async with FakeHttpServer(fake) as server:
        env = bot_env(
            tmp_path,
            database_url,
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=server.base_url,
            PYTHONPATH=str(ROOT),
        )
        process = await run_bot(tmp_path, env)
        stderr = Stderr(process)
        try:
            user = ChatUser(fake, 4344, "Patient")
            await user.send("/start")
            await user.wait_for(lambda m: "Hi Patient" in m.text, timeout=30)
        finally:
            await stop(process, stderr)
    assert process.returncode == 0, stderr.text
    retries = [line for line in stderr.lines if "retrying in" in line]
    assert len(retries) == 2 and "Internal Server Error" in retries[0], stderr.text
    assert "Traceback" not in stderr.text


async def test_a_rejected_token_exits_2_with_one_clear_line(tmp_path: Path, database_url: str) -> None:
    fake = FakeBotApi()
    wrong = "999:WRONG-TOKEN"
    async with FakeHttpServer(fake) as server:
        env = bot_env(
            tmp_path,
            database_url,
            TELEGRAM_BOT_TOKEN=wrong,
            TELEGRAM_API_BASE_URL=server.base_url,
            PYTHONPATH=str(ROOT),
        )
        process = await run_bot(tmp_path, env)
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    text = err.decode()
    assert process.returncode == 2, text
    assert "Traceback" not in text and wrong not in text
    lines = [line for line in text.splitlines() if "token" in line.lower()]
    assert len(lines) == 1 and "401" in lines[0] and "TELEGRAM_BOT_TOKEN" in lines[0], text
