"""Instances of one bot share its broadcast budget (SEND_RATE).

Telegram's ~30 broadcasts a second are the bot's, however many processes run it. On PostgreSQL (where
several instances may run) each instance writes its row in ``instances`` every ``BEAT_SECONDS`` and
counts the instances seen within ``STALE_SECONDS``; each takes an equal part of SEND_RATE (and of the
paid-broadcast rate: ``SplitRateLimiter.share``). Every instance sends claimed reminders, whichever
instance claimed them, so equal parts use the whole budget.

- An instance that stops removes its row; the others take its part at their next beat.
- One that dies is removed by the others after ``STALE_SECONDS``: until then its part goes unused
  (slower, never over the limit).
- One that starts, and finds others, sends no broadcast until they have all had their next beat
  and given back part of theirs (``BEAT_SECONDS`` and a second): together they never go over.

On SQLite (one instance) nothing is written: the instance has the whole budget.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.ratelimit import SplitRateLimiter

if TYPE_CHECKING:
    from bot.clock import Clock
    from storage.db import Database

log = logging.getLogger(__name__)

BEAT_SECONDS = 5.0
STALE_SECONDS = 15.0
BEAT_JOB = "instance-beat"


class Instances:
    """This instance in the ``instances`` table, and its part of the broadcast budget."""

    def __init__(self, db: Database, clock: Clock, limiter: SplitRateLimiter) -> None:
        self.db, self.clock, self.limiter = db, clock, limiter
        self.id = uuid.uuid4().hex
        self.count = 1
        self.beaten = False
        """Whether this instance has counted the others once (it starts with a beat)."""

    @property
    def shared(self) -> bool:
        """Whether several instances may run on this database (PostgreSQL)."""
        return self.db.dialect != "sqlite"

    async def beat(self) -> int:
        """Say this instance runs, count the instances, and take this one's part of the budget.

        When the database does not answer, the last count stands (and so does the part)."""
        try:
            async with self.db.transaction() as repos:
                count = await repos.instances.beat(
                    self.id, self.clock.now(), timedelta(seconds=STALE_SECONDS)
                )
        except Exception:
            log.warning("could not count the running instances; keeping 1/%d of SEND_RATE", self.count)
            return self.count
        if count != self.count:
            log.info("%d instance(s) running: this one sends 1/%d of the broadcast budget", count, count)
        if not self.beaten and count > 1:  # the others give back part of theirs at their next beat
            self.limiter.hold_bulk(BEAT_SECONDS + 1)
        self.beaten = True
        self.count = count
        self.limiter.share(count)
        return count

    async def leave(self) -> None:
        try:
            async with self.db.transaction() as repos:
                await repos.instances.leave(self.id)
        except Exception:  # the others forget it after STALE_SECONDS anyway
            log.warning("could not remove this instance from the instances table", exc_info=True)
