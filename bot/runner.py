"""The session runner: drives guided sessions in the chat, from the database, on any instance.

One message per exercise (the "card") shows the cues, the dose and a countdown that is edited
silently at most once every ``EDIT_SECONDS`` (scaled by TIMER_SCALE), and only where someone would
notice. A step a person acts on (a hold starts or ends, the sides switch) arrives as a new short
message so the phone buzzes; an exercise's step messages are deleted together when it ends, to keep
the chat tidy. The state machine lives in ``bot.domain.session``.

A session is not tied to a process. Its whole state, what the chat shows of it and its next moment
(``next_at``: a phase ends, the countdown is due an edit) are saved after every step. Every operation
on it runs under its user's lock (``bot.locks``: across instances on PostgreSQL). The instance that
last worked on a session wakes it with a JobQueue timer; every instance also runs a session tick that
advances any running session whose moment has passed, so a restart or a crashed instance costs the
user about a tick: the session goes on where it was, with no question. In memory there is only a cache,
used while its version matches the database's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from apscheduler.jobstores.base import JobLookupError  # type: ignore[import-untyped]
from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes, Job

from bot import metrics, safety
from bot import session_render as view
from bot.callbacks import Action
from bot.domain.session import Phase, SessionState
from bot.domain.streaks import StreakSummary, streak_summary
from bot.locks import UserLocks
from bot.users import end_break, frozen_ranges, today
from content.planner import Routine, RoutineItem
from storage.models import GuidedSession, User

if TYPE_CHECKING:
    from bot.app import AnyApplication
    from bot.context import Services

log = logging.getLogger(__name__)
T = TypeVar("T")

EDIT_SECONDS = 5
"""The card is edited at most this often (nominal seconds), to stay inside Telegram's limits."""
COUNTDOWN_SECONDS = 10
"""The countdown alone moves this often (nominal seconds): phase changes are announced at once by
their own message, so a finer countdown would cost Telegram calls without telling anyone more."""
JOB_PREFIX = "session:"
TICK_JOB = "session-tick"
TICK_SECONDS = 0.5
"""How often every instance looks for running sessions whose moment has passed (real seconds; shorter
when TIMER_SCALE speeds the timers up)."""
TICK_BATCH = 500
TICK_PARALLEL = 16
RESUME_AFTER = timedelta(seconds=1)
"""A session nobody advanced for this long after its moment (a restart, a crashed instance) redoes its
current phase from the start rather than skipping the phases whose time passed meanwhile."""
SAVE_ATTEMPTS = 3
SAVE_BACKOFF_SECONDS = 0.5
STALE_AFTER = timedelta(hours=12)
"""A session left live at start-up is closed when it started longer ago than this, or on an earlier day."""
LIVE_STATUSES = ("running", "paused")


@dataclass
class Live:
    """A session being run, with what the chat currently shows of it (all of it saved with the session)."""

    id: int
    user_id: int
    chat_id: int
    routine: Routine
    state: SessionState
    started_at: datetime
    card_id: int | None = None
    transients: list[int] = field(default_factory=list)
    """This exercise's short step messages, deleted together (one deleteMessages) when it ends."""
    hurt_question: tuple[int, str] | None = None
    """The "it hurts" question (message id, text): its buttons go once the user has chosen."""
    last_text: str = ""
    edited_at: datetime | None = None
    """When the card was last sent or edited (countdown edits keep EDIT_SECONDS apart)."""
    card_behind: bool = False
    """The card shows an older step than the session is on (an edit was held back or failed)."""
    announced: int = -1
    """The last step whose short message was sent (or was about to be, when an instance died)."""
    pictured: int = -1
    """The last exercise whose picture was sent."""
    next_at: datetime | None = None
    version: int = 0
    """The database version this copy was loaded at or last saved as."""
    dirty: bool = False
    """The state has changes the database does not have yet (a save failed); retried on the next step."""

    @property
    def current(self) -> RoutineItem:
        return self.routine.items[min(self.state.item, len(self.routine.items) - 1)]

    def chat_dict(self) -> dict[str, Any]:
        return {
            "card": self.card_id,
            "transient": self.transients,
            "hurt": list(self.hurt_question) if self.hurt_question else None,
            "text": self.last_text,
            "edited": self.edited_at.isoformat() if self.edited_at else None,
            "behind": self.card_behind,
            "announced": self.announced,
            "pictured": self.pictured,
        }

    def load_chat(self, data: dict[str, Any]) -> None:
        self.card_id = data.get("card")
        transient = data.get("transient")
        self.transients = [int(i) for i in transient] if isinstance(transient, list) else []
        hurt = data.get("hurt")
        self.hurt_question = (int(hurt[0]), str(hurt[1])) if hurt else None
        self.last_text = str(data.get("text") or "")
        edited = data.get("edited")
        self.edited_at = datetime.fromisoformat(edited) if edited else None
        self.card_behind = bool(data.get("behind", False))
        self.announced = int(data.get("announced", -1))
        self.pictured = int(data.get("pictured", -1))


def routine_to_json(routine: Routine) -> list[dict[str, Any]]:
    return [
        {
            "id": i.exercise.id,
            "hold": i.hold_seconds,
            "reps": i.reps,
            "sides": i.sides,
            "rest": i.rest_seconds,
        }
        for i in routine.items
    ]


class SessionRunner:
    """Starts, steps, pauses and finishes guided sessions; one per user at a time."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.app: AnyApplication | None = None
        self.cache: dict[int, Live] = {}
        self.locks = UserLocks(services.db.engine)
        self._timers: dict[int, Job[Any]] = {}
        self._ticking = False

    def attach(self, app: AnyApplication) -> None:
        self.app = app

    @property
    def _tips(self) -> tuple[str, ...]:
        return tuple(g.tip for g in self.services.catalogue.guidance if g.tip)

    @property
    def _bot(self) -> Any:
        assert self.app is not None, "SessionRunner.attach() was not called"
        return self.app.bot

    @property
    def _scale(self) -> float:
        return self.services.settings.timer_scale

    @property
    def _step(self) -> timedelta:
        return timedelta(seconds=EDIT_SECONDS * self._scale)

    @property
    def tick_seconds(self) -> float:
        return max(0.05, min(TICK_SECONDS, TICK_SECONDS * self._scale))

    # --- loading and saving --------------------------------------------------------------------

    def _from_row(self, row: GuidedSession) -> Live:
        catalogue = self.services.catalogue
        items = tuple(
            RoutineItem(catalogue[i["id"]], i["hold"], int(i["reps"]), i["sides"], int(i["rest"]))
            for i in row.state["routine"]
        )
        routine = Routine(row.local_date, items)
        state = SessionState.from_dict(row.state["machine"])
        live = Live(row.id, row.user_id, row.chat_id, routine, state, row.started_at, card_id=row.message_id)
        live.load_chat(row.state.get("chat") or {"card": row.message_id})
        live.next_at, live.version = row.next_at, row.version or 0
        return live

    def _cached(self, row: GuidedSession) -> Live:
        """The cached copy when it is current (or holds changes a failed save left), else the row's."""
        cached = self.cache.get(row.id)
        if cached is not None and cached.version == (row.version or 0):
            return cached
        live = self._from_row(row)
        self.cache[row.id] = live
        return live

    async def _load(self, session_id: int) -> Live | None:
        """The live session ``session_id`` as the database has it now (the caller holds its lock)."""
        try:
            async with self.services.db.read() as repos:  # no write turn: ``_save`` checks the version
                cached = self.cache.get(session_id)
                found = None if cached is None else await repos.sessions.version_of(session_id)
                if found is not None and found[1] not in LIVE_STATUSES:
                    row = None
                elif cached is not None and found is not None and cached.version == found[0]:
                    return cached  # current: no need to read and parse the state again
                else:  # not cached here (a takeover), or someone else moved it on
                    row = await repos.sessions.by_id(session_id)
        except Exception:
            cached = self.cache.get(session_id)
            if cached is not None and cached.dirty:  # the database is unavailable: carry on from memory
                log.warning("session %s: loading it failed; going on from memory", session_id)
                return cached
            raise
        if row is None or row.status not in LIVE_STATUSES:
            self._forget(session_id)
            return None
        return self._cached(row)

    async def get(self, session_id: int) -> Live | None:
        """The live session ``session_id`` (for a quick look: a tap's ownership check)."""
        return await self._load(session_id)

    async def live_for(self, user_id: int) -> Live | None:
        """The user's running or paused session, whichever instance ran it last."""
        async with self.services.db.transaction() as repos:
            row = await repos.sessions.live(user_id)
        return None if row is None else self._cached(row)

    def _values(self, live: Live) -> dict[str, Any]:
        state = live.state
        return {
            "status": state.status if state.live else "running",
            "state": {
                "machine": state.to_dict(),
                "routine": routine_to_json(live.routine),
                "chat": live.chat_dict(),
            },
            "message_id": live.card_id,
            "exercises_done": state.done_items,
            "next_at": live.next_at,
        }

    async def _save(self, live: Live) -> bool:
        """Store the session as it is now; on a database error keep it in memory and retry later."""
        try:
            async with self.services.db.transaction() as repos:
                written = await repos.sessions.save_state(live.id, live.version, **self._values(live))
        except Exception:
            log.warning("session %s: saving a step failed; retrying on the next one", live.id, exc_info=True)
            live.dirty = True
            return False
        if not written:  # deleted (/forget) or ended meanwhile: nothing more to do here
            log.info("session %s changed under us; dropping this copy", live.id)
            live.state.stop()
            self._forget(live.id)
            return False
        live.version += 1
        live.dirty = False
        return True

    def _forget(self, session_id: int) -> None:
        self.cache.pop(session_id, None)
        self._disarm(session_id)

    def _disarm(self, session_id: int) -> None:
        job = self._timers.pop(session_id, None)
        if job is not None:
            with contextlib.suppress(JobLookupError):  # it ran already
                job.schedule_removal()

    def _arm(self, session_id: int, job: Job[Any]) -> None:
        """This instance's one timer for a session (looked up by id: the JobQueue's own search by
        name reads every job, which costs a tick with thousands of sessions far too much)."""
        self._disarm(session_id)
        self._timers[session_id] = job

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, user: User, chat_id: int, routine: Routine) -> Live:
        """Start a guided session (the caller holds the user's lock and has checked there is no live one)."""
        now = self.services.clock.now()
        state = SessionState.start(routine, now, self._scale)
        async with self.locks.hold(user.id):
            async with self.services.db.transaction() as repos:
                first_ever = not await repos.sessions.has_any(user.id)
                row = await repos.sessions.add(
                    GuidedSession(
                        user_id=user.id,
                        chat_id=chat_id,
                        local_date=today(user, self.services),
                        started_at=now,
                        status="running",
                        state={"machine": state.to_dict(), "routine": routine_to_json(routine)},
                        exercises_total=len(routine.items),
                        exercises_done=0,
                        counted=False,
                        next_at=now,
                        version=0,
                    )
                )
            live = Live(row.id, user.id, chat_id, routine, state, now, next_at=now)
            self.cache[live.id] = live
            try:
                if first_ever:
                    note = safety.first_session_note(self.services.catalogue.guidance)
                    await self._send(live, note, None)
                await self._new_card(live, now)
            except TelegramError:
                log.warning("session %s: the first card could not be sent; retrying", live.id, exc_info=True)
            finally:
                await self._settle(live, now)
        return live

    async def restore(self) -> int:
        """At start-up: close sessions too old to go on; the session tick carries on with the others."""
        now = self.services.clock.now()
        kept = 0
        async with self.services.db.transaction() as repos:
            for row in await repos.sessions.all_live():
                user = await repos.users.get(row.user_id)
                if (
                    user is None
                    or now - row.started_at > STALE_AFTER
                    or row.local_date < today(user, self.services)
                ):
                    row.status, row.ended_at, row.next_at = "interrupted", now, None
                    continue
                kept += 1
        self.start_ticking()
        metrics.track_sessions(self.app, lambda: sum(1 for live in self.cache.values() if live.state.live))
        return kept

    def start_ticking(self) -> None:
        assert self.app is not None and self.app.job_queue is not None
        if not self.app.job_queue.get_jobs_by_name(TICK_JOB):
            self.app.job_queue.run_repeating(
                self._on_tick,
                interval=self.tick_seconds,
                first=0,
                name=TICK_JOB,
                # a second instance only finds the first one busy and returns (APScheduler would warn)
                job_kwargs={"misfire_grace_time": 5, "coalesce": True, "max_instances": 2},
            )

    async def is_from_an_earlier_day(self, live: Live) -> bool:
        """Whether the session was started on a local day before the user's today."""
        async with self.services.db.transaction() as repos:
            user = await repos.users.get(live.user_id)
        return user is not None and live.routine.local_date < today(user, self.services)

    # --- operations: each one under the user's lock ---------------------------------------------

    async def _op(
        self,
        session_id: int,
        user_id: int,
        work: Callable[[Live], Awaitable[T]],
        *,
        wait: float | None = 10.0,
    ) -> T | None:
        async with self.locks.hold(user_id, wait=wait) as acquired:
            if not acquired:
                return None
            live = await self._load(session_id)
            if live is None or live.user_id != user_id:
                return None
            return await work(live)

    async def act(self, user_id: int, action: Action) -> str:
        """Apply a button tap; returns the short notice for answerCallbackQuery ("" for none)."""

        async def tap(live: Live) -> str:
            if not live.state.live:
                return "That session has already ended."
            now = self.services.clock.now()
            before = live.state.index
            live.state.advance(now)  # a timer that is due has the first word
            notice = self._apply(live, action, now)
            if notice is None or live.state.index != before:
                await self._after_change(live, before, now, reason=action.kind if notice is None else "timer")
            return notice or ""

        async with self.services.db.transaction() as repos:
            owner = await repos.sessions.owner(action.ref)
        if owner is None:
            return "That session has already ended."
        if owner != user_id:
            return "These buttons belong to someone else's session."
        result = await self._op(action.ref, user_id, tap)
        return "That session has already ended." if result is None else result

    async def abandon(self, live: Live) -> None:
        """Stop a session without the closing question (the user is starting a fresh one)."""

        async def stop(current: Live) -> None:
            if current.state.stop():
                await self._finish(current, self.services.clock.now(), quiet=True)

        await self._op(live.id, live.user_id, stop)

    async def forget_user(self, user_id: int) -> None:
        """Drop the cached session of a user whose data is being deleted."""
        for live in [c for c in self.cache.values() if c.user_id == user_id]:
            live.state.stop()
            self._forget(live.id)

    # --- timers --------------------------------------------------------------------------------

    async def _advance(self, live: Live, *, taken_over: bool = False) -> None:
        """The session's moment has come: move it on, show it, save it."""
        state = live.state
        if not state.live:
            return
        now = self.services.clock.now()
        if live.next_at is not None and now < live.next_at:
            return  # someone else got here first
        if taken_over and live.next_at is not None and now - live.next_at > RESUME_AFTER:
            # nobody ran it for a while (a restart, a crashed instance): go on where it was
            log.info(
                "session %s resumed %.1f s after its moment", live.id, (now - live.next_at).total_seconds()
            )
            state.restart_phase(now)
        before = state.index
        state.advance(now)
        await self._after_change(live, before, now, reason="timer")

    async def _on_timer(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.job is not None
        session_id, user_id = cast("tuple[int, int]", context.job.data)
        if self._timers.get(session_id) is context.job:
            del self._timers[session_id]  # it has fired
        await self._op(session_id, user_id, self._advance, wait=5.0)

    async def _on_tick(self, context: ContextTypes.DEFAULT_TYPE | None = None) -> int:
        """Advance every running session whose moment has passed and that this instance is not about to
        wake itself; returns how many were advanced."""
        if self._ticking:
            return 0
        self._ticking = True
        try:
            return await self._tick()
        finally:
            self._ticking = False

    async def _tick(self) -> int:
        now = self.services.clock.now()
        try:
            async with self.services.db.transaction() as repos:
                due = await repos.sessions.due(now, TICK_BATCH)
        except Exception:
            log.warning("session tick: the database did not answer", exc_info=True)
            return 0
        slack = timedelta(seconds=max(self.tick_seconds, 0.2))
        gate = asyncio.Semaphore(TICK_PARALLEL)
        done = 0

        async def one(session_id: int, user_id: int, next_at: datetime) -> None:
            nonlocal done
            mine = session_id in self.cache and self._armed(session_id)
            if mine and now - next_at < slack:
                return  # our own timer is about to fire
            async with gate:
                result = await self._op(session_id, user_id, lambda live: self._take_over(live, mine), wait=0)
            done += result is not None

        await asyncio.gather(*(one(*row) for row in due), return_exceptions=True)
        return done

    async def _take_over(self, live: Live, mine: bool) -> bool:
        await self._advance(live, taken_over=not mine)
        return True

    def _armed(self, session_id: int) -> bool:
        job = self._timers.get(session_id)
        return job is not None and not job.removed

    def _next_at(self, live: Live, now: datetime) -> datetime | None:
        """The session's next moment.

        Edits of the card by the timer come at least ``EDIT_SECONDS`` apart, whatever the phases'
        lengths: a phase change that comes sooner is announced by its short message at once, and the
        card catches up as soon as the rule allows. A countdown edit is made only while at least
        ``EDIT_SECONDS`` of its phase are left: "0:02 left" is out of date before anyone reads it (and
        the card is closed, an edit, when its exercise ends).
        """
        step = self._step
        edited = live.edited_at or now
        next_edit = max(edited + step, now)  # the soonest the card may change again
        wanted = max(edited + step * (self._pace(live.state) / EDIT_SECONDS), now)  # the countdown's pace
        wakes: list[datetime] = []
        deadline = live.state.next_deadline()
        if deadline is not None:
            wakes.append(wanted if wanted + step <= deadline else deadline)
        elif live.card_behind:
            wakes.append(next_edit)
        if live.dirty:
            wakes.append(now + step)
        return min(wakes) if wakes else None

    async def _settle(self, live: Live, now: datetime) -> None:
        """After every step: compute the next moment, save, and set this instance's timer for it.

        ``now`` is when the step began; the timer is set from the clock as it is now (showing the step
        may have taken a while: a picture drawn, a slow Telegram).
        """
        if not live.state.live:
            return
        now = max(now, self.services.clock.now())
        live.next_at = self._next_at(live, now)
        await self._save(live)
        if not live.state.live:
            return
        if live.dirty and live.next_at is None:
            live.next_at = now + self._step
        assert self.app is not None and self.app.job_queue is not None
        if live.next_at is None:
            self._disarm(live.id)
            return
        job = self.app.job_queue.run_once(
            self._on_timer,
            when=max(0.0, (live.next_at - now).total_seconds()),
            data=(live.id, live.user_id),
            name=f"{JOB_PREFIX}{live.id}",
            job_kwargs={"misfire_grace_time": 60, "coalesce": True},
        )
        self._arm(live.id, job)

    # --- what the chat shows -------------------------------------------------------------------

    async def _after_change(self, live: Live, before: int, now: datetime, *, reason: str) -> None:
        """Show a change in the chat and store it; never raises, and always leaves the session due again.

        Telegram failures here are logged and shown later (the next moment edits or re-sends the card);
        a failed save is retried then.
        """
        state = live.state
        try:
            if reason in ("hurt_go", "hurt_stop", "stop"):
                await self._close_hurt_question(live, reason)
            if state.status in ("finished", "stopped"):
                await self._finish(live, now)
                return
            await self._show(live, before, now, reason)
        except TelegramError:
            log.warning(
                "session %s: Telegram failed while showing a step; retrying on the next one",
                live.id,
                exc_info=True,
            )
        finally:
            if state.live:
                await self._settle(live, now)
            elif live.id in self.cache:  # stopped underneath us, e.g. the user blocked the bot
                await self._finish(live, now)

    def _apply(self, live: Live, action: Action, now: datetime) -> str | None:
        """Change the state machine; a string return is a notice and means nothing changed."""
        state = live.state
        if state.waiting_after_hurt:
            return self._apply_after_hurt(state, action, now)
        on_current = action.arg in ("", str(state.index) if action.kind == "done" else str(state.item))
        if action.kind in ("skip", "hurt", "done") and not on_current:
            return "Already done — you're on the next step."
        if action.kind == "pause":
            return None if state.pause(now) else "Already paused."
        if action.kind in ("resume", "continue"):
            if state.status == "running":
                return "It's already running." if action.kind == "resume" else None
            state.resume(now)
            return None
        if action.kind == "skip":
            state.skip(now)
        elif action.kind == "hurt":
            state.report_hurt(now)
        elif action.kind == "done":
            if not state.done(now):
                return "This step is timed — it moves on by itself."
        elif action.kind == "stop":
            state.stop()
        elif action.kind in ("hurt_go", "hurt_stop"):
            return "That choice has already been made."
        else:
            return "That button doesn't do anything here."
        return None

    @staticmethod
    def _apply_after_hurt(state: SessionState, action: Action, now: datetime) -> str | None:
        """While the session waits after "It hurts", only the two choices (or Stop) move it."""
        if action.kind == "hurt_go" and action.arg == str(state.hurt_pending):
            state.go_on_after_hurt(now)
            return None
        if action.kind in ("hurt_stop", "stop"):
            state.stop()
            return None
        if action.kind == "hurt":
            return "I've paused it. Choose below: skip it and go on, or stop for today."
        return "The session is paused because it hurt. Choose below: skip it and go on, or stop for today."

    async def _show(self, live: Live, before: int, now: datetime, reason: str) -> None:
        state = live.state
        before_item = state.phases[min(before, len(state.phases) - 1)].item
        if state.waiting_after_hurt and reason == "hurt":
            await self._edit_card(live, now, force=True)  # paused, without buttons
            await self._ask_after_hurt(live)
        elif reason == "continue":  # the card moves to the bottom of the chat
            await self._delete_card(live)
            await self._new_card(live, now)
        elif state.item != before_item:
            await self._close_card(live, before_item)
            await self._new_card(live, now)
        elif state.index != before:
            await self._transition(live, now)
        else:
            await self._edit_card(live, now, force=reason != "timer")

    async def _send(self, live: Live, text: str, markup: InlineKeyboardMarkup | None) -> Message | None:
        try:
            message: Message = await self._bot.send_message(live.chat_id, text, reply_markup=markup)
        except Forbidden:
            log.info("chat %s blocked the bot; stopping session %s", live.chat_id, live.id)
            live.state.stop()
            return None
        return message

    async def _drop_transients(self, live: Live) -> None:
        """Tidy the chat: the finished exercise's step messages go, in one call per hundred."""
        ids, live.transients = live.transients, []
        for start in range(0, len(ids), 100):
            with contextlib.suppress(TelegramError):
                await self._bot.delete_messages(live.chat_id, ids[start : start + 100])

    async def _picture(self, live: Live) -> None:
        """The exercise's picture, as its own message above its first card (best effort: never blocks
        the card, and once per exercise whoever runs the session)."""
        pictures = self.services.pictures
        if pictures is None or live.pictured >= live.state.item:
            return
        live.pictured = live.state.item
        try:
            await pictures.send_exercise_picture(
                self._bot, live.chat_id, live.current.exercise, disable_notification=True
            )
        except TelegramError as exc:
            log.info("session %s: the picture could not be sent (%s)", live.id, exc)

    async def _new_card(self, live: Live, now: datetime) -> None:
        await self._drop_transients(live)
        await self._picture(live)
        live.card_behind = True  # until Telegram confirms it, the exercise has no card
        text = view.card_text(live, now, self._tips)
        message = await self._send(live, text, view.card_keyboard(live))
        if message is not None:
            # when Telegram has it: a slow step before (a picture drawn) must not shorten the spacing
            live.card_id, live.last_text, live.edited_at = message.message_id, text, self.services.clock.now()
            live.card_behind = False

    async def _edit_card(
        self, live: Live, now: datetime, *, force: bool = False, spacing: float = EDIT_SECONDS
    ) -> None:
        """Edit the card; at most once per ``spacing`` nominal seconds (never under EDIT_SECONDS) unless
        the user's tap changed it."""
        if live.card_id is None:  # the card could not be sent: send it now
            await self._new_card(live, now)
            return
        text = view.card_text(live, now, self._tips)
        if text == live.last_text:
            live.card_behind = False
            return  # Telegram rejects an edit that changes nothing
        state = live.state
        if self._short(state.phase):  # the card only shows progress: it follows at a slower pace
            spacing = max(spacing, self._pace(state))
        step = timedelta(seconds=max(spacing, EDIT_SECONDS) * self._scale)
        if not force and (
            (live.edited_at is not None and now - live.edited_at < step)
            or not self._worth_showing(state, now)
        ):
            live.card_behind = True  # caught up by the next tick, or by the next phase
            return
        try:
            await self._bot.edit_message_text(
                text, chat_id=live.chat_id, message_id=live.card_id, reply_markup=view.card_keyboard(live)
            )
        except BadRequest as exc:
            if "not modified" not in str(exc):
                log.info("card of session %s could not be edited (%s); sending a new one", live.id, exc)
                await self._new_card(live, now)
                return
        except Forbidden:
            live.state.stop()
            return
        except TelegramError:
            live.card_behind = True
            raise
        live.last_text, live.edited_at, live.card_behind = text, self.services.clock.now(), False

    @staticmethod
    def _short(phase: Phase) -> bool:
        """Over before the countdown would move: a rest, a switch, a counted hold."""
        return phase.timed and phase.seconds <= COUNTDOWN_SECONDS

    @classmethod
    def _pace(cls, state: SessionState) -> float:
        """Nominal seconds between the timer's edits of the card: the countdown's step; twice that while
        the phases are too short for a countdown (a counted hold and its rest: the card then only
        shows how far along the exercise is, and the step messages keep the rhythm)."""
        return 2 * COUNTDOWN_SECONDS if cls._short(state.phase) else COUNTDOWN_SECONDS

    @classmethod
    def _worth_showing(cls, state: SessionState, now: datetime) -> bool:
        """Whether a timer's edit of the card would tell anyone something. Not when its phase has its
        own message and is over before the countdown would move (a rest of 5 s, a switch, a counted
        hold: the message said it), nor in the last ``EDIT_SECONDS`` of a phase ("0:02 left" is out
        of date before it is read). The card catches up with the next phase."""
        phase = state.phase
        if not phase.timed or state.status != "running":
            return True
        if state.announced and cls._short(phase):
            return False
        return state.remaining(now) >= EDIT_SECONDS

    async def _delete_card(self, live: Live) -> None:
        if live.card_id is not None:
            with contextlib.suppress(TelegramError):
                await self._bot.delete_message(live.chat_id, live.card_id)
            live.card_id, live.last_text = None, ""

    async def _close_card(self, live: Live, item: int) -> None:
        """The finished exercise's card loses its buttons and says how it went (best effort)."""
        if live.card_id is None:
            return
        text = view.closed_card_text(live, item)
        card_id = live.card_id
        live.card_id, live.last_text = None, ""
        try:
            await self._bot.edit_message_text(
                text, chat_id=live.chat_id, message_id=card_id, reply_markup=None
            )
        except TelegramError as exc:
            log.info("session %s: the finished card %s could not be closed (%s)", live.id, card_id, exc)

    async def _transition(self, live: Live, now: datetime) -> None:
        """A short message that makes the phone buzz, sent at most once per step, whoever runs it."""
        if live.announced < live.state.index and live.state.announced and await self._announce(live):
            message = await self._send(live, view.transition_text(live), None)
            if message is not None:
                live.transients.append(message.message_id)
        # the message just said what changed: the card follows at the countdown's pace
        await self._edit_card(live, now, spacing=COUNTDOWN_SECONDS)

    async def _announce(self, live: Live) -> bool:
        """Record that this step's message is going out before it does (an instance that takes the
        session over after a crash must not send it again); True when it may be sent."""
        live.announced = live.state.index
        if await self._save(live):
            return True
        # the database is unavailable: one instance alone cannot double it, several could
        return not self.locks.distributed

    async def _ask_after_hurt(self, live: Live) -> None:
        text = view.hurt_text(live.current)
        message = await self._send(live, text, view.hurt_keyboard(live))
        if message is not None:
            live.hurt_question = (message.message_id, text)

    async def _close_hurt_question(self, live: Live, reason: str) -> None:
        """The question after a hurt keeps its advice, loses its buttons and says what was chosen."""
        if live.hurt_question is None:
            return
        message_id, text = live.hurt_question
        live.hurt_question = None
        choice = "⏭ You skipped it and went on." if reason == "hurt_go" else "⏹ You stopped for today."
        with contextlib.suppress(TelegramError):
            await self._bot.edit_message_text(
                f"{text}\n\n<b>{choice}</b>", chat_id=live.chat_id, message_id=message_id, reply_markup=None
            )

    async def _finish(self, live: Live, now: datetime, *, quiet: bool = False) -> None:
        """Store the outcome first; then tidy the chat and ask the pain question, best effort.

        The session belongs to the local day it ends on. Nothing here raises: a Telegram failure
        after the outcome is stored costs at most a card left with its buttons (they answer "ended").
        The closing message goes out at most once: once the outcome is stored, no instance runs the
        session again.
        """
        state = live.state
        self._forget(live.id)
        streak = None
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                streak = await self._store_outcome(live, now)
                break
            except Exception:
                log.warning("session %s: saving its end failed (attempt %s)", live.id, attempt, exc_info=True)
                if attempt == SAVE_ATTEMPTS:
                    # keep it in memory, so this instance tries again; the user's next tap works too
                    self.cache[live.id] = live
                    live.dirty = True
                    self._retry_finish_later(live)
                    return
                await asyncio.sleep(SAVE_BACKOFF_SECONDS * attempt)
        with contextlib.suppress(TelegramError):
            await self._close_card(live, min(state.item, len(live.routine.items) - 1))
        with contextlib.suppress(TelegramError):
            await self._drop_transients(live)
        if quiet or streak is None:
            return
        elapsed = (now - live.started_at).total_seconds() / self._scale
        text = (
            view.finished_text(live, elapsed, streak)
            if state.status == "finished"
            else view.stopped_text(live)
        )
        try:
            await self._bot.send_message(live.chat_id, text, reply_markup=view.pain_keyboard(live.id))
        except TelegramError as exc:
            log.warning("session %s: the closing message could not be sent (%s)", live.id, exc)

    def _retry_finish_later(self, live: Live) -> None:
        assert self.app is not None and self.app.job_queue is not None

        async def retry(_: ContextTypes.DEFAULT_TYPE) -> None:
            async with self.locks.hold(live.user_id):
                if self.cache.get(live.id) is live:
                    await self._finish(live, self.services.clock.now())

        job = self.app.job_queue.run_once(
            retry,
            when=SAVE_BACKOFF_SECONDS * 10,
            name=f"{JOB_PREFIX}{live.id}",
            job_kwargs={"misfire_grace_time": 60},
        )
        self._arm(live.id, job)

    async def _store_outcome(self, live: Live, now: datetime) -> StreakSummary | None:
        """Write how the session ended; returns the streak, or None when the user's data is gone."""
        state = live.state
        async with self.services.db.transaction() as repos:
            row = await repos.sessions.get(live.user_id, live.id)
            user = await repos.users.get(live.user_id)
            if row is None or user is None or row.status not in LIVE_STATUSES:
                return None  # the user deleted their data meanwhile, or it was ended already
            day = today(user, self.services)
            row.status = "completed" if state.status == "finished" else "stopped"
            row.ended_at, row.counted, row.next_at = now, state.counts, None
            row.local_date = day  # the day it was completed on, not the day it started
            row.exercises_done = state.done_items
            row.message_id = live.card_id
            row.state = {**row.state, "machine": state.to_dict(), "chat": live.chat_dict()}
            row.version = (row.version or 0) + 1
            if state.counts and user.break_until is not None:
                end_break(user, day)  # coming back early ends a planned break
            days = await repos.sessions.counted_days(live.user_id)
            return streak_summary(days, day, frozen_ranges(user))
