"""Settings: defaults, validation, and the token hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import BOTFATHER_HINT, ConfigError, load_settings

TOKEN = {"TELEGRAM_BOT_TOKEN": "123:abc"}


def test_defaults() -> None:
    settings = load_settings(TOKEN, env_file=None)
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert (
        settings.timer_scale == 1.0 and settings.default_timezone == "UTC" and settings.api_base_url is None
    )
    assert "123:abc" not in repr(settings)


def test_missing_token_explains_botfather() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings({}, env_file=None)
    assert str(exc.value) == BOTFATHER_HINT and "@BotFather" in BOTFATHER_HINT


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TIMER_SCALE", "fast", "TIMER_SCALE must be a number"),
        ("TIMER_SCALE", "0", "TIMER_SCALE must be between"),
        ("TIMER_SCALE", "nan", "TIMER_SCALE must be between"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "DEFAULT_TIMEZONE must be an IANA"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be"),
        ("TELEGRAM_API_BASE_URL", "127.0.0.1:8081", "must start with http"),
        ("DATABASE_URL", "data.db", "DATABASE_URL must be"),
        ("ALLOW_PAID_BROADCAST", "maybe", "true or false"),
        ("TELEGRAM_BOT_TOKEN", "not a token", "does not look like"),
    ],
)
def test_invalid_values_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({**TOKEN, name: value}, env_file=None)


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("TELEGRAM_BOT_TOKEN=1:fromfile\nTIMER_SCALE=0.5\nDEFAULT_TIMEZONE=Europe/Berlin\n")
    settings = load_settings({"TIMER_SCALE": "2"}, env_file=env)
    assert settings.token == "1:fromfile" and settings.timer_scale == 2.0
    assert settings.default_timezone == "Europe/Berlin"


# --- webhook mode, health port (issue 11) ----------------------------------------------------------------

SECRET = "a" * 20 + "B-_9" * 4
WEBHOOK = {**TOKEN, "WEBHOOK_URL": "https://bot.example.org/tg/hook", "WEBHOOK_SECRET": SECRET}


def test_polling_is_the_default() -> None:
    settings = load_settings(TOKEN, env_file=None)
    assert settings.webhook_url is None and settings.webhook_secret is None and settings.health_port is None
    assert (settings.webhook_listen, settings.webhook_port, settings.webhook_max_connections) == (
        "127.0.0.1",
        8443,
        40,
    )
    assert settings.health_listen == "127.0.0.1"


def test_webhook_settings_are_read() -> None:
    env = {
        **WEBHOOK,
        "WEBHOOK_LISTEN": "0.0.0.0",
        "WEBHOOK_PORT": "9000",
        "WEBHOOK_MAX_CONNECTIONS": "100",
        "HEALTH_PORT": "9100",
        "HEALTH_LISTEN": "::",
    }
    settings = load_settings(env, env_file=None)
    assert settings.webhook_url == "https://bot.example.org/tg/hook" and settings.webhook_path == "/tg/hook"
    assert settings.webhook_secret == SECRET and SECRET not in repr(settings)
    assert (settings.webhook_listen, settings.webhook_port, settings.webhook_max_connections) == (
        "0.0.0.0",
        9000,
        100,
    )
    assert (settings.health_listen, settings.health_port) == ("::", 9100)
    bare = load_settings({**WEBHOOK, "WEBHOOK_URL": "https://bot.example.org:8443"}, env_file=None)
    assert bare.webhook_path == "/"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEBHOOK_URL", "http://bot.example.org/hook", "must be the public https://"),
        ("WEBHOOK_URL", "bot.example.org/hook", "must be the public https://"),
        ("WEBHOOK_URL", "https:///hook", "must be the public https://"),
        ("WEBHOOK_URL", "https://bot.example.org:8080/hook", "only posts to ports 443, 80, 88 and 8443"),
        ("WEBHOOK_URL", "https://bot.example.org:99999/hook", "not a valid URL"),
        ("WEBHOOK_URL", "https://bot.example.org/metrics", "paths are taken"),
        ("WEBHOOK_URL", "https://user:pw@bot.example.org/hook", "user:password"),
        ("WEBHOOK_SECRET", "", "WEBHOOK_SECRET is required with WEBHOOK_URL"),
        ("WEBHOOK_SECRET", "short_secret", "32 to 256 characters"),
        ("WEBHOOK_SECRET", "x" * 31 + "!", "32 to 256 characters"),
        ("WEBHOOK_SECRET", "x" * 257, "32 to 256 characters"),
        ("WEBHOOK_PORT", "http", "WEBHOOK_PORT must be a whole number"),
        ("WEBHOOK_PORT", "8443.5", "WEBHOOK_PORT must be a whole number"),
        ("WEBHOOK_PORT", "70000", "WEBHOOK_PORT must be between 1 and 65535"),
        ("WEBHOOK_LISTEN", "http://0.0.0.0", "WEBHOOK_LISTEN must be an address"),
        ("WEBHOOK_MAX_CONNECTIONS", "0", "WEBHOOK_MAX_CONNECTIONS must be between 1 and 100"),
        ("WEBHOOK_MAX_CONNECTIONS", "101", "WEBHOOK_MAX_CONNECTIONS must be between 1 and 100"),
        ("HEALTH_PORT", "0", "HEALTH_PORT must be between 1 and 65535"),
        ("HEALTH_LISTEN", "a b", "HEALTH_LISTEN must be an address"),
    ],
)
def test_invalid_webhook_values_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as exc:
        load_settings({**WEBHOOK, name: value}, env_file=None)
    if name == "WEBHOOK_SECRET" and value:
        assert value not in str(exc.value)  # a wrong secret is not repeated either


def test_a_secret_without_a_url_is_checked_and_ignored() -> None:
    assert load_settings({**TOKEN, "WEBHOOK_SECRET": SECRET}, env_file=None).webhook_url is None
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        load_settings({**TOKEN, "WEBHOOK_SECRET": "short"}, env_file=None)
