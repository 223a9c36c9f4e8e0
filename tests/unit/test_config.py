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
