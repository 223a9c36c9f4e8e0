"""Users whose daily reminder is due: the rows the reminder tests and benchmarks start from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert

from storage.db import Database
from storage.models import User

BATCH = 10_000
"""Rows per INSERT statement."""


async def seed_due_reminders(
    db: Database,
    count: int,
    *,
    due: datetime,
    first_id: int,
    zones: Sequence[str] = ("UTC",),
    spread_seconds: int = 0,
) -> None:
    """``count`` users (ids from ``first_id``, private chats of the same ids) with a reminder at ``due``'s
    wall-clock time, due at ``due`` (or up to ``spread_seconds`` before it), zones taken in turn."""
    rows = [
        {
            "id": first_id + n,
            "chat_id": first_id + n,
            "first_name": f"user{n}",
            "timezone": zones[n % len(zones)],
            "created_at": due - timedelta(days=30),
            "last_seen_at": due - timedelta(days=1),
            "settings": {},
            "reminder_time": f"{due:%H:%M}",
            "next_reminder_at": due - timedelta(seconds=n % spread_seconds if spread_seconds else 0),
        }
        for n in range(count)
    ]
    async with db.transaction() as repos:
        for start in range(0, count, BATCH):
            await repos.session.execute(insert(User), rows[start : start + BATCH])
