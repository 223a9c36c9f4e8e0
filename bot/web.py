"""The bot's HTTP server (aiohttp): Telegram's webhook, ``/healthz``, ``/readyz`` and ``/metrics``.

Webhook mode follows python-telegram-bot's custom-server pattern (its ``customwebhookbot`` examples):
the Application runs without an Updater, and the web handler puts each update on
``application.update_queue``; the Application's update processor takes it from there, exactly as
with polling.  Telegram gets its answer as soon as the update is queued.

``POST <path of WEBHOOK_URL>``:

- without the right ``X-Telegram-Bot-Api-Secret-Token`` header: 403, and nothing is read or done;
- a body over ``MAX_BODY`` (1 MiB; Telegram's updates are a few KiB): 413;
- a body that is not a JSON object with an integer ``update_id``: 400;
- an update python-telegram-bot cannot parse: 200 (Telegram would otherwise send it again, forever)
  and one log line with its id and type, never its content;
- otherwise 200 once the update is queued (503 while the Application is not running: Telegram retries).

``GET /healthz``: 200 ``ok`` while the process serves HTTP (liveness).
``GET /readyz``: 200 when the Application runs, the database answers ``SELECT 1`` and its Alembic
revision is the code's head; otherwise 503 with a short reason (readiness: a load balancer sends
webhook requests to ready instances only).
``GET /metrics``: Prometheus text format, from the Application's own registry (``bot.metrics``).

On SIGTERM (``serve_webhook``): the listening socket closes, requests in progress finish, the
Application handles the updates already queued and stops; the webhook stays set for the next instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from alembic.script import ScriptDirectory
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot import polling
from bot.config import Settings
from bot.context import services_of
from bot.metrics import Metrics, metrics_of
from storage.db import alembic_config

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024
"""Largest webhook body taken (bytes): Telegram's updates are a few KiB, the longest text 4,096 chars."""
READY_TIMEOUT = 3.0
"""Seconds ``/readyz`` waits for the database before it answers 503."""
HTTP_GRACE = 2.0
"""On stop: seconds the requests in progress get (the webhook handler only queues, so it is quick)."""
VERSION_TABLE = "alembic_version"
"""Where Alembic keeps the database's revision (storage/migrations/env.py keeps the default)."""
STOP_SECONDS = 9.0
"""On SIGTERM: the whole stop (HTTP, updates in flight, the Application) stays within this."""

AnyApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class Webhook:
    path: str
    secret: str


class WebhookError(Exception):
    """Telegram refused ``setWebhook``; the message is meant for the person running the bot."""


class ListenError(Exception):
    """The web server cannot listen where it was told to (the port is taken, the address is not ours)."""


# --- readiness -----------------------------------------------------------------------------------------


@functools.cache
def code_heads() -> frozenset[str]:
    """The Alembic head revision(s) of the migrations shipped with this code."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def readiness(application: AnyApp) -> str | None:
    """None when ready; otherwise a short reason (no host names, no passwords)."""
    if not application.running:
        return "the application is not running"
    db = services_of(application).db
    try:
        async with asyncio.timeout(READY_TIMEOUT), db.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
            try:  # read directly: Alembic's MigrationContext logs two INFO lines per probe
                rows = await connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}")
                current = frozenset(str(row[0]) for row in rows)
            except SQLAlchemyError:
                current = frozenset()  # no version table: never migrated
    except TimeoutError:
        return f"the database did not answer within {READY_TIMEOUT:g} s"
    except Exception as exc:
        log.debug("readiness: the database failed", exc_info=True)
        return f"the database is unreachable ({type(exc).__name__})"
    wanted = code_heads()
    if current != wanted:
        have = ", ".join(sorted(current)) or "no revision"
        return f"the database schema is at {have}, this code needs {', '.join(sorted(wanted))}: run the migrations"
    return None


# --- the web application -------------------------------------------------------------------------------


class _Routes:
    def __init__(self, application: AnyApp, webhook: Webhook | None) -> None:
        self.application = application
        self.webhook = webhook
        self.metrics: Metrics | None = metrics_of(application)
        self._not_ready: str | None = None

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        reason = await readiness(self.application)
        if reason != self._not_ready:  # one log line per change, not one per probe
            if reason is None:
                log.info("ready")
            else:
                log.warning("not ready: %s", reason)
            self._not_ready = reason
        if reason is None:
            return web.Response(text="ready\n")
        return web.Response(status=503, text=f"not ready: {reason}\n")

    async def metrics_page(self, request: web.Request) -> web.Response:
        body = self.metrics.exposition() if self.metrics is not None else b""
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def update(self, request: web.Request) -> web.Response:
        response = await self._update(request)
        if self.metrics is not None:
            self.metrics.webhook_requests.labels(str(response.status)).inc()
        return response

    async def _update(self, request: web.Request) -> web.Response:
        assert self.webhook is not None
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self.webhook.secret.encode()):
            return web.Response(status=403, text="forbidden\n")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="too large\n")
        try:
            body = await request.read()  # aiohttp stops at client_max_size (MAX_BODY)
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="too large\n")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # also bytes that are not UTF-8, and [[[[…]]]]
            return web.Response(status=400, text="not JSON\n")
        if polling.update_id_of(data) is None:
            return web.Response(status=400, text="not an update\n")
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception as exc:  # whatever PTB chokes on: answered, so Telegram does not send it again
            log.error("%s", polling.unparsable(data, exc))
            return web.Response(text="skipped\n")
        if not self.application.running:
            return web.Response(status=503, text="stopping\n")
        await self.application.update_queue.put(update)
        return web.Response(text="ok\n")


def make_web_app(application: AnyApp, webhook: Webhook | None = None) -> web.Application:
    """The aiohttp application: health, readiness and metrics; the webhook too if ``webhook`` is given."""
    routes = _Routes(application, webhook)
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/healthz", routes.healthz)
    app.router.add_get("/readyz", routes.readyz)
    app.router.add_get("/metrics", routes.metrics_page)
    if webhook is not None:
        app.router.add_post(webhook.path, routes.update)
    return app


class WebServer:
    """``make_web_app`` served on ``host:port`` (port 0: any free port, see ``port`` once started)."""

    def __init__(self, application: AnyApp, host: str, port: int, webhook: Webhook | None = None) -> None:
        self.application, self.host, self.port, self.webhook = application, host, port, webhook
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        runner = web.AppRunner(
            make_web_app(self.application, self.webhook),
            handle_signals=False,
            access_log=None,  # one line per update would drown the log; /metrics counts them
            shutdown_timeout=HTTP_GRACE,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ListenError(f"cannot listen on {self.host}:{self.port} ({exc.strerror or exc})") from exc
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Close the listening socket, let the requests in progress finish (``HTTP_GRACE``), close."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


# --- webhook mode --------------------------------------------------------------------------------------


async def register_webhook(
    application: AnyApp, settings: Settings, stop: asyncio.Event | None = None
) -> bool:
    """``setWebhook`` with the secret, the update types the handlers take and the connection limit.

    Network trouble is retried with backoff (False if ``stop`` is set meanwhile); a refusal raises
    ``WebhookError``.
    """
    delays = polling.backoff(1, 30)
    attempt = 0
    while True:
        try:
            await application.bot.set_webhook(
                url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=polling.allowed_updates(application),
                max_connections=settings.webhook_max_connections,
            )
        except (NetworkError, RetryAfter) as exc:
            delay = delays[min(attempt, len(delays) - 1)]
            attempt += 1
            log.warning("setWebhook failed (%s: %s); retrying in %g s", type(exc).__name__, exc, delay)
            if stop is None:
                await asyncio.sleep(delay)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
                return False
            continue
        except TelegramError as exc:
            raise WebhookError(f"Telegram refused the webhook {settings.webhook_url}: {exc}") from exc
        return True


async def stop_application(application: AnyApp, timeout: float) -> None:
    """Stop as ``run_webhook`` does (queued and running updates are finished), within ``timeout``."""
    if application.running:
        try:
            await asyncio.wait_for(application.stop(), timeout=max(timeout, 0.1))
        except TimeoutError:
            log.warning("updates still running after %.1f s: stopping without them", timeout)
    if application.post_stop:
        await application.post_stop(application)


@asynccontextmanager
async def webhook_serving(
    application: AnyApp, settings: Settings, stop: asyncio.Event | None = None
) -> AsyncIterator[WebServer]:
    """Run the Application in webhook mode for the body of the ``with``; then stop it gracefully.

    Start-up: initialize, ``post_init`` (migrations, …), start the Application, listen, ``setWebhook``.
    The webhook is never deleted: the next instance (a rolling deploy) takes over the same URL.
    """
    if not settings.webhook_url or not settings.webhook_secret:
        raise ValueError("webhook mode needs webhook_url and webhook_secret")
    webhook = Webhook(settings.webhook_path, settings.webhook_secret)
    server = WebServer(application, settings.webhook_listen, settings.webhook_port, webhook)
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        await application.start()
        stopped_at: float | None = None
        try:
            await server.start()
            try:
                if await register_webhook(application, settings, stop):
                    log.info(
                        "webhook set to %s; serving it on %s%s",
                        settings.webhook_url,
                        server.url,
                        webhook.path,
                    )
                yield server
            finally:
                stopped_at = time.monotonic()
                await server.stop()
        finally:
            spent = time.monotonic() - stopped_at if stopped_at is not None else 0.0
            await stop_application(application, STOP_SECONDS - spent)
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


async def serve_webhook(application: AnyApp, settings: Settings, stop: asyncio.Event) -> None:
    """``python -m bot`` in webhook mode: serve until ``stop`` is set (SIGTERM, SIGINT)."""
    async with webhook_serving(application, settings, stop):
        await stop.wait()
        log.info("stopping: no new requests; finishing the updates in flight")
