"""Typed SQLAlchemy models. Every timestamp is an aware UTC datetime; local dates are plain dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database: naive UTC in SQLite, timestamptz in PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), date: Date(), dict[str, Any]: JSON()}  # noqa: RUF012


def _cascade() -> Any:
    return ForeignKey("users.id", ondelete="CASCADE")


class User(Base):
    """A person who has talked to the bot; the primary key is their Telegram user id."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    language_code: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reminder_time: Mapped[str | None] = mapped_column(String(5))
    """The local wall-clock time of the daily reminder, "HH:MM", or None when reminders are off."""
    next_reminder_at: Mapped[datetime | None] = mapped_column(index=True)
    """When the next reminder is due (UTC); the reminder tick claims rows whose time has come."""
    break_until: Mapped[date | None]
    """Last local day of a planned break: reminders pause and the streak is frozen until then."""
    break_started: Mapped[date | None]


class GuidedSession(Base):
    """One guided session: its state machine snapshot lives here so a restart loses nothing."""

    __tablename__ = "guided_sessions"
    __table_args__ = (
        Index(
            "uq_guided_sessions_live_user",
            "user_id",
            unique=True,
            sqlite_where=text("status IN ('running', 'paused')"),
            postgresql_where=text("status IN ('running', 'paused')"),
        ),
        # the session tick: running sessions whose next moment has come
        Index(
            "ix_guided_sessions_due",
            "next_at",
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, _cascade(), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    local_date: Mapped[date]
    next_at: Mapped[datetime | None]
    """When the session next needs the bot (a phase ends, the countdown is due an edit); None when it
    waits for the user. Any instance's session tick advances it then."""
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Bumped by every save: an instance's cached copy is used only while it matches."""
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    """running, paused, completed, stopped or interrupted."""
    state: Mapped[dict[str, Any]]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    exercises_total: Mapped[int] = mapped_column(SmallInteger, default=0)
    exercises_done: Mapped[int] = mapped_column(SmallInteger, default=0)
    counted: Mapped[bool] = mapped_column(Boolean, default=False)
    """True when the session reached its end with at least half of its exercises done."""


class PainScore(Base):
    """A 0-10 answer to "how is your back?"."""

    __tablename__ = "pain_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, _cascade(), index=True)
    recorded_at: Mapped[datetime]
    local_date: Mapped[date]
    score: Mapped[int] = mapped_column(SmallInteger)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("guided_sessions.id", ondelete="SET NULL"), index=True
    )
    """Indexed: deleting a session sets this to NULL, which must not read every score."""


class ExerciseFlag(Base):
    """An exercise that hurt during a session; the planner leaves it out until the user puts it back."""

    __tablename__ = "exercise_flags"
    __table_args__ = (UniqueConstraint("user_id", "exercise_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, _cascade(), index=True)
    exercise_id: Mapped[str] = mapped_column(String(60))
    hurt_count: Mapped[int] = mapped_column(Integer, default=1)
    last_at: Mapped[datetime]


class ReminderDelivery(Base):
    """One reminder for one user and local day; the unique key makes a second one impossible.

    Statuses: ``claimed`` (waiting; ``not_before`` delays a retry) → ``sending`` (set in its own
    transaction right before its one request) → ``sent``, ``failed``, ``skipped`` or ``unknown`` (the
    request went out but its answer was lost: never sent again). A sent one can be ``snoozed`` back to
    ``claimed``. Rows older than a week are pruned by the tick.
    """

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint("user_id", "local_date"),  # also serves every lookup by user
        # Equality on status, then due_at: one index serves the send queue (status='claimed' ordered by
        # due_at), waking snoozes, expiring, recovering 'sending' rows and pruning (status IN ... AND
        # due_at < ...), on SQLite and PostgreSQL alike.
        Index("ix_reminder_deliveries_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, _cascade())
    local_date: Mapped[date]
    due_at: Mapped[datetime]
    claimed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    """claimed → sending → sent, failed, skipped or unknown; a sent one can be snoozed back to claimed."""
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None]
    """A claimed row waiting for a retry is not sent before this instant."""
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    """Requests made for this reminder (each retry after a known failure counts one more)."""


DELIVERY_STATUSES = ("claimed", "sending", "sent", "failed", "skipped", "unknown", "snoozed")
"""Every status a delivery row can have (pruning names them all so it can use the status index)."""


class MediaFile(Base):
    """A picture uploaded to Telegram once: its ``file_id`` is reused for every later send.

    ``key`` is the hash of the picture (pose data and renderer version), so a changed drawing gets a
    new row and the old file_id is simply never asked for again.
    """

    __tablename__ = "media_files"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class Instance(Base):
    """A running instance of the bot (a PostgreSQL deployment may run several): they share SEND_RATE.

    Each writes its row every few seconds (``bot.instances``) and removes it as it stops; a row not
    written for a while belongs to an instance that died and is removed by the others.
    """

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[datetime]
