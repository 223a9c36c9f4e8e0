"""The guided session's state machine: a routine flattened into timed phases.

Pure: no Telegram, no database, no clock. Every operation takes ``now`` (an aware datetime); the
runner persists ``to_dict()`` after each change so a restart loses nothing. Durations are nominal
seconds; ``scale`` (TIMER_SCALE) turns them into real seconds, so tests and demos run fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from content.planner import LEAD_IN_SECONDS, SWITCH_SECONDS, Routine

COUNTED_HOLD_SECONDS = 10
"""A hold this short (or shorter) is counted by the person, like a physiotherapist's "hold for a count
of five": its step message says when to let go, and the rest after it gets no message of its own. A
buzz every few seconds would be noise, and each one is a Telegram call."""

PhaseKind = Literal["lead_in", "hold", "rest", "switch", "manual"]
Status = Literal["running", "paused", "finished", "stopped"]


@dataclass(frozen=True, slots=True)
class Phase:
    """One stretch of the timeline: get into position, hold, rest, switch sides, or untimed reps."""

    kind: PhaseKind
    item: int
    """Index of the exercise in the routine."""
    side: int = 0
    """0 for the first (or only) side, 1 for the second."""
    rep: int = 1
    seconds: int = 0
    """Nominal length; 0 for a manual phase, which waits for the Done button."""

    @property
    def timed(self) -> bool:
        return self.kind != "manual"

    def to_list(self) -> list[Any]:
        return [self.kind, self.item, self.side, self.rep, self.seconds]

    @classmethod
    def from_list(cls, data: list[Any]) -> Phase:
        kind, item, side, rep, seconds = data
        return cls(kind, int(item), int(side), int(rep), int(seconds))


def build_phases(routine: Routine) -> list[Phase]:
    """The whole timeline of a routine, in order."""
    phases: list[Phase] = []
    for index, item in enumerate(routine.items):
        phases.append(Phase("lead_in", index, seconds=LEAD_IN_SECONDS))
        for side in range(item.side_count):
            if side:
                phases.append(Phase("switch", index, side=side, seconds=SWITCH_SECONDS))
            if item.hold_seconds is None:
                phases.append(Phase("manual", index, side=side, rep=item.reps))
                continue
            for rep in range(1, item.reps + 1):
                if rep > 1 and item.rest_seconds:
                    phases.append(Phase("rest", index, side=side, rep=rep, seconds=item.rest_seconds))
                phases.append(Phase("hold", index, side=side, rep=rep, seconds=item.hold_seconds))
    return phases


@dataclass
class SessionState:
    """Where a guided session is. Mutated only through its methods."""

    phases: list[Phase]
    item_count: int
    scale: float = 1.0
    index: int = 0
    status: Status = "running"
    ends_at: datetime | None = None
    """Real instant the current timed phase ends; None while paused or on a manual phase."""
    paused_remaining: float | None = None
    """Real seconds left in the current phase while paused."""
    skipped: set[int] = field(default_factory=set)
    hurt: set[int] = field(default_factory=set)
    hurt_pending: int | None = None
    """The exercise the user said hurts: the session waits, paused, until they choose to skip it and go
    on, or to stop for today. Nothing moves meanwhile."""

    @classmethod
    def start(cls, routine: Routine, now: datetime, scale: float = 1.0) -> SessionState:
        phases = build_phases(routine)
        if not phases:
            raise ValueError("a session needs at least one exercise")
        state = cls(phases=phases, item_count=len(routine.items), scale=scale)
        state._enter(0, now)
        return state

    # --- reading -------------------------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        return self.phases[min(self.index, len(self.phases) - 1)]

    @property
    def live(self) -> bool:
        return self.status in ("running", "paused")

    @property
    def item(self) -> int:
        return self.phase.item

    @property
    def last_phase_of_item(self) -> bool:
        """The current phase is its exercise's last one (the next phase belongs to another, or none)."""
        following = self.index + 1
        return following >= len(self.phases) or self.phases[following].item != self.item

    @property
    def announced(self) -> bool:
        """The current phase deserves its own step message (a buzz): all do, but the rest after a
        counted hold, whose message has already said when to let go."""
        phase = self.phase
        if phase.kind != "rest" or not self.index:
            return True
        before = self.phases[self.index - 1]
        return not (before.kind == "hold" and before.seconds <= COUNTED_HOLD_SECONDS)

    def remaining(self, now: datetime) -> int:
        """Nominal seconds left in the current phase, rounded up (what the countdown shows)."""
        if not self.phase.timed:
            return 0
        if self.paused_remaining is not None:
            real = self.paused_remaining
        elif self.ends_at is not None:
            real = max(0.0, (self.ends_at - now).total_seconds())
        else:
            return 0
        return math.ceil(round(real / self.scale, 6))

    @property
    def done_items(self) -> int:
        """Exercises finished without being skipped or stopped for pain (meaningful once finished)."""
        reached = self.item_count if self.status == "finished" else self.item
        return len([i for i in range(reached) if i not in self.skipped and i not in self.hurt])

    @property
    def counts(self) -> bool:
        """Whether the session counts for the streak.

        It does when it reached its end with at least half its exercises done, and also when the
        user stopped or skipped because something hurt after doing at least one exercise: listening
        to pain is not a failure.
        """
        if self.status == "finished" and self.done_items * 2 >= self.item_count:
            return True
        return bool(self.hurt) and self.status in ("finished", "stopped") and self.done_items >= 1

    @property
    def waiting_after_hurt(self) -> bool:
        return self.hurt_pending is not None and self.live

    # --- moving --------------------------------------------------------------------------------

    def _enter(self, index: int, start: datetime) -> None:
        if index >= len(self.phases):
            self.index, self.status, self.ends_at, self.paused_remaining = (
                len(self.phases),
                "finished",
                None,
                None,
            )
            return
        self.index = index
        phase = self.phases[index]
        self.paused_remaining = None
        self.ends_at = start + timedelta(seconds=phase.seconds * self.scale) if phase.timed else None

    def advance(self, now: datetime) -> bool:
        """Move past every timed phase that has ended by ``now``; True when anything changed."""
        changed = False
        while self.status == "running" and self.ends_at is not None and now >= self.ends_at:
            self._enter(self.index + 1, self.ends_at)
            changed = True
        return changed

    def next_deadline(self) -> datetime | None:
        """When the current phase ends, if it is running and timed."""
        return self.ends_at if self.status == "running" else None

    def pause(self, now: datetime) -> bool:
        if self.status != "running":
            return False
        self._hold(now)
        return True

    def _hold(self, now: datetime) -> None:
        if self.ends_at is not None:
            self.paused_remaining = max(0.0, (self.ends_at - now).total_seconds())
        self.ends_at, self.status = None, "paused"

    def report_hurt(self, now: datetime) -> bool:
        """The current exercise hurts: pause at once and wait for the user's choice.

        Works on every kind of step (lead-in, hold, rest, switch, untimed reps), also while paused.
        """
        if not self.live or self.hurt_pending is not None:
            return False
        if self.status == "running":
            self._hold(now)
        self.hurt.add(self.item)
        self.hurt_pending = self.item
        return True

    def go_on_after_hurt(self, now: datetime) -> bool:
        """After a hurt: leave that exercise out and go on with the next one (or finish)."""
        if not self.waiting_after_hurt:
            return False
        self.hurt_pending = None
        return self.skip(now, hurt=True)

    def resume(self, now: datetime) -> bool:
        if self.status != "paused" or self.hurt_pending is not None:
            return False
        if self.phase.timed:
            left = self.paused_remaining
            if left is None or left <= 0:
                left = self.phase.seconds * self.scale
            self.ends_at = now + timedelta(seconds=left)
        self.paused_remaining, self.status = None, "running"
        return True

    def restart_phase(self, now: datetime) -> bool:
        """Nobody ran the session for a while: its current timed phase starts again at ``now``."""
        if self.status != "running" or not self.phase.timed:
            return False
        self.ends_at = now + timedelta(seconds=self.phase.seconds * self.scale)
        return True

    def skip(self, now: datetime, *, hurt: bool = False) -> bool:
        """Leave the current exercise and go on with the next one (hurt: it caused pain)."""
        if not self.live or (self.hurt_pending is not None and not hurt):
            return False
        item = self.item
        self.hurt_pending = None
        (self.hurt if hurt else self.skipped).add(item)
        following = next((i for i, p in enumerate(self.phases) if p.item > item), len(self.phases))
        self.status = "running"
        self._enter(following, now)
        return True

    def done(self, now: datetime) -> bool:
        """The Done button of an untimed phase."""
        if not self.live or self.phase.timed or self.hurt_pending is not None:
            return False
        self.status = "running"
        self._enter(self.index + 1, now)
        return True

    def stop(self) -> bool:
        if not self.live:
            return False
        self.status, self.ends_at, self.paused_remaining = "stopped", None, None
        self.hurt_pending = None
        return True

    # --- persistence ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": 1,
            "phases": [p.to_list() for p in self.phases],
            "items": self.item_count,
            "scale": self.scale,
            "index": self.index,
            "status": self.status,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "paused_remaining": self.paused_remaining,
            "skipped": sorted(self.skipped),
            "hurt": sorted(self.hurt),
            "hurt_pending": self.hurt_pending,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        if data.get("v") != 1:
            raise ValueError(f"unknown session state version {data.get('v')!r}")
        ends_at = data.get("ends_at")
        return cls(
            phases=[Phase.from_list(p) for p in data["phases"]],
            item_count=int(data["items"]),
            scale=float(data["scale"]),
            index=int(data["index"]),
            status=data["status"],
            ends_at=datetime.fromisoformat(ends_at) if ends_at else None,
            paused_remaining=data.get("paused_remaining"),
            skipped=set(data.get("skipped", [])),
            hurt=set(data.get("hurt", [])),
            hurt_pending=None if data.get("hurt_pending") is None else int(data["hurt_pending"]),
        )
