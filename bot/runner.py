"""The session runner: drives a guided session in the chat with JobQueue timers.

One message per exercise (the "card") shows the cues, the dose and a countdown that is edited
silently at most once every ``EDIT_SECONDS`` (scaled by TIMER_SCALE). A transition (rest over,
switch sides, next exercise, done) arrives as a new short message so the phone buzzes; the previous
one is deleted to keep the chat tidy. The state machine lives in ``bot.domain.session``; its
snapshot is written to the database on every transition, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import session_render as view
from bot.callbacks import Action
from bot.domain.session import SessionState
from bot.domain.streaks import streak_summary
from bot.users import end_break, frozen_ranges, today
from content.planner import Routine, RoutineItem
from storage.models import GuidedSession, User

if TYPE_CHECKING:
    from bot.app import AnyApplication
    from bot.context import Services

log = logging.getLogger(__name__)
EDIT_SECONDS = 5
"""Countdown edits come at most this often (nominal seconds), to stay inside Telegram's limits."""
JOB_PREFIX = "session:"
STALE_AFTER = timedelta(hours=12)
"""A session interrupted by a restart is offered back only if it started less than this long ago."""


@dataclass
class Live:
    """A session being run, with what the chat currently shows of it."""

    id: int
    user_id: int
    chat_id: int
    routine: Routine
    state: SessionState
    started_at: datetime
    card_id: int | None = None
    transient_id: int | None = None
    last_text: str = ""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def current(self) -> RoutineItem:
        return self.routine.items[min(self.state.item, len(self.routine.items) - 1)]


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
        self.live: dict[int, Live] = {}

    def attach(self, app: AnyApplication) -> None:
        self.app = app

    @property
    def _bot(self) -> Any:
        assert self.app is not None, "SessionRunner.attach() was not called"
        return self.app.bot

    @property
    def _scale(self) -> float:
        return self.services.settings.timer_scale

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, user: User, chat_id: int, routine: Routine) -> Live:
        """Start a guided session (the caller has checked there is no live one)."""
        now = self.services.clock.now()
        state = SessionState.start(routine, now, self._scale)
        async with self.services.db.transaction() as repos:
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
                )
            )
        live = Live(row.id, user.id, chat_id, routine, state, now)
        self.live[live.id] = live
        async with live.lock:
            await self._new_card(live, now)
            await self._persist(live)
            self._schedule(live, now)
        return live

    async def restore(self) -> int:
        """At start-up: every session that was live when the bot stopped is paused and offered to continue."""
        async with self.services.db.transaction() as repos:
            rows = await repos.sessions.all_live()
            restored = []
            now = self.services.clock.now()
            for row in rows:
                if now - row.started_at > STALE_AFTER:  # nobody wants yesterday's session back
                    row.status, row.ended_at = "interrupted", now
                    continue
                try:
                    live = self._from_row(row)
                except (KeyError, ValueError, TypeError):
                    log.warning(
                        "session %s could not be restored; marking it interrupted", row.id, exc_info=True
                    )
                    row.status, row.ended_at = "interrupted", self.services.clock.now()
                    continue
                live.state.interrupt()
                row.status = "paused"
                row.state = {**row.state, "machine": live.state.to_dict()}
                restored.append(live)
        for live in restored:
            self.live[live.id] = live
            async with live.lock:
                with contextlib.suppress(TelegramError):
                    await self._send(live, view.interrupted_text(live), view.interrupted_keyboard(live))
        return len(restored)

    def _from_row(self, row: GuidedSession) -> Live:
        catalogue = self.services.catalogue
        items = tuple(
            RoutineItem(catalogue[i["id"]], i["hold"], int(i["reps"]), i["sides"], int(i["rest"]))
            for i in row.state["routine"]
        )
        routine = Routine(row.local_date, items)
        state = SessionState.from_dict(row.state["machine"])
        return Live(row.id, row.user_id, row.chat_id, routine, state, row.started_at, card_id=row.message_id)

    async def live_for(self, user_id: int) -> Live | None:
        return next((live for live in self.live.values() if live.user_id == user_id), None)

    # --- buttons -------------------------------------------------------------------------------

    async def act(self, user_id: int, action: Action) -> str:
        """Apply a button tap; returns the short notice for answerCallbackQuery ("" for none)."""
        live = self.live.get(action.ref)
        if live is None:
            return "That session has already ended."
        if live.user_id != user_id:
            return "These buttons belong to someone else's session."
        async with live.lock:
            if not live.state.live:
                return "That session has already ended."
            now = self.services.clock.now()
            before = live.state.index
            live.state.advance(now)  # a timer that is due has the first word
            notice = self._apply(live, action, now)
            if notice is None or live.state.index != before:
                await self._after_change(live, before, now, reason=action.kind if notice is None else "timer")
        return notice or ""

    def _apply(self, live: Live, action: Action, now: datetime) -> str | None:
        """Change the state machine; a string return is a notice and means nothing changed."""
        state = live.state
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
            state.skip(now, hurt=True)
        elif action.kind == "done":
            if not state.done(now):
                return "This step is timed — it moves on by itself."
        elif action.kind == "stop":
            state.stop()
        else:
            return "That button doesn't do anything here."
        return None

    async def abandon(self, live: Live) -> None:
        """Stop a session without the closing question (the user is starting a fresh one)."""
        async with live.lock:
            if live.state.stop():
                await self._finish(live, self.services.clock.now(), quiet=True)

    # --- timers --------------------------------------------------------------------------------

    def _schedule(self, live: Live, now: datetime) -> None:
        """One job per session, replaced on every change: at the next countdown edit or phase end."""
        assert self.app is not None and self.app.job_queue is not None
        name = f"{JOB_PREFIX}{live.id}"
        for job in self.app.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        deadline = live.state.next_deadline()
        if deadline is None:
            return
        step = EDIT_SECONDS * self._scale
        left = (deadline - now).total_seconds()
        ticks = math.ceil(round(left / step, 6)) - 1 if left > 0 else 0
        wake = deadline - timedelta(seconds=ticks * step)
        self.app.job_queue.run_once(
            self._on_timer,
            when=max(0.0, (wake - now).total_seconds()),
            data=live.id,
            name=name,
            job_kwargs={"misfire_grace_time": 60, "coalesce": True},
        )

    async def _on_timer(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.job is not None
        live = self.live.get(int(context.job.data))  # type: ignore[call-overload]
        if live is None:
            return
        async with live.lock:
            if not live.state.live:
                return
            now = self.services.clock.now()
            before = live.state.index
            live.state.advance(now)
            await self._after_change(live, before, now, reason="timer")

    # --- what the chat shows -------------------------------------------------------------------

    async def _after_change(self, live: Live, before: int, now: datetime, *, reason: str) -> None:
        state = live.state
        try:
            if state.status in ("finished", "stopped"):
                await self._finish(live, now)
                return
            before_item = state.phases[min(before, len(state.phases) - 1)].item
            if reason == "hurt":
                await self._send(live, view.hurt_text(live.routine.items[before_item]), None, keep=True)
            if reason == "continue":  # the card moves to the bottom of the chat
                await self._delete_card(live)
                await self._new_card(live, now)
            elif state.item != before_item:
                await self._close_card(live, before_item)
                await self._new_card(live, now)
            elif state.index != before:
                await self._transition(live, now)
            else:
                await self._edit_card(live, now)
        finally:
            if state.live:
                if state.index != before or reason != "timer":  # a countdown edit changes nothing stored
                    await self._persist(live)
                self._schedule(live, now)
            elif live.id in self.live:  # stopped underneath us, e.g. the user blocked the bot
                await self._finish(live, now)

    async def _send(
        self, live: Live, text: str, markup: InlineKeyboardMarkup | None, *, keep: bool = False
    ) -> Message | None:
        try:
            message: Message = await self._bot.send_message(live.chat_id, text, reply_markup=markup)
        except Forbidden:
            log.info("chat %s blocked the bot; stopping session %s", live.chat_id, live.id)
            live.state.stop()
            return None
        if not keep:
            await self._drop_transient(live)
        return message

    async def _drop_transient(self, live: Live) -> None:
        if live.transient_id is not None:
            with contextlib.suppress(BadRequest, Forbidden):
                await self._bot.delete_message(live.chat_id, live.transient_id)
            live.transient_id = None

    async def _new_card(self, live: Live, now: datetime) -> None:
        await self._drop_transient(live)
        text = view.card_text(live, now)
        message = await self._send(live, text, view.card_keyboard(live), keep=True)
        if message is not None:
            live.card_id, live.last_text = message.message_id, text

    async def _edit_card(self, live: Live, now: datetime) -> None:
        text = view.card_text(live, now)
        if live.card_id is None or text == live.last_text:
            return  # Telegram rejects an edit that changes nothing
        live.last_text = text
        try:
            await self._bot.edit_message_text(
                text, chat_id=live.chat_id, message_id=live.card_id, reply_markup=view.card_keyboard(live)
            )
        except BadRequest as exc:
            if "not modified" not in str(exc):
                log.info("card of session %s could not be edited (%s); sending a new one", live.id, exc)
                await self._new_card(live, now)
        except Forbidden:
            live.state.stop()

    async def _delete_card(self, live: Live) -> None:
        if live.card_id is not None:
            with contextlib.suppress(BadRequest, Forbidden):
                await self._bot.delete_message(live.chat_id, live.card_id)
            live.card_id, live.last_text = None, ""

    async def _close_card(self, live: Live, item: int) -> None:
        """The finished exercise's card loses its buttons and says how it went."""
        if live.card_id is None:
            return
        text = view.closed_card_text(live, item)
        with contextlib.suppress(BadRequest, Forbidden):
            await self._bot.edit_message_text(
                text, chat_id=live.chat_id, message_id=live.card_id, reply_markup=None
            )
        live.card_id, live.last_text = None, ""

    async def _transition(self, live: Live, now: datetime) -> None:
        message = await self._send(live, view.transition_text(live), None)
        if message is not None:
            live.transient_id = message.message_id
        await self._edit_card(live, now)

    async def _finish(self, live: Live, now: datetime, *, quiet: bool = False) -> None:
        state = live.state
        self.live.pop(live.id, None)
        assert self.app is not None and self.app.job_queue is not None
        for job in self.app.job_queue.get_jobs_by_name(f"{JOB_PREFIX}{live.id}"):
            job.schedule_removal()
        await self._close_card(live, min(state.item, len(live.routine.items) - 1))
        await self._drop_transient(live)
        async with self.services.db.transaction() as repos:
            row = await repos.sessions.get(live.user_id, live.id)
            user = await repos.users.get(live.user_id)
            if row is None or user is None:  # the user deleted their data meanwhile
                return
            row.status = "completed" if state.status == "finished" else "stopped"
            row.ended_at, row.counted = now, state.counts
            row.exercises_done = state.done_items
            row.state = {**row.state, "machine": state.to_dict()}
            day = today(user, self.services)
            if state.counts and user.break_until is not None:
                end_break(user, day)  # coming back early ends a planned break
            days = await repos.sessions.counted_days(live.user_id)
            streak = streak_summary(days, day, frozen_ranges(user))
        if quiet:
            return
        elapsed = (now - live.started_at).total_seconds() / self._scale
        text = (
            view.finished_text(live, elapsed, streak)
            if state.status == "finished"
            else view.stopped_text(live)
        )
        with contextlib.suppress(Forbidden):
            await self._bot.send_message(live.chat_id, text, reply_markup=view.pain_keyboard(live.id))

    async def _persist(self, live: Live) -> None:
        async with self.services.db.transaction() as repos:
            row = await repos.sessions.get(live.user_id, live.id)
            if row is None:
                live.state.stop()
                self.live.pop(live.id, None)
                return
            row.status = live.state.status if live.state.live else row.status
            row.message_id = live.card_id
            row.exercises_done = live.state.done_items
            row.state = {**row.state, "machine": live.state.to_dict()}

    async def forget_user(self, user_id: int) -> None:
        """Drop a live session of a user whose data is being deleted."""
        live = await self.live_for(user_id)
        if live is not None:
            async with live.lock:
                live.state.stop()
                self.live.pop(live.id, None)
