"""Issue 12's pure helpers: when ``touch`` writes, the pool sizes, the open question, a new score's place."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.config import ConfigError, load_settings
from bot.domain.progress import Score
from bot.handlers.session import OPEN_QUESTION, open_question, with_score
from storage.db import POSTGRESQL_POOL_SIZE, SQLITE_POOL_SIZE, pool_options
from storage.models import User
from storage.repositories import SEEN_EVERY, LatestSession, seen_changes

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


def known(**changes: object) -> User:
    values: dict[str, object] = {
        "id": 1, "chat_id": 1, "first_name": "Ana", "language_code": "en", "timezone": "UTC",
        "created_at": NOW - timedelta(days=3), "last_seen_at": NOW, "settings": {},
    }  # fmt: skip
    return User(**{**values, **changes})


def test_nothing_changes_within_a_minute() -> None:
    user = known()
    for seconds in (0, 1, 59):
        assert seen_changes(user, 1, "Ana", "en", NOW + timedelta(seconds=seconds)) == {}
    assert seen_changes(user, 1, "Ana", None, NOW + timedelta(seconds=30)) == {}  # no language sent


def test_last_seen_is_written_once_a_minute() -> None:
    assert seen_changes(known(), 1, "Ana", "en", NOW + SEEN_EVERY) == {"last_seen_at": NOW + SEEN_EVERY}


def test_a_clock_that_went_back_writes_nothing() -> None:
    assert seen_changes(known(), 1, "Ana", "en", NOW - timedelta(hours=1)) == {}


@pytest.mark.parametrize(
    ("chat_id", "name", "language", "changed"),
    [(2, "Ana", "en", "chat_id"), (1, "Ana M", "en", "first_name"), (1, "Ana", "de", "language_code")],
)
def test_a_changed_detail_is_written_at_once_with_last_seen(
    chat_id: int, name: str, language: str, changed: str
) -> None:
    later = NOW + timedelta(seconds=5)
    assert set(seen_changes(known(), chat_id, name, language, later)) == {changed, "last_seen_at"}


def test_pool_sizes() -> None:
    sqlite = pool_options("sqlite+aiosqlite:///data/backstretch.db")
    assert sqlite["pool_size"] == SQLITE_POOL_SIZE and sqlite["max_overflow"] == 0
    assert pool_options("postgresql+asyncpg://u@h/db")["pool_size"] == POSTGRESQL_POOL_SIZE
    assert pool_options("postgresql+asyncpg://u@h/db", 25)["pool_size"] == 25
    assert pool_options("sqlite+aiosqlite://") == {}  # in memory: SQLAlchemy's own single connection
    assert pool_options("sqlite+aiosqlite:///:memory:") == {}


def test_database_pool_size_setting() -> None:
    base = {"TELEGRAM_BOT_TOKEN": "1:x"}
    assert load_settings(base, env_file=None).database_pool_size is None
    assert load_settings({**base, "DATABASE_POOL_SIZE": "4"}, env_file=None).database_pool_size == 4
    for bad in ("0", "101", "many"):
        with pytest.raises(ConfigError, match="DATABASE_POOL_SIZE"):
            load_settings({**base, "DATABASE_POOL_SIZE": bad}, env_file=None)


def test_the_question_stays_open_for_a_few_hours_until_answered() -> None:
    ended = NOW - timedelta(hours=1)
    assert open_question(LatestSession(5, ended, answered=False), NOW) == 5
    assert open_question(LatestSession(5, ended, answered=True), NOW) is None
    assert open_question(LatestSession(5, NOW - OPEN_QUESTION - timedelta(seconds=1), False), NOW) is None
    assert open_question(None, NOW) is None


def test_a_new_score_takes_its_place_in_time() -> None:
    day = date(2026, 11, 24)
    stored = [
        Score(NOW - timedelta(hours=2), day, 5),
        Score(NOW, day, 4),
        Score(NOW + timedelta(hours=1), day, 6),
    ]
    new = Score(NOW, day, 2)
    assert with_score(stored, new) == [
        stored[0],
        stored[1],
        new,
        stored[2],
    ]  # after equal times: stored later
    assert with_score([], new) == [new]
