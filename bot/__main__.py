"""``python -m bot``: start Backstretch with long polling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from telegram.error import InvalidToken

from bot.app import AnyApplication, build_application, build_services
from bot.config import ConfigError, Settings, load_settings
from bot.polling import DEFAULT_API_URL, allowed_updates, connect
from content.catalogue import CatalogueError


class RedactToken(logging.Filter):
    """Keeps the bot token out of every log line (httpx logs request URLs, which contain it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactToken(settings.token))
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[handler],
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


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
    application.run_polling(  # closes the loop when it ends
        allowed_updates=allowed_updates(application), poll_interval=0.0, timeout=30, bootstrap_retries=-1
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
