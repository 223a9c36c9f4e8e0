"""``python -m bot``: start Backstretch with long polling, or behind a webhook when WEBHOOK_URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys

from telegram.error import InvalidToken

from bot.app import AnyApplication, build_application, build_services
from bot.charts import warm_up
from bot.config import ConfigError, Settings, load_settings
from bot.polling import DEFAULT_API_URL, allowed_updates, connect
from bot.web import ListenError, WebhookError, WebServer, serve_webhook
from content.catalogue import CatalogueError


class RedactToken(logging.Filter):
    """Keeps the bot token (httpx logs request URLs, which contain it) and the webhook secret (PTB logs
    the parameters of setWebhook at DEBUG) out of every log line."""

    def __init__(self, token: str, *secrets: str | None) -> None:
        super().__init__()
        self.token = token
        self.replacements = [(token, "<token>"), *((s, "<secret>") for s in secrets if s)]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret, placeholder in self.replacements:
            redacted = redacted.replace(secret, placeholder)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactToken(settings.token, settings.webhook_secret))
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[handler],
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


async def reach_telegram(application: AnyApplication, settings: Settings) -> bool:
    """Initialize (``getMe``), waiting for an unreachable Bot API; False if stopped by a signal first."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    for sig in stop_signals:
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C still raises KeyboardInterrupt
            loop.add_signal_handler(sig, task.cancel)
    try:
        await connect(application, where=settings.api_base_url or DEFAULT_API_URL)
    except asyncio.CancelledError:
        logging.getLogger(__name__).info("stopped before the Telegram Bot API could be reached")
        return False
    finally:
        for sig in stop_signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    return True


def main() -> int:
    try:
        settings = load_settings()
        services = build_services(settings)
    except (ConfigError, CatalogueError) as exc:
        print(f"backstretch: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings)
    application = build_application(services)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # run_polling goes on in this loop, with the bot it initialized
    try:
        if not loop.run_until_complete(reach_telegram(application, settings)):
            loop.close()
            return 0
    except InvalidToken:
        loop.close()
        print(
            "backstretch: Telegram rejected the bot token (401 Unauthorized). Check TELEGRAM_BOT_TOKEN: "
            "@BotFather shows the current token of your bot (/mybots).",
            file=sys.stderr,
        )
        return 2
    settle_memory()
    if settings.webhook_url:
        return run_webhook(loop, application, settings)
    try:
        health = start_health_server(loop, application, settings)
    except ListenError as exc:
        loop.run_until_complete(application.shutdown())
        loop.close()
        print(f"backstretch: HEALTH_PORT: {exc}", file=sys.stderr)
        return 2
    try:
        application.run_polling(
            allowed_updates=allowed_updates(application),
            poll_interval=0.0,
            timeout=30,
            bootstrap_retries=-1,
            close_loop=False,
        )
    finally:
        if health is not None:
            loop.run_until_complete(health.stop())
        loop.close()
    return 0


def settle_memory() -> None:
    """Exempt what start-up loaded (python-telegram-bot, SQLAlchemy, matplotlib, the catalogue and the
    poses: about a million objects that live as long as the process) from the garbage collector's full
    passes. Each pass walked all of them, 60-100 ms with every update waiting (issue 12: the p99 of the
    open-loop benchmark); now it walks only what was made since."""
    warm_up()  # the chart stack too (post_init may be importing it in its thread: imports take turns)
    gc.collect()
    gc.freeze()


def start_health_server(
    loop: asyncio.AbstractEventLoop, application: AnyApplication, settings: Settings
) -> WebServer | None:
    """Polling mode: /healthz, /readyz and /metrics on HEALTH_LISTEN:HEALTH_PORT, if HEALTH_PORT is set."""
    if settings.health_port is None:
        return None
    server = WebServer(application, settings.health_listen, settings.health_port)
    loop.run_until_complete(server.start())  # served by the same loop while run_polling runs
    logging.getLogger(__name__).info("health and metrics on %s", server.url)
    return server


def run_webhook(loop: asyncio.AbstractEventLoop, application: AnyApplication, settings: Settings) -> int:
    """Webhook mode until SIGTERM or SIGINT (bot.web.serve_webhook); closes the loop."""
    stop = asyncio.Event()
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    for sig in stop_signals:
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(serve_webhook(application, settings, stop))
    except WebhookError as exc:
        print(f"backstretch: {exc}", file=sys.stderr)
        return 2
    except ListenError as exc:
        print(f"backstretch: WEBHOOK_PORT: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Windows, where signal handlers cannot be added
        pass
    finally:
        for sig in stop_signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
