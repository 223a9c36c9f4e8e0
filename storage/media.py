"""The Telegram file_id of each uploaded picture, keyed by the picture's hash (not by user: shared)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MediaFile


class MediaRepository:
    """Reads and writes ``media_files`` inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def file_id(self, key: str) -> str | None:
        result = await self.session.execute(select(MediaFile.file_id).where(MediaFile.key == key))
        return result.scalar_one_or_none()

    async def remember(self, key: str, file_id: str, now: datetime) -> None:
        """Store (or replace) the file_id for ``key``; two uploads racing each other both succeed."""
        values = {"key": key, "file_id": file_id, "created_at": now}
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            pg = postgresql_insert(MediaFile).values(**values)
            statement = pg.on_conflict_do_update(
                index_elements=[MediaFile.key], set_={"file_id": pg.excluded.file_id, "created_at": now}
            )
            await self.session.execute(statement)
        elif dialect == "sqlite":
            lite = sqlite_insert(MediaFile).values(**values)
            statement_lite = lite.on_conflict_do_update(
                index_elements=[MediaFile.key], set_={"file_id": lite.excluded.file_id, "created_at": now}
            )
            await self.session.execute(statement_lite)
        else:
            await self.session.merge(MediaFile(**values))

    async def forget(self, key: str) -> None:
        """Drop a file_id Telegram no longer accepts (another bot token, a deleted file)."""
        await self.session.execute(delete(MediaFile).where(MediaFile.key == key))
