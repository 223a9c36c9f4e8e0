"""Repositories: every query is scoped by the user it belongs to.

One ``Repositories`` bundle lives for one transaction (see ``Database.transaction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, String, bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    DELIVERY_STATUSES,
    ExerciseFlag,
    GuidedSession,
    PainScore,
    ReminderDelivery,
    User,
    UTCDateTime,
)

LIVE_STATUSES = ("running", "paused")


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def touch(
        self,
        user_id: int,
        chat_id: int,
        *,
        first_name: str,
        language_code: str | None,
        now: datetime,
        default_timezone: str,
    ) -> User:
        """The user's row, created on first contact and refreshed on every later one."""
        user = await self.session.get(User, user_id)
        if user is None:
            user = User(
                id=user_id,
                chat_id=chat_id,
                first_name=first_name,
                language_code=language_code,
                timezone=default_timezone,
                created_at=now,
                last_seen_at=now,
                settings={},
            )
            self.session.add(user)
            await self.session.flush()
        else:
            user.chat_id, user.first_name, user.last_seen_at = chat_id, first_name, now
            if language_code:
                user.language_code = language_code
        return user

    async def update_settings(self, user: User, **changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into the user's settings (a new dict, so the JSON column sees the change)."""
        user.settings = {**(user.settings or {}), **changes}
        return user.settings

    async def delete(self, user_id: int) -> None:
        """Delete the user and, in the same transaction, every row that belongs to them."""
        for model in (PainScore, ExerciseFlag, ReminderDelivery, GuidedSession):
            await self.session.execute(delete(model).where(model.user_id == user_id))
        await self.session.execute(delete(User).where(User.id == user_id))


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def live(self, user_id: int) -> GuidedSession | None:
        """The user's running or paused session, if any."""
        result = await self.session.execute(
            select(GuidedSession).where(
                GuidedSession.user_id == user_id, GuidedSession.status.in_(LIVE_STATUSES)
            )
        )
        return result.scalar_one_or_none()

    async def get(self, user_id: int, session_id: int) -> GuidedSession | None:
        result = await self.session.execute(
            select(GuidedSession).where(GuidedSession.user_id == user_id, GuidedSession.id == session_id)
        )
        return result.scalar_one_or_none()

    async def all_live(self) -> Sequence[GuidedSession]:
        """Every running or paused session (at start-up, to resume them)."""
        result = await self.session.execute(
            select(GuidedSession).where(GuidedSession.status.in_(LIVE_STATUSES)).order_by(GuidedSession.id)
        )
        return result.scalars().all()

    async def add(self, guided: GuidedSession) -> GuidedSession:
        self.session.add(guided)
        await self.session.flush()
        return guided

    async def owner(self, session_id: int) -> int | None:
        """The user a session belongs to (None when there is no such session)."""
        found = await self.session.scalar(select(GuidedSession.user_id).where(GuidedSession.id == session_id))
        return None if found is None else int(found)

    async def version_of(self, session_id: int) -> tuple[int, str] | None:
        """A session's (version, status), without loading its state: enough to trust a cached copy."""
        found = (
            await self.session.execute(
                select(GuidedSession.version, GuidedSession.status).where(GuidedSession.id == session_id)
            )
        ).first()
        return None if found is None else (int(found[0] or 0), str(found[1]))

    async def by_id(self, session_id: int) -> GuidedSession | None:
        return await self.session.get(GuidedSession, session_id, populate_existing=True)

    async def due(self, now: datetime, limit: int) -> list[tuple[int, int, datetime]]:
        """(session id, user id, next moment) of running sessions whose next moment has come, the most
        overdue first."""
        result = await self.session.execute(
            select(GuidedSession.id, GuidedSession.user_id, GuidedSession.next_at)
            .where(GuidedSession.status == "running", GuidedSession.next_at <= now)
            .order_by(GuidedSession.next_at)
            .limit(limit)
        )
        return [(int(a), int(b), c) for a, b, c in result.all() if c is not None]

    async def save_state(self, session_id: int, version: int, values: dict[str, Any]) -> bool:
        """Write a live session's state if nobody else wrote it since ``version``; True when written."""
        result = await self.session.execute(
            update(GuidedSession)
            .where(GuidedSession.id == session_id, GuidedSession.version == version)
            .values(**values, version=version + 1)
        )
        return bool(getattr(result, "rowcount", 0))

    async def has_any(self, user_id: int) -> bool:
        """Whether the user ever started a guided session."""
        found = await self.session.scalar(
            select(GuidedSession.id).where(GuidedSession.user_id == user_id).limit(1)
        )
        return found is not None

    async def counted_days(self, user_id: int) -> list[date]:
        """The local days on which the user completed a session that counts."""
        result = await self.session.execute(
            select(GuidedSession.local_date)
            .where(GuidedSession.user_id == user_id, GuidedSession.counted.is_(True))
            .distinct()
        )
        return list(result.scalars().all())

    async def completed_on(self, user_id: int, day: date) -> bool:
        result = await self.session.execute(
            select(GuidedSession.id)
            .where(
                GuidedSession.user_id == user_id,
                GuidedSession.counted.is_(True),
                GuidedSession.local_date == day,
            )
            .limit(1)
        )
        return result.first() is not None

    async def history(self, user_id: int) -> Sequence[GuidedSession]:
        result = await self.session.execute(
            select(GuidedSession).where(GuidedSession.user_id == user_id).order_by(GuidedSession.id)
        )
        return result.scalars().all()

    async def interrupt_live(self, user_id: int, now: datetime) -> None:
        await self.session.execute(
            update(GuidedSession)
            .where(GuidedSession.user_id == user_id, GuidedSession.status.in_(LIVE_STATUSES))
            .values(status="interrupted", ended_at=now)
        )


class PainRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, user_id: int, score: int, *, at: datetime, local_date: date, session_id: int | None = None
    ) -> PainScore:
        row = PainScore(
            user_id=user_id, score=score, recorded_at=at, local_date=local_date, session_id=session_id
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def history(self, user_id: int, since: datetime | None = None) -> Sequence[PainScore]:
        """The user's scores, oldest first."""
        query = select(PainScore).where(PainScore.user_id == user_id)
        if since is not None:
            query = query.where(PainScore.recorded_at >= since)
        result = await self.session.execute(query.order_by(PainScore.recorded_at, PainScore.id))
        return result.scalars().all()

    async def for_session(self, user_id: int, session_id: int) -> PainScore | None:
        result = await self.session.execute(
            select(PainScore).where(PainScore.user_id == user_id, PainScore.session_id == session_id)
        )
        return result.scalars().first()


class FlagRepository:
    """Exercises that hurt."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hurt(self, user_id: int, exercise_id: str, at: datetime) -> None:
        result = await self.session.execute(
            select(ExerciseFlag).where(
                ExerciseFlag.user_id == user_id, ExerciseFlag.exercise_id == exercise_id
            )
        )
        flag = result.scalar_one_or_none()
        if flag is None:
            self.session.add(ExerciseFlag(user_id=user_id, exercise_id=exercise_id, last_at=at, hurt_count=1))
        else:
            flag.hurt_count += 1
            flag.last_at = at
        await self.session.flush()

    async def ids(self, user_id: int) -> set[str]:
        result = await self.session.execute(
            select(ExerciseFlag.exercise_id).where(ExerciseFlag.user_id == user_id)
        )
        return set(result.scalars().all())

    async def rows(self, user_id: int) -> Sequence[ExerciseFlag]:
        result = await self.session.execute(
            select(ExerciseFlag).where(ExerciseFlag.user_id == user_id).order_by(ExerciseFlag.id)
        )
        return result.scalars().all()

    async def clear(self, user_id: int, exercise_id: str | None = None) -> None:
        query = delete(ExerciseFlag).where(ExerciseFlag.user_id == user_id)
        if exercise_id is not None:
            query = query.where(ExerciseFlag.exercise_id == exercise_id)
        await self.session.execute(query)


class ReminderRepository:
    """Due reminders: claimed in bulk by the tick, then sent one by one.

    Every hot query filters on ``status = <one value>`` (plus ``due_at``) so that the
    ``(status, due_at)`` index serves it on SQLite and PostgreSQL alike. A row moves from ``claimed``
    to ``sending`` only in its own short transaction right before its request (``start_sending``),
    and every later change is conditional on the status it expects, so two senders never both send.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _rows(self, result: Any) -> int:
        return int(getattr(result, "rowcount", 0) or 0)

    async def due(self, now: datetime, limit: int) -> Sequence[Any]:
        """Users whose reminder is due, earliest first; rows another instance holds are skipped.

        On SQLite ``FOR UPDATE`` does nothing, so ``claim`` and ``move`` only touch a user whose
        ``next_reminder_at`` still has the value read here.
        """
        result = await self.session.execute(
            select(User.id, User.reminder_time, User.timezone, User.next_reminder_at, User.break_until)
            .where(User.next_reminder_at <= now)
            .order_by(User.next_reminder_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return result.all()

    async def move(self, user_ids: Sequence[int], was: datetime, next_at: datetime | None) -> int:
        """Move these users' next reminder from ``was`` to ``next_at``; a user whose time changed
        meanwhile (e.g. ``/timezone`` committed during the tick) is left alone. Returns how many moved."""
        if not user_ids:
            return 0
        result = await self.session.execute(
            update(User)
            .where(User.id.in_(user_ids), User.next_reminder_at == was)
            .values(next_reminder_at=next_at)
            .execution_options(synchronize_session=False)
        )
        return self._rows(result)

    async def claim(self, user_ids: Sequence[int], local_date: date, was: datetime, now: datetime) -> int:
        """Insert a claimed delivery for each user and local day, due when their reminder was due.

        One INSERT ... SELECT for the whole group, only for users whose ``next_reminder_at`` is still
        ``was``; a delivery that already exists for the same user and day is left alone (ON CONFLICT
        DO NOTHING), so nobody gets two reminders for one day. Returns how many rows were inserted.
        """
        if not user_ids:
            return 0
        columns = ["user_id", "local_date", "due_at", "claimed_at", "status", "attempts"]
        rows = select(
            User.id,
            bindparam("day", local_date, type_=Date()),
            User.next_reminder_at,
            bindparam("now", now, type_=UTCDateTime()),
            bindparam("status", "claimed", type_=String()),
            bindparam("attempts", 0, type_=Integer()),
        ).where(User.id.in_(user_ids), User.next_reminder_at == was)
        dialect_insert = (
            postgresql_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        statement = (
            dialect_insert(ReminderDelivery)
            .from_select(columns, rows)
            .on_conflict_do_nothing(index_elements=["user_id", "local_date"])
        )
        return self._rows(await self.session.execute(statement))

    async def ready(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """The earliest claimed deliveries that may be sent now, as (delivery id, user id); nothing
        changes: each is marked ``sending`` by ``start_sending`` right before its own request."""
        result = await self.session.execute(
            select(ReminderDelivery.id, ReminderDelivery.user_id)
            .where(
                ReminderDelivery.status == "claimed",
                ReminderDelivery.due_at <= now,
                or_(ReminderDelivery.not_before.is_(None), ReminderDelivery.not_before <= now),
            )
            .order_by(ReminderDelivery.status, ReminderDelivery.due_at)
            .limit(limit)
        )
        return [(int(row.id), int(row.user_id)) for row in result]

    async def start_sending(self, delivery_id: int) -> bool:
        """claimed → sending for one row, in the caller's short transaction; False if it is no longer
        claimed (another sender took it, it was snoozed or expired)."""
        result = await self.session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.id == delivery_id, ReminderDelivery.status == "claimed")
            .values(status="sending", attempts=ReminderDelivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return self._rows(result) == 1

    async def finish(
        self,
        delivery_id: int,
        status: str,
        error: str | None,
        *,
        expect: str = "sending",
        sent_at: datetime | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Set the outcome of a row that is still ``expect``; False if it was not."""
        values: dict[str, Any] = {"status": status, "error": error, "not_before": not_before}
        if sent_at is not None:
            values["sent_at"] = sent_at
        result = await self.session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.id == delivery_id, ReminderDelivery.status == expect)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return self._rows(result) == 1

    async def get(self, delivery_id: int) -> ReminderDelivery | None:
        return await self.session.get(ReminderDelivery, delivery_id)

    async def for_day(self, user_id: int, day: date) -> ReminderDelivery | None:
        result = await self.session.execute(
            select(ReminderDelivery).where(
                ReminderDelivery.user_id == user_id, ReminderDelivery.local_date == day
            )
        )
        return result.scalar_one_or_none()

    async def expire_stale(self, before: datetime) -> int:
        """Claimed deliveries due before ``before`` (the lateness window closed) are failed."""
        result = await self.session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.status == "claimed", ReminderDelivery.due_at < before)
            .values(status="failed", error="expired: the lateness window closed before it could be sent")
            .execution_options(synchronize_session=False)
        )
        return self._rows(result)

    async def expire_snoozed(self, before: datetime) -> int:
        """Snoozes whose hour was up before ``before`` (e.g. the bot was down) are dropped."""
        result = await self.session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.status == "snoozed", ReminderDelivery.due_at < before)
            .values(status="failed", error="expired: snoozed reminder came due too long ago")
            .execution_options(synchronize_session=False)
        )
        return self._rows(result)

    async def interrupted(self) -> int:
        """At start-up: a row left ``sending`` by a crash was on the wire and may have arrived, so it
        becomes ``unknown`` and is never sent again (one reminder a day at most)."""
        result = await self.session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.status == "sending")
            .values(status="unknown", error="interrupted while sending: it may have arrived")
            .execution_options(synchronize_session=False)
        )
        return self._rows(result)

    async def wake_snoozed(self, now: datetime) -> int:
        """Snoozed reminders whose hour is up are queued to be sent again."""
        result = await self.session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.status == "snoozed", ReminderDelivery.due_at <= now)
            .values(status="claimed", claimed_at=now, not_before=None)
            .execution_options(synchronize_session=False)
        )
        return self._rows(result)

    async def prune(self, before: datetime) -> int:
        """Delete delivery rows due before ``before`` (the table keeps only the last few days)."""
        result = await self.session.execute(
            delete(ReminderDelivery)
            .where(ReminderDelivery.status.in_(DELIVERY_STATUSES), ReminderDelivery.due_at < before)
            .execution_options(synchronize_session=False)
        )
        return self._rows(result)

    async def forget(self, delivery_id: int) -> None:
        await self.session.execute(delete(ReminderDelivery).where(ReminderDelivery.id == delivery_id))

    async def history(self, user_id: int) -> Sequence[ReminderDelivery]:
        result = await self.session.execute(
            select(ReminderDelivery).where(ReminderDelivery.user_id == user_id).order_by(ReminderDelivery.id)
        )
        return result.scalars().all()


class Repositories:
    """The repositories of one transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.sessions = SessionRepository(session)
        self.pain = PainRepository(session)
        self.flags = FlagRepository(session)
        self.reminders = ReminderRepository(session)
