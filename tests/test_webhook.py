"""Webhook mode, /healthz, /readyz, /metrics and the graceful stop (issue 11).

In-process: the real Application in webhook mode (``bot.web.webhook_serving``) on a loopback port,
with the fake Bot API in-process; requests come over real HTTP (httpx).  Slow: ``python -m bot`` as a
process in webhook mode and in polling mode with HEALTH_PORT, against the fake over loopback HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from telegram.error import NetworkError, TimedOut

from bot import metrics
from bot.app import AnyApplication, build_application, build_services
from bot.config import Settings
from bot.context import Services
from bot.metrics import Metrics, metrics_of
from bot.observed_request import ObservedRequest, api_method
from bot.polling import allowed_updates
from bot.reminders import TICK_JOB
from bot.web import MAX_BODY, SECRET_HEADER, WebServer, webhook_serving
from storage.db import Database
from tests.conftest import TrackingProcessor
from tests.harness import ChatUser, FakeBotApi, FakeHttpServer, FakeRequest
from tests.test_smoke_process import ROOT, bot_env

SECRET = "Kx7_test-secret_0123456789abcdefGHIJ"
URL = "https://bot.example.test/telegram/updates"
PATH = "/telegram/updates"
UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/nothing"


@dataclass
class Hooked:
    """A bot in webhook mode and an HTTP client pointed at its server."""

    app: AnyApplication
    services: Services
    fake: FakeBotApi
    processor: TrackingProcessor
    server: WebServer
    http: httpx.AsyncClient

    async def post(
        self, body: bytes | dict[str, Any] | AsyncIterator[bytes], secret: str | bytes | None = SECRET
    ) -> httpx.Response:
        headers: dict[str, str | bytes] = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        content = json.dumps(body).encode() if isinstance(body, dict) else body
        return await self.http.post(PATH, content=content, headers=headers)

    async def deliver(self, update: dict[str, Any]) -> int:
        """What Telegram does: the update is posted to the webhook; waits until it was handled."""
        update_id = self.fake.push_update(update)  # numbered and noted by the fake; nobody polls it
        response = await self.post({**update, "update_id": update_id})
        assert response.status_code == 200, response.text
        await self.processor.wait_done(update_id)
        return update_id

    async def metric(self, name: str, **labels: str) -> float:
        return sample(await self.http.get("/metrics"), name, **labels)


async def poll_until(predicate: Callable[[], bool], timeout: float = 10) -> None:
    """For what the fake records without waking its waiters (a call it received, not yet answered)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def sample(response: httpx.Response, name: str, **labels: str) -> float:
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    raise AssertionError(f"no sample {name}{labels} in /metrics")


@asynccontextmanager
async def hooked(fake: FakeBotApi, settings: Settings) -> AsyncIterator[Hooked]:
    settings = replace(settings, webhook_url=URL, webhook_secret=SECRET, webhook_port=0)
    services = build_services(settings)
    processor = TrackingProcessor(8)
    app = build_application(services, request=FakeRequest(fake), update_processor=processor)
    assert app.updater is None  # the custom-server pattern: updates come from bot.web
    async with webhook_serving(app, settings) as server:
        assert app.job_queue is not None
        for job in app.job_queue.get_jobs_by_name(TICK_JOB):
            job.schedule_removal()
        async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=10) as http:
            yield Hooked(app, services, fake, processor, server, http)


@pytest.fixture
async def hook(fake: FakeBotApi, settings: Settings) -> AsyncIterator[Hooked]:
    async with hooked(fake, settings) as running_hook:
        yield running_hook


# --- the webhook -----------------------------------------------------------------------------------------


async def test_setwebhook_has_the_secret_the_update_types_and_the_limit(hook: Hooked) -> None:
    (call,) = hook.fake.calls_to("setWebhook")
    assert call["url"] == URL and call["secret_token"] == SECRET
    assert call["allowed_updates"] == allowed_updates(hook.app)
    assert set(call["allowed_updates"]) == {"message", "edited_message", "callback_query"}
    assert call["max_connections"] == 40
    assert not hook.fake.calls_to("deleteWebhook") and not hook.fake.calls_to("getUpdates")


async def test_an_update_with_the_secret_is_handled(hook: Hooked) -> None:
    user = ChatUser(hook.fake, 1001, "Ana")
    await hook.deliver(user.message_update("/start"))
    assert any("Hi Ana" in m.text for m in hook.fake.messages(1001))


async def test_a_wrong_or_missing_secret_gets_403_and_nothing_happens(hook: Hooked) -> None:
    user = ChatUser(hook.fake, 1002, "Eve")
    update = {**user.message_update("/start"), "update_id": 500}
    for secret in (None, "", SECRET[:-1], SECRET + "x", SECRET.upper(), "é".encode() * 40):
        response = await hook.post(update, secret=secret)
        assert response.status_code == 403, secret
    await asyncio.sleep(0.2)
    assert not hook.processor.finished and not hook.fake.messages(1002)
    assert await hook.metric("backstretch_webhook_requests_total", status="403") == 6


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe", b"[1, 2]", b'"text"', b"{}", b'{"update_id": "5"}', b'{"update_id": true}',
     b'{"message": {"text": "/start"}}', b"[" * 200_000],
    ids=["empty", "text", "not-utf8", "list", "string", "no-id", "id-string", "id-bool", "no-id-message",
         "deep"],
)  # fmt: skip
async def test_a_malformed_body_gets_400(hook: Hooked, body: bytes) -> None:
    response = await hook.post(body)
    assert response.status_code == 400
    assert not hook.processor.finished


async def test_an_oversize_body_gets_413(hook: Hooked) -> None:
    big = b'{"update_id": 1, "padding": "' + b"x" * MAX_BODY + b'"}'
    assert (await hook.post(big)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: aiohttp counts as it reads
        for _ in range(20):
            yield b"x" * 65536

    assert (await hook.post(chunks())).status_code == 413
    assert (await hook.post(big, secret="wrong")).status_code == 403  # the secret is checked first
    await asyncio.sleep(0.1)
    assert not hook.processor.finished


async def test_a_poison_update_gets_200_and_one_log_line(
    hook: Hooked, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.web"):
        response = await hook.post({"update_id": 77, "message": "not an object"})
    assert response.status_code == 200  # or Telegram sends it again, forever
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.web"]
    assert len(lines) == 1 and "skipped update 77 (message)" in lines[0]
    assert "not an object" not in lines[0]  # its id and type, never its content
    user = ChatUser(hook.fake, 1003, "Bo")
    await hook.deliver(user.message_update("/help"))  # and the next update goes through
    assert hook.fake.messages(1003)


async def test_other_methods_and_paths_are_refused(hook: Hooked) -> None:
    assert (await hook.http.get(PATH)).status_code == 405
    assert (
        await hook.http.post("/elsewhere", headers={SECRET_HEADER: SECRET}, content=b"{}")
    ).status_code == 404


# --- health and readiness --------------------------------------------------------------------------------


async def test_healthz_and_readyz(hook: Hooked) -> None:
    response = await hook.http.get("/healthz")
    assert response.status_code == 200 and response.text.strip() == "ok"
    response = await hook.http.get("/readyz")
    assert response.status_code == 200, response.text


async def test_readyz_is_503_when_the_database_is_not_migrated(hook: Hooked) -> None:
    async with hook.services.db.engine.begin() as connection:
        (head,) = (await connection.execute(text("SELECT version_num FROM alembic_version"))).one()
        await connection.execute(text("UPDATE alembic_version SET version_num = 'an_older_one'"))
    try:
        response = await hook.http.get("/readyz")
        assert response.status_code == 503
        assert "an_older_one" in response.text and "run the migrations" in response.text
        assert (await hook.http.get("/healthz")).status_code == 200  # alive all the same
    finally:
        async with hook.services.db.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert (await hook.http.get("/readyz")).status_code == 200


async def test_readyz_is_503_when_the_database_is_unreachable(hook: Hooked) -> None:
    working, hook.services.db = hook.services.db, Database(UNREACHABLE_DATABASE)
    try:
        started = time.monotonic()
        response = await hook.http.get("/readyz")
        assert response.status_code == 503 and "database" in response.text
        assert "127.0.0.1" not in response.text  # no addresses or credentials in the answer
        assert time.monotonic() - started < 5
    finally:
        await hook.services.db.dispose()
        hook.services.db = working
    assert (await hook.http.get("/readyz")).status_code == 200


async def test_polling_mode_serves_health_and_metrics_without_a_webhook(bot: Any) -> None:
    server = WebServer(bot.app, "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            assert sample(await http.get("/metrics"), "backstretch_bot_api_calls_total", method="getMe") >= 1
            response = await http.post(PATH, headers={SECRET_HEADER: SECRET}, content=b"{}")
            assert response.status_code in (404, 405)
    finally:
        await server.stop()


# --- metrics ---------------------------------------------------------------------------------------------


async def test_metrics_count_updates_and_bot_api_calls_and_errors(hook: Hooked) -> None:
    user = ChatUser(hook.fake, 1004, "Cy")
    await hook.deliver(user.message_update("/start"))
    hook.fake.fail_next("sendMessage", "retry_after", chat_id=1004)  # the rate limiter waits and retries
    await hook.deliver(user.message_update("/help"))
    hook.fake.fail_next("sendMessage", "server", chat_id=1004)
    await hook.deliver(user.message_update("/help"))
    hook.fake.fail_next("sendMessage", "network", chat_id=1004)
    await hook.deliver(user.message_update("/help"))

    page = await hook.http.get("/metrics")
    assert page.headers["content-type"].startswith("text/plain")
    assert sample(page, "backstretch_updates_total", type="message") == 4
    assert sample(page, "backstretch_update_handling_seconds_count", type="message") == 4
    assert sample(page, "backstretch_webhook_requests_total", status="200") == 4
    sends = len(hook.fake.calls_to("sendMessage"))
    assert sample(page, "backstretch_bot_api_calls_total", method="sendMessage") == sends
    assert sample(page, "backstretch_bot_api_request_seconds_count", method="sendMessage") == sends
    assert sample(page, "backstretch_bot_api_calls_total", method="setWebhook") == 1
    for kind in ("429", "5xx", "network"):
        assert sample(page, "backstretch_bot_api_errors_total", method="sendMessage", kind=kind) == 1
    assert sample(page, "backstretch_reminders_total", outcome="failed") == 0
    assert sample(page, "backstretch_sessions_running") == 0


def test_each_application_has_its_own_registry(fake: FakeBotApi, settings: Settings) -> None:
    apps = [build_application(build_services(settings), request=FakeRequest(fake)) for _ in range(2)]
    first, second = (metrics_of(app) for app in apps)
    assert first is not None and second is not None and first.registry is not second.registry
    metrics.reminder(apps[0], "sent", 3)
    metrics.reminder(apps[0], "claimed")
    metrics.sessions_running(apps[1], 5)
    assert first.reminders.labels("sent")._value.get() == 3
    assert second.reminders.labels("sent")._value.get() == 0
    assert b"backstretch_sessions_running 5.0" in second.exposition()
    assert b"backstretch_sessions_running 0.0" in first.exposition()
    metrics.track_sessions(apps[0], lambda: 2)
    assert b"backstretch_sessions_running 2.0" in first.exposition()
    with pytest.raises(ValueError, match="unknown reminder outcome"):
        metrics.reminder(apps[0], "delivered")
    metrics.reminder(None, "sent")  # no application (a unit test of the reminder service): nothing
    Metrics()  # never the global default registry: any number of them


# --- the graceful stop -----------------------------------------------------------------------------------


async def test_stop_finishes_the_update_in_flight_and_keeps_the_webhook(
    fake: FakeBotApi, settings: Settings
) -> None:
    user = ChatUser(fake, 1005, "Di")
    async with hooked(fake, settings) as hook:
        port = hook.server.port
        fake.latency = 0.5
        update_id = fake.push_update(user.message_update("/help"))
        response = await hook.post({**user.message_update("/help"), "update_id": update_id})
        assert response.status_code == 200
        await poll_until(lambda: any(c.get("chat_id") == 1005 for c in fake.calls_to("sendMessage")))
        started = time.monotonic()
    assert time.monotonic() - started < 10
    assert hook.processor.finished == {update_id}
    assert fake.messages(1005), "the update in flight was finished"
    assert fake.webhook_url == URL and not fake.calls_to("deleteWebhook")
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)  # the listening socket is closed


# --- python -m bot as a process --------------------------------------------------------------------------


def read_log(path: Path) -> str:
    return path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_process(tmp_path: Path, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, Path]:
    """The bot with its output in a file (a DEBUG log would fill a pipe nobody reads)."""
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=log_file, stderr=log_file
        )
    return process, log_path


async def wait_ready(
    url: str, process: asyncio.subprocess.Process, log_path: Path, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(trust_env=False, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url + "/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"the bot never became ready:\n{read_log(log_path)[-3000:]}")


async def stop_process(process: asyncio.subprocess.Process) -> float:
    """SIGTERM; seconds until it exited."""
    started = time.monotonic()
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout=30)
    except TimeoutError:
        process.kill()
        await process.wait()
    return time.monotonic() - started


@pytest.mark.slow
async def test_real_process_in_webhook_mode(tmp_path: Path, database_url: str) -> None:
    fake = FakeBotApi()
    port = free_port()
    async with FakeHttpServer(fake) as api:
        env = bot_env(
            tmp_path,
            database_url,
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=api.base_url,
            PYTHONPATH=str(ROOT),
            LOG_LEVEL="DEBUG",  # PTB logs every call's parameters at DEBUG: setWebhook's secret too
            WEBHOOK_URL=URL,
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_PORT=str(port),
            WEBHOOK_MAX_CONNECTIONS="12",
        )
        process, log_path = await start_process(tmp_path, env)
        stopped_in: float | None = None
        try:
            local = f"http://127.0.0.1:{port}"
            await wait_ready(local, process, log_path)
            (call,) = fake.calls_to("setWebhook")
            assert call["url"] == URL and call["secret_token"] == SECRET and call["max_connections"] == 12
            assert set(call["allowed_updates"]) == {"message", "edited_message", "callback_query"}
            user = ChatUser(fake, 4343, "Hook")
            async with httpx.AsyncClient(base_url=local, trust_env=False, timeout=10) as http:

                async def post(update: dict[str, Any]) -> None:
                    update_id = fake.push_update(update)
                    response = await http.post(
                        PATH, json={**update, "update_id": update_id}, headers={SECRET_HEADER: SECRET}
                    )
                    assert response.status_code == 200

                await post(user.message_update("/start"))
                await user.wait_for(lambda m: "Hi Hook" in m.text, timeout=30)
                assert (
                    await http.post(PATH, json={"update_id": 9}, headers={SECRET_HEADER: "x"})
                ).status_code == 403

                # the greeting is done (all of it: the counter goes up once its handlers returned)
                deadline = time.monotonic() + 10
                while sample(await http.get("/metrics"), "backstretch_updates_total", type="message") < 1:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.05)
                fake.latency = 1.0  # the next reply is in flight when SIGTERM comes
                answered = len(fake.messages(4343))
                calls = len(fake.calls)
                await post(user.message_update("/help"))
                await poll_until(lambda: any(p.get("chat_id") == 4343 for _, p in fake.calls[calls:]))
                assert len(fake.messages(4343)) == answered  # asked, not answered yet
            stopped_in = await stop_process(process)
        finally:
            await stop_process(process)
        output = read_log(log_path)
        assert process.returncode == 0, output[-3000:]
        assert stopped_in is not None and stopped_in < 10, output[-3000:]
        assert len(fake.messages(4343)) > answered, "the update in flight was finished before the exit"
        assert SECRET not in output and fake.token not in output
        assert "<secret>" in output  # PTB's DEBUG line about setWebhook, redacted
        assert not fake.calls_to("deleteWebhook") and fake.webhook_url == URL


@pytest.mark.slow
async def test_real_process_in_polling_mode_serves_health_on_health_port(
    tmp_path: Path, database_url: str
) -> None:
    fake = FakeBotApi()
    port = free_port()
    async with FakeHttpServer(fake) as api:
        env = bot_env(
            tmp_path,
            database_url,
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=api.base_url,
            PYTHONPATH=str(ROOT),
            HEALTH_PORT=str(port),
        )
        process, log_path = await start_process(tmp_path, env)
        try:
            local = f"http://127.0.0.1:{port}"
            await wait_ready(local, process, log_path)
            user = ChatUser(fake, 4444, "Poll")
            await user.send("/start")
            await user.wait_for(lambda m: "Hi Poll" in m.text, timeout=30)
            async with httpx.AsyncClient(trust_env=False) as http:
                assert (await http.get(local + "/healthz")).status_code == 200
                page = await http.get(local + "/metrics")
            assert sample(page, "backstretch_updates_total", type="message") >= 1
            assert sample(page, "backstretch_bot_api_calls_total", method="getUpdates") >= 1
        finally:
            await stop_process(process)
        assert process.returncode == 0, read_log(log_path)[-3000:]
        assert not fake.calls_to("setWebhook")


# --- small pieces ----------------------------------------------------------------------------------------


def test_log_lines_never_show_the_token_or_the_secret() -> None:
    from bot.__main__ import RedactToken

    record = logging.LogRecord(
        "telegram.ext.ExtBot", logging.DEBUG, __file__, 1, "setWebhook %s with %s", ("123:tok", SECRET), None
    )
    assert RedactToken("123:tok", SECRET).filter(record)
    assert record.getMessage() == "setWebhook <token> with <secret>"
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "nothing %s", ("here",), None)
    assert RedactToken("123:tok", None).filter(plain) and plain.getMessage() == "nothing here"


@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("https://api.telegram.org/bot1:x/sendMessage", "sendMessage"),
        ("http://127.0.0.1:8081/bot1:x/getUpdates/", "getUpdates"),
        ("https://api.telegram.org/file/bot1:x/photos/file_1.jpg", "file"),
    ],
)
def test_api_method_labels(url: str, method: str) -> None:
    assert api_method(url) == method


async def test_each_kind_of_bot_api_failure_is_counted(fake: FakeBotApi) -> None:
    class Failing(FakeRequest):
        def __init__(self) -> None:
            super().__init__(fake)
            self.answers: list[Any] = [
                (403, b"{}"),
                (400, b"{}"),
                (502, b"{}"),
                TimedOut(),
                NetworkError("x"),
            ]

        async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer  # type: ignore[no-any-return]

    observed = ObservedRequest(Failing(), found := Metrics())
    for _ in range(5):
        with contextlib.suppress(Exception):
            await observed.do_request("https://api.telegram.org/bot1:x/sendMessage", "POST")
    errors = found.api_errors
    assert {
        k: errors.labels("sendMessage", k)._value.get() for k in ("4xx", "5xx", "timeout", "network")
    } == {
        "4xx": 2,
        "5xx": 1,
        "timeout": 1,
        "network": 1,
    }
    assert found.api_calls.labels("sendMessage")._value.get() == 5


@pytest.mark.slow
async def test_a_taken_port_stops_the_bot_with_exit_2_naming_it(tmp_path: Path, database_url: str) -> None:
    fake = FakeBotApi()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeHttpServer(fake) as api:
            env = bot_env(
                tmp_path,
                database_url,
                TELEGRAM_BOT_TOKEN=fake.token,
                TELEGRAM_API_BASE_URL=api.base_url,
                PYTHONPATH=str(ROOT),
                WEBHOOK_URL=URL,
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_PORT=str(port),
            )
            process, log_path = await start_process(tmp_path, env)
            await asyncio.wait_for(process.wait(), timeout=60)
    output = read_log(log_path)
    assert process.returncode == 2, output[-3000:]
    assert f"backstretch: WEBHOOK_PORT: cannot listen on 127.0.0.1:{port}" in output
    assert not fake.calls_to("setWebhook")
