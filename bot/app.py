"""The composition root: builds the Application from settings and services, and runs it."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import polling, ratelimit, render
from bot.aiohttp_request import AiohttpRequest
from bot.charts import warm_up
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import SERVICES_KEY, BotContext, Services, services_of
from bot.errors import on_error
from bot.handlers import basic, data, links, privacy, reminders, session, settings
from bot.instances import BEAT_JOB, BEAT_SECONDS, Instances
from bot.media import ExercisePictures
from bot.metrics import METRICS_KEY, Metrics
from bot.observed_request import ObservedRequest
from bot.parsing import BARE_NUMBER
from bot.processor import PerChatUpdateProcessor
from bot.reminders import ReminderService
from bot.runner import SessionRunner
from content.catalogue import Catalogue, load_catalogue
from storage.db import CHECKPOINT_SECONDS, Database

log = logging.getLogger(__name__)
AnyApplication = Application[Any, BotContext, Any, Any, Any, Any]
HOUSEKEEPING = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
"""APScheduler options of the repeating housekeeping jobs: one run at a time, a late run still runs,
missed runs are run once, not once each."""


def build_services(
    settings: Settings, *, catalogue: Catalogue | None = None, clock: Clock | None = None
) -> Services:
    return Services(
        settings=settings,
        db=Database(settings.database_url, pool_size=settings.database_pool_size),
        catalogue=catalogue or load_catalogue(),
        clock=clock or SystemClock(),
    )


def build_application(
    services: Services,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    update_processor: PerChatUpdateProcessor | None = None,
) -> AnyApplication:
    """Wire the handlers; ``request`` lets tests talk to a fake Bot API in-process."""
    settings = services.settings
    # --- issue 11: every Bot API request is measured (bot.observed_request)
    metrics = Metrics()
    pool = settings.concurrent_updates + 8  # what the builder's connection_pool_size/pool_timeout made
    limiter = ratelimit.for_settings(settings)  # issue 12: replies never wait for broadcasts
    bot = polling.TolerantBot(  # issue 9: skips an update PTB cannot parse; parses each update once
        settings.token,
        base_url=settings.api_base_url or polling.DEFAULT_API_URL,
        request=ObservedRequest(
            request or AiohttpRequest(connection_pool_size=pool, pool_timeout=10.0), metrics
        ),
        get_updates_request=ObservedRequest(
            get_updates_request or request or AiohttpRequest(connection_pool_size=1), metrics
        ),
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        rate_limiter=limiter,
    )
    # ---
    builder = (
        Application.builder()
        .bot(bot)
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(update_processor or PerChatUpdateProcessor(settings.concurrent_updates))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.webhook_url:
        builder = builder.updater(None)  # bot.web puts the updates on application.update_queue
    application: AnyApplication = builder.build()
    # --- issue 11: the application's own metrics registry (bot.metrics), served at /metrics (bot.web)
    application.bot_data[METRICS_KEY] = metrics
    if isinstance(application.update_processor, PerChatUpdateProcessor):
        application.update_processor.metrics = metrics
    # ---
    application.bot_data[SERVICES_KEY] = services
    services.runner = SessionRunner(services)
    services.runner.attach(application)
    services.reminders = ReminderService(services)
    services.reminders.attach(application)
    services.instances = Instances(services.db, services.clock, limiter)  # they share SEND_RATE
    if services.pictures is None:  # issue 13: exercise pictures, uploaded once and resent by file_id
        services.pictures = ExercisePictures.for_settings(settings, services.db, services.clock)
    _add_handlers(application)
    return application


def _add_handlers(app: AnyApplication) -> None:
    app.add_handler(TypeHandler(Update, privacy.guard), group=-1)
    app.add_handler(CommandHandler("start", links.start))
    app.add_handler(CommandHandler("help", basic.help_command))
    app.add_handler(CommandHandler("safety", basic.safety_command))
    app.add_handler(CommandHandler("exercises", basic.exercises))
    app.add_handler(CommandHandler("stretch", basic.stretch))
    app.add_handler(MessageHandler(filters.Regex(r"^/stretch_[a-z0-9_]+(@\w+)?\s*$"), basic.stretch_link))
    app.add_handler(CommandHandler("routine", basic.routine))
    app.add_handler(CommandHandler("session", session.session_command))
    app.add_handler(CommandHandler("pain", session.pain_command))
    app.add_handler(CommandHandler("stats", session.stats))
    app.add_handler(CommandHandler("remind", reminders.remind))
    app.add_handler(CommandHandler("timezone", reminders.timezone))
    app.add_handler(CommandHandler("progress", data.progress))
    app.add_handler(CommandHandler("export", data.export))
    app.add_handler(CommandHandler("forget", data.forget))
    app.add_handler(CommandHandler("settings", settings.settings))
    app.add_handler(CommandHandler("break", settings.break_command))
    app.add_handler(CallbackQueryHandler(session.on_button))
    app.add_handler(MessageHandler(filters.COMMAND, basic.unknown_command))
    app.add_handler(MessageHandler(filters.Regex(BARE_NUMBER) & ~filters.COMMAND, session.bare_number))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, basic.free_text))
    app.add_error_handler(on_error)


async def _post_init(app: AnyApplication) -> None:
    services = services_of(app)
    await services.db.migrate()
    if services.instances is not None and services.instances.shared and app.job_queue is not None:
        await services.instances.beat()  # before any broadcast: this instance's part of SEND_RATE
        app.job_queue.run_repeating(_beat, interval=BEAT_SECONDS, name=BEAT_JOB, job_kwargs=HOUSEKEEPING)
    await app.bot.set_my_commands([BotCommand(name, description) for name, description in render.COMMANDS])
    if services.reminders is not None:
        expired = await services.reminders.recover()
        if expired:
            log.info("%d reminder(s) claimed before a restart were too late to send", expired)
        services.reminders.start_ticking()
    if services.db.checkpoints and app.job_queue is not None:  # SQLite: off the write path (storage.db)
        app.job_queue.run_repeating(
            _checkpoint, interval=CHECKPOINT_SECONDS, name="sqlite-checkpoint", job_kwargs=HOUSEKEEPING
        )
    threading.Thread(
        target=warm_up, name="matplotlib warm-up", daemon=True
    ).start()  # first /progress stays quick
    if services.runner is not None:
        going_on = await services.runner.restore()
        if going_on:
            log.info("%d guided session(s) go on where they were", going_on)
    log.info("Backstretch is up as @%s", app.bot.username)


async def _beat(context: BotContext) -> None:
    if context.services.instances is not None:
        await context.services.instances.beat()


async def _checkpoint(context: BotContext) -> None:
    try:
        await context.services.db.checkpoint()
    except Exception:  # a disk error now is retried next time; commits go on meanwhile
        log.warning("could not copy SQLite's write-ahead log into the database file", exc_info=True)


async def _post_shutdown(app: AnyApplication) -> None:
    services = services_of(app)
    if services.reminders is not None:
        await services.reminders.stop()
    if services.runner is not None:
        await services.runner.locks.dispose()
    if services.instances is not None and services.instances.shared:
        await services.instances.leave()
    await services.db.dispose()


@asynccontextmanager
async def running(app: AnyApplication, *, poll_timeout: float = 1.0) -> AsyncIterator[AnyApplication]:
    """Start the application as ``run_polling`` does, without owning the event loop (tests, benchmarks)."""
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=int(poll_timeout) or 1, allowed_updates=Update.ALL_TYPES
        )
        await app.start()
        try:
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            if app.post_stop:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)
