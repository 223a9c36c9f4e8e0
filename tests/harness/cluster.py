"""Several real ``python -m bot`` processes in webhook mode, one PostgreSQL, one fake Bot API.

The test plays the load balancer: ``cluster.post(n, update)`` delivers an update to instance ``n``.
``cluster.kill(n)`` is a crash (SIGKILL); ``cluster.start(n)`` brings an instance (back) up. Every Bot
API call the instances make is time-stamped in ``cluster.calls`` (seconds, monotonic), so a test can
see when an instance acted after another died.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.harness.fake_api import FakeBotApi
from tests.harness.process_env import process_env

ROOT = Path(__file__).resolve().parents[2]
SECRET = "cluster_secret-0123456789abcdefghijklmnop"
WEBHOOK_PATH = "/telegram/updates"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    port: int
    folder: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "bot.log"


@dataclass
class Cluster:
    fake: FakeBotApi
    api_url: str
    database_url: str
    folder: Path
    size: int = 2
    env: dict[str, str] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)
    calls: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for n in range(self.size):
            folder = self.folder / f"instance{n}"
            folder.mkdir(parents=True, exist_ok=True)
            self.instances.append(Instance(free_port(), folder))
        original = self.fake.call

        async def observed(method: str, params: dict[str, Any], files: Any = None) -> Any:
            self.calls.append((time.monotonic(), method, params))
            return await original(method, params, files)

        self.fake.call = observed  # type: ignore[method-assign]

    def environment(self, instance: Instance) -> dict[str, str]:
        return process_env(
            TELEGRAM_BOT_TOKEN=self.fake.token,
            TELEGRAM_API_BASE_URL=self.api_url,
            DATABASE_URL=self.database_url,
            WEBHOOK_URL=f"https://bot.example.test{WEBHOOK_PATH}",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(instance.port),
            **self.env,
        )

    async def start(self, n: int, timeout: float = 40) -> None:
        instance = self.instances[n]
        with instance.log.open("ab") as log:
            instance.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=instance.folder, env=self.environment(instance),
                stdout=log, stderr=log,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(trust_env=False, timeout=2) as http:
            while time.monotonic() < deadline:
                if instance.process.returncode is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(instance.url + "/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"instance {n} never became ready:\n{instance.log.read_text()[-3000:]}")

    async def kill(self, n: int) -> float:
        """SIGKILL instance ``n``; returns the moment (monotonic) it was sent."""
        process = self.instances[n].process
        assert process is not None and process.returncode is None, f"instance {n} is not running"
        moment = time.monotonic()
        process.send_signal(signal.SIGKILL)
        await process.wait()
        return moment

    async def stop_all(self) -> None:
        for instance in self.instances:
            process = instance.process
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), timeout=15)
                except TimeoutError:
                    process.kill()
                    await process.wait()

    async def post(self, n: int, update: dict[str, Any]) -> int:
        """Deliver ``update`` to instance ``n`` as Telegram would; returns its update_id."""
        update_id = self.fake.push_update(update)  # numbered and noted for the transcripts
        async with httpx.AsyncClient(base_url=self.instances[n].url, trust_env=False, timeout=10) as http:
            response = await http.post(
                WEBHOOK_PATH, json={**update, "update_id": update_id}, headers={SECRET_HEADER: SECRET}
            )
        assert response.status_code == 200, (response.status_code, response.text)
        return update_id

    def logs(self) -> str:
        return "\n".join(
            f"--- instance {n}\n{i.log.read_text()[-4000:]}" for n, i in enumerate(self.instances)
        )


__all__ = ["SECRET", "Cluster", "free_port"]
