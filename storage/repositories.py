"""Repositories: every query is scoped by the user it belongs to.

One ``Repositories`` bundle lives for one transaction (see ``Database.transaction``).
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    Table,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.instances import InstanceRepository
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
ENDED_STATUSES = ("completed", "stopped")
SEEN_EVERY = timedelta(minutes=1)
"""``users.last_seen_at`` is written at most this often: most updates then write nothing at all."""

_users = typing.cast(Table, User.__table__)
_scores = typing.cast(Table, PainScore.__table__)
_sessions = typing.cast(Table, GuidedSession.__table__)
_flags = typing.cast(Table, ExerciseFlag.__table__)


def seen_changes(
    user: User, chat_id: int, first_name: str, language_code: str | None, now: datetime
) -> dict[str, Any]:
    """The columns a later contact changes in the user's row ({} when none): a new chat id, name or
    language, and ``last_seen_at`` when it is ``SEEN_EVERY`` old or something else changes anyway."""
    changes: dict[str, Any] = {}
    if user.chat_id != chat_id:
        changes["chat_id"] = chat_id
    if user.first_name != first_name:
        changes["first_name"] = first_name
    if language_code and user.language_code != language_code:
        changes["language_code"] = language_code
    last = user.last_seen_at
    if changes or last is None or now - last >= SEEN_EVERY:
        changes["last_seen_at"] = now
    return changes


@dataclass(frozen=True, slots=True)
class Seen:
    """What ``UserRepository.touch`` found to write in a read-only unit of work (``Database.read``)."""

    user_id: int
    values: dict[str, Any]
    new: bool
    """True: insert the row (first contact); False: update ``values`` in it."""


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """What the planner needs of a user's history, read in one statement (``UserRepository.plan_inputs``)."""

    scores: list[tuple[date, int]]
    """Every pain score as (local day, score), oldest first."""
    counted_days: list[date]
    """The local days with a session that counts, earliest first."""
    hurts: list[tuple[str, datetime]]
    """The exercises that hurt, as (exercise id, when it last hurt), in the order they were first flagged."""


def typed_null(type_: Any) -> Any:
    """A NULL of a given type: PostgreSQL matches the columns of a UNION by type (an untyped NULL in a
    DISTINCT select is text)."""
    return cast(null(), type_)


def _plan_inputs_statement() -> Any:
    """Scores, counted days and flags of ``:user_id`` in one UNION ALL: (kind, day, score, exercise, at)."""
    user_id = bindparam("user_id", type_=Integer())

    def kind(n: int) -> Any:
        return literal_column(str(n), Integer()).label("kind")

    scores = select(
        kind(0),
        _scores.c.local_date.label("day"),
        cast(_scores.c.score, Integer()).label("score"),
        typed_null(String()).label("exercise"),
        typed_null(UTCDateTime()).label("at"),
        _scores.c.recorded_at.label("o1"),
        _scores.c.id.label("o2"),
    ).where(_scores.c.user_id == user_id)
    days = (
        select(
            kind(1),
            _sessions.c.local_date,
            typed_null(Integer()),
            typed_null(String()),
            typed_null(UTCDateTime()),
            typed_null(UTCDateTime()),
            typed_null(Integer()),
        )
        .where(_sessions.c.user_id == user_id, _sessions.c.counted.is_(True))
        .distinct()
    )
    flags = select(
        kind(2),
        typed_null(Date()),
        typed_null(Integer()),
        _flags.c.exercise_id,
        _flags.c.last_at,
        typed_null(UTCDateTime()),
        _flags.c.id,
    ).where(_flags.c.user_id == user_id)
    everything = union_all(scores, days, flags).subquery()
    c = everything.c
    return select(c.kind, c.day, c.score, c.exercise, c.at).order_by(c.kind, c.o1, c.o2, c.day)


PLAN_INPUTS = _plan_inputs_statement()


@dataclass(frozen=True, slots=True)
class LatestSession:
    """The user's latest ended session, for the after-session question."""

    id: int
    ended_at: datetime
    answered: bool
    """A pain score already answers it."""


# Hot statements are built once: SQLAlchemy then finds their compiled form without rebuilding them.
_user_id = bindparam("user_id", type_=Integer())
USER_BY_ID = select(User).where(User.id == bindparam("user_id"))
SCORES = (
    select(_scores.c.recorded_at, _scores.c.local_date, _scores.c.score)
    .where(_scores.c.user_id == _user_id)
    .order_by(_scores.c.recorded_at, _scores.c.id)
)
SCORES_SINCE = SCORES.where(_scores.c.local_date > bindparam("since", type_=Date()))
INSERT_SCORE = insert(_scores).values(
    user_id=_user_id,
    score=bindparam("score", type_=Integer()),
    recorded_at=bindparam("at", type_=UTCDateTime()),
    local_date=bindparam("day", type_=Date()),
    session_id=bindparam("session_id", type_=Integer()),
)
SAVE_STATE = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("session_id"), _sessions.c.version == bindparam("expected"))
    .values(
        version=_sessions.c.version + 1,
        status=bindparam("status"),
        state=bindparam("state"),
        message_id=bindparam("message_id"),
        exercises_done=bindparam("exercises_done"),
        next_at=bindparam("next_at"),
    )
)
"""A step of a running session: Core, so no ORM object is looked for to bring up to date."""
COUNTED_PER_DAY = (
    select(_sessions.c.local_date, func.count())
    .where(_sessions.c.user_id == _user_id, _sessions.c.counted.is_(True))
    .group_by(_sessions.c.local_date)
    .order_by(_sessions.c.local_date)
)
COUNTED_PER_DAY_SINCE = COUNTED_PER_DAY.where(_sessions.c.local_date > bindparam("since", type_=Date()))


def _scores_and_latest_statement() -> Any:
    """The user's scores, then their latest ended session: (kind, at, day, score or answered, id)."""
    latest_id = (
        select(func.max(_sessions.c.id))
        .where(
            _sessions.c.user_id == _user_id,
            _sessions.c.status.in_(ENDED_STATUSES),
            _sessions.c.ended_at.is_not(None),
        )
        .scalar_subquery()
    )
    answered = exists().where(_scores.c.user_id == _user_id, _scores.c.session_id == _sessions.c.id)
    scores = select(
        literal_column("0", Integer()).label("kind"),
        _scores.c.recorded_at.label("at"),
        _scores.c.local_date.label("day"),
        cast(_scores.c.score, Integer()).label("value"),
        _scores.c.id.label("ref"),
    ).where(_scores.c.user_id == _user_id)
    session = select(
        literal_column("1", Integer()),
        _sessions.c.ended_at,
        typed_null(Date()),
        case((answered, 1), else_=0),
        _sessions.c.id,
    ).where(_sessions.c.id == latest_id)
    both = union_all(scores, session).subquery()
    c = both.c
    return select(c.kind, c.at, c.day, c.value, c.ref).order_by(c.kind, c.at, c.ref)


SCORES_AND_LATEST = _scores_and_latest_statement()


class UserRepository:
    def __init__(self, session: AsyncSession, *, read_only: bool = False) -> None:
        self.session = session
        self.read_only = read_only
        self.pending: Seen | None = None
        """Read-only units only: what ``touch`` found to write; ``Database.read`` writes it afterwards."""

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
        """The user's row, created on first contact; a later contact changes it only when the name,
        chat or language changed or ``last_seen_at`` is a minute old (``seen_changes``), so most
        updates leave the row alone.

        In a read-only unit (``Database.read``) nothing is written here: a new user is returned
        unsaved and ``pending`` says what ``Database.read`` writes when the block ends.
        """
        user = (await self.session.execute(USER_BY_ID, {"user_id": user_id})).scalars().first()
        if user is None:
            values: dict[str, Any] = {
                "id": user_id,
                "chat_id": chat_id,
                "first_name": first_name,
                "language_code": language_code,
                "timezone": default_timezone,
                "created_at": now,
                "last_seen_at": now,
                "settings": {},
            }
            user = User(**values)
            if self.read_only:
                self.pending = Seen(user_id, values, new=True)
                return user
            self.session.add(user)
            await self.session.flush()
            return user
        changes = seen_changes(user, chat_id, first_name, language_code, now)
        if changes and self.read_only:
            self.pending = Seen(user_id, changes, new=False)
        else:
            for name, value in changes.items():
                setattr(user, name, value)
        return user

    async def record_seen(self, seen: Seen) -> None:
        """Write what ``touch`` found in a read-only unit (a user created meanwhile is left alone)."""
        if seen.new:
            dialect_insert = (
                postgresql_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
            )
            statement: Any = (
                dialect_insert(_users).values(seen.values).on_conflict_do_nothing(index_elements=["id"])
            )
        else:
            statement = update(_users).where(_users.c.id == seen.user_id).values(seen.values)
        await self.session.execute(statement)

    async def plan_inputs(self, user_id: int) -> PlanInputs:
        """The user's pain scores, counted days and hurt exercises, in one round trip."""
        scores: list[tuple[date, int]] = []
        days: list[date] = []
        hurts: list[tuple[str, datetime]] = []
        for kind, day, score, exercise, at in await self.session.execute(PLAN_INPUTS, {"user_id": user_id}):
            if kind == 0:
                scores.append((day, int(score)))
            elif kind == 1:
                days.append(day)
            else:
                hurts.append((exercise, at))
        return PlanInputs(scores, days, hurts)

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

    async def save_state(
        self,
        session_id: int,
        version: int,
        *,
        status: str,
        state: dict[str, Any],
        message_id: int | None,
        exercises_done: int,
        next_at: datetime | None,
    ) -> bool:
        """Write a live session's state if nobody else wrote it since ``version``; True when written."""
        result = await self.session.execute(
            SAVE_STATE,
            {
                "session_id": session_id,
                "expected": version,
                "status": status,
                "state": state,
                "message_id": message_id,
                "exercises_done": exercises_done,
                "next_at": next_at,
            },
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

    async def counted_per_day(self, user_id: int, since: date | None = None) -> dict[date, int]:
        """How many counted sessions the user completed on each local day (after ``since``), by day."""
        if since is None:
            result = await self.session.execute(COUNTED_PER_DAY, {"user_id": user_id})
        else:
            result = await self.session.execute(COUNTED_PER_DAY_SINCE, {"user_id": user_id, "since": since})
        return {day: int(n) for day, n in result}

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

    async def record(
        self, user_id: int, score: int, *, at: datetime, local_date: date, session_id: int | None = None
    ) -> None:
        """Store a score (one INSERT, no ORM object)."""
        await self.session.execute(
            INSERT_SCORE,
            {"user_id": user_id, "score": score, "at": at, "day": local_date, "session_id": session_id},
        )

    async def scores(self, user_id: int, since: date | None = None) -> list[tuple[datetime, date, int]]:
        """The user's scores as (recorded at, local day, score), oldest first; only the local days after
        ``since`` when given."""
        if since is None:
            result = await self.session.execute(SCORES, {"user_id": user_id})
        else:
            result = await self.session.execute(SCORES_SINCE, {"user_id": user_id, "since": since})
        return [(at, day, int(score)) for at, day, score in result]

    async def scores_and_latest_session(
        self, user_id: int
    ) -> tuple[list[tuple[datetime, date, int]], LatestSession | None]:
        """``scores`` and the user's latest ended session (completed or stopped), in one round trip."""
        scores: list[tuple[datetime, date, int]] = []
        latest: LatestSession | None = None
        for kind, at, day, value, ref in await self.session.execute(SCORES_AND_LATEST, {"user_id": user_id}):
            if kind == 0:
                scores.append((at, day, int(value)))
            else:
                latest = LatestSession(int(ref), at, bool(value))
        return scores, latest

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

    async def due_groups(self, now: datetime, limit: int) -> list[tuple[str | None, str, datetime, int]]:
        """The due reminders as groups that share a wall-clock time, a zone and a due instant, earliest
        first: (reminder time, zone, due at, users). Nothing is read per user."""
        result = await self.session.execute(
            select(_users.c.reminder_time, _users.c.timezone, _users.c.next_reminder_at, func.count())
            .where(_users.c.next_reminder_at <= now)
            .group_by(_users.c.next_reminder_at, _users.c.reminder_time, _users.c.timezone)
            .order_by(_users.c.next_reminder_at, _users.c.reminder_time, _users.c.timezone)
            .limit(limit)
        )
        return [(time, zone, was, int(n)) for time, zone, was, n in result]

    @staticmethod
    def _group(reminder_time: str | None, zone_name: str, was: datetime) -> list[Any]:
        """The users of one group whose ``next_reminder_at`` is still ``was``: a user whose time or
        zone changed meanwhile (a /timezone or /remind that committed during the tick) is not in it."""
        return [
            _users.c.next_reminder_at == was,
            _users.c.timezone == zone_name,
            _users.c.reminder_time.is_(None)
            if reminder_time is None
            else _users.c.reminder_time == reminder_time,
        ]

    async def move_group(
        self, reminder_time: str | None, zone_name: str, was: datetime, next_at: datetime | None
    ) -> int:
        """Move the group's next reminder from ``was`` to ``next_at`` in one UPDATE. Returns how many moved."""
        result = await self.session.execute(
            update(_users).where(*self._group(reminder_time, zone_name, was)).values(next_reminder_at=next_at)
        )
        return self._rows(result)

    async def claim_group(
        self, reminder_time: str | None, zone_name: str, was: datetime, local_date: date, now: datetime
    ) -> int:
        """Insert a claimed delivery for ``local_date``, due at ``was``, for every user of the group who
        is not on a break that day: one INSERT ... SELECT. A delivery that already exists for the same
        user and day is left alone (ON CONFLICT DO NOTHING), so nobody gets two reminders for one day.
        Returns how many rows were inserted."""
        day = bindparam("day", local_date, type_=Date())
        columns = ["user_id", "local_date", "due_at", "claimed_at", "status", "attempts"]
        rows = select(
            _users.c.id,
            day,
            _users.c.next_reminder_at,
            bindparam("now", now, type_=UTCDateTime()),
            bindparam("status", "claimed", type_=String()),
            bindparam("attempts", 0, type_=Integer()),
        ).where(
            *self._group(reminder_time, zone_name, was),
            or_(_users.c.break_until.is_(None), _users.c.break_until < day),
        )
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
    """The repositories of one transaction (``read_only``: of one ``Database.read`` unit)."""

    def __init__(self, session: AsyncSession, *, read_only: bool = False) -> None:
        self.session = session
        self.read_only = read_only
        self.users = UserRepository(session, read_only=read_only)
        self.sessions = SessionRepository(session)
        self.pain = PainRepository(session)
        self.flags = FlagRepository(session)
        self.reminders = ReminderRepository(session)
        self.instances = InstanceRepository(session)
