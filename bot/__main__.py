"""``python -m bot``: start Backstretch with long polling."""

from __future__ import annotations

import logging
import sys

from telegram import Update

from bot.app import build_application, build_services
from bot.config import ConfigError, Settings, load_settings
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


def main() -> int:
    try:
        settings = load_settings()
        services = build_services(settings)
    except (ConfigError, CatalogueError) as exc:
        print(f"backstretch: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings)
    application = build_application(services)
    application.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
