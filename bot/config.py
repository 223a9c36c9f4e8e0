"""Settings from the environment and an optional ``.env`` file; bad values stop the bot with a clear line."""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/backstretch.db"
BOTFATHER_HINT = (
    "TELEGRAM_BOT_TOKEN is not set. Open Telegram, talk to @BotFather, send /newbot, "
    "and put the token it gives you in .env (see .env.example)."
)


class ConfigError(ValueError):
    """A setting is missing or invalid; the message is meant for the person running the bot."""


@dataclass(frozen=True)
class Settings:
    token: str
    api_base_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int | None = None
    """Connections in the database pool (fixed, no overflow); None: 8 for SQLite, 10 for PostgreSQL."""
    timer_scale: float = 1.0
    default_timezone: str = "UTC"
    log_level: str = "INFO"
    reminder_tick_seconds: float = 5.0
    reminder_max_lateness_minutes: int = 120
    send_rate: float = 30.0
    allow_paid_broadcast: bool = False
    concurrent_updates: int = 16
    webhook_url: str | None = None
    """The public https URL Telegram posts updates to; None: long polling."""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    """Telegram's ``secret_token``: every webhook request must carry it. Never logged."""
    webhook_max_connections: int = 40
    health_listen: str = "127.0.0.1"
    health_port: int | None = None
    """Polling mode: serve /healthz, /readyz and /metrics here (webhook mode serves them anyway)."""

    @property
    def webhook_path(self) -> str:
        """The path of ``webhook_url``: where the web server takes updates (the proxy forwards it)."""
        return urlsplit(self.webhook_url or "").path or "/"

    def __repr__(self) -> str:  # the token never reaches a log line
        return f"Settings(database_url={self.database_url!r}, timer_scale={self.timer_scale}, ...)"


def _float(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {raw!r}")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


WEBHOOK_PORTS = (443, 80, 88, 8443)
"""The only ports Telegram posts webhooks to (the public port of WEBHOOK_URL, not WEBHOOK_PORT)."""
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,256}")
"""Telegram allows 1-256 characters of A-Z a-z 0-9 _ -; fewer than 32 are too easy to guess."""
RESERVED_PATHS = ("/healthz", "/readyz", "/metrics")


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, not {raw!r}")
    value = int(raw) if len(raw) <= 12 else high + 1
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {raw!r}")
    return value


def _host(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if "://" in raw or "/" in raw or any(c.isspace() for c in raw):
        raise ConfigError(
            f"{name} must be an address to listen on, such as 127.0.0.1 or 0.0.0.0, not {raw!r}"
        )
    return raw


def _webhook_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("WEBHOOK_URL", "").strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        port = parts.port or 443
    except ValueError:
        raise ConfigError(f"WEBHOOK_URL is not a valid URL: {raw!r}") from None
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in raw):
        raise ConfigError(
            f"WEBHOOK_URL must be the public https:// URL Telegram posts updates to, not {raw!r}"
        )
    if port not in WEBHOOK_PORTS:
        raise ConfigError(f"WEBHOOK_URL: Telegram only posts to ports 443, 80, 88 and 8443, not {port}")
    if parts.fragment or parts.username or parts.password:
        raise ConfigError("WEBHOOK_URL must not contain a #fragment or user:password@")
    if (parts.path or "/").rstrip("/") in RESERVED_PATHS:
        raise ConfigError(f"WEBHOOK_URL must not end in {', '.join(RESERVED_PATHS)}: those paths are taken")
    return raw


def _webhook_secret(env: Mapping[str, str], webhook_url: str | None) -> str | None:
    raw = env.get("WEBHOOK_SECRET", "").strip()
    if not raw:
        if webhook_url is not None:
            raise ConfigError(
                "WEBHOOK_SECRET is required with WEBHOOK_URL: 32 or more random characters from "
                "A-Z a-z 0-9 _ - (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return None
    if not SECRET_TOKEN.fullmatch(raw):  # the value itself is never repeated
        raise ConfigError(
            f"WEBHOOK_SECRET must be 32 to 256 characters from A-Z a-z 0-9 _ - (it has {len(raw)})"
        )
    return raw


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Read the settings: the process environment wins over the ``.env`` file."""
    env: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError(BOTFATHER_HINT)
    if ":" not in token or any(c.isspace() for c in token):
        raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (expected '123456:ABC…').")

    base_url = env.get("TELEGRAM_API_BASE_URL", "").strip() or None
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"TELEGRAM_API_BASE_URL must start with http:// or https://, not {base_url!r}")

    zone = env.get("DEFAULT_TIMEZONE", "").strip() or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"DEFAULT_TIMEZONE must be an IANA time zone such as Europe/Berlin, not {zone!r}"
        ) from None

    level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")

    database_url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if "://" not in database_url:
        raise ConfigError(f"DATABASE_URL must be an SQLAlchemy URL such as {DEFAULT_DATABASE_URL}")

    webhook_url = _webhook_url(env)
    health_port = _int(env, "HEALTH_PORT", 0, low=1, high=65535) or None

    return Settings(
        token=token,
        api_base_url=base_url,
        database_url=database_url,
        database_pool_size=_int(env, "DATABASE_POOL_SIZE", 0, low=1, high=100) or None,
        timer_scale=_float(env, "TIMER_SCALE", 1.0, low=0.001, high=100),
        default_timezone=zone,
        log_level=level,
        reminder_tick_seconds=_float(env, "REMINDER_TICK_SECONDS", 5.0, low=0.05, high=3600),
        reminder_max_lateness_minutes=int(
            _float(env, "REMINDER_MAX_LATENESS_MINUTES", 120, low=0, high=1440)
        ),
        send_rate=_float(env, "SEND_RATE", 30.0, low=1, high=1000),
        allow_paid_broadcast=_bool(env, "ALLOW_PAID_BROADCAST"),
        concurrent_updates=int(_float(env, "CONCURRENT_UPDATES", 16, low=1, high=256)),
        webhook_url=webhook_url,
        webhook_listen=_host(env, "WEBHOOK_LISTEN", "127.0.0.1"),
        webhook_port=_int(env, "WEBHOOK_PORT", 8443, low=1, high=65535),
        webhook_secret=_webhook_secret(env, webhook_url),
        webhook_max_connections=_int(env, "WEBHOOK_MAX_CONNECTIONS", 40, low=1, high=100),
        health_listen=_host(env, "HEALTH_LISTEN", "127.0.0.1"),
        health_port=health_port,
    )
