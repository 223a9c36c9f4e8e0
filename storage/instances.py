"""The running instances of the bot, each a row that it writes every few seconds (``bot.instances``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Instance


class InstanceRepository:
    """Reads and writes ``instances`` inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def beat(self, instance_id: str, now: datetime, stale: timedelta) -> int:
        """Record that ``instance_id`` is running at ``now``, remove the instances not seen for
        ``stale`` (they died without saying so), and return how many run, this one included."""
        seen = await self.session.execute(
            update(Instance).where(Instance.id == instance_id).values(seen_at=now)
        )
        if not getattr(seen, "rowcount", 0):  # its first beat (ids are this process's own: no race)
            await self.session.execute(insert(Instance).values(id=instance_id, seen_at=now))
        await self.session.execute(delete(Instance).where(Instance.seen_at < now - stale))
        return len(await self.alive(now, stale))

    async def alive(self, now: datetime, stale: timedelta) -> list[str]:
        """The ids of the instances seen within ``stale`` before ``now``."""
        result = await self.session.execute(
            select(Instance.id).where(Instance.seen_at >= now - stale).order_by(Instance.id)
        )
        return list(result.scalars())

    async def leave(self, instance_id: str) -> None:
        """The instance stops: the others take its share at their next beat."""
        await self.session.execute(delete(Instance).where(Instance.id == instance_id))
