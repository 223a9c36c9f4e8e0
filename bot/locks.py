"""One user's guided session is worked on by one task at a time: in this process, and across instances.

Every operation on a session (a timer, a tap, a start, a takeover) runs inside ``locks.hold(user_id)``.
Within a process an ``asyncio.Lock`` per user serialises tasks. On PostgreSQL a session-level advisory
lock on the same key also serialises instances: it lives on its own connection for as long as the
operation runs, and PostgreSQL releases it by itself when an instance dies, so another instance can
take over at once. SQLite is for a single instance and needs nothing more.

The lock is re-entrant within a task (a tap's handler holds it and calls the runner, which asks again).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

log = logging.getLogger(__name__)
POLL_SECONDS = 0.05


class LockTimeout(TimeoutError):
    """The user's lock stayed taken for longer than the caller would wait."""


class UserLocks:
    """Per-user mutual exclusion, across instances on PostgreSQL."""

    def __init__(self, engine: AsyncEngine, pool_size: int = 16) -> None:
        self.distributed = engine.dialect.name == "postgresql"
        # Each advisory lock lives on a connection of its own pool: a holder that waits for a
        # connection to do its work can then never starve the holders of the connections it waits for.
        self.engine = (
            create_async_engine(engine.url, pool_size=pool_size, max_overflow=pool_size)
            if self.distributed
            else engine
        )
        self._local: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._owners: dict[int, asyncio.Task[object]] = {}
        """Which task holds each key: re-entrancy is per task (a context variable would leak into the
        tasks that timers started from inside a held lock)."""

    async def dispose(self) -> None:
        if self.distributed:
            await self.engine.dispose()

    def held(self, key: int) -> bool:
        owner = self._owners.get(key)
        return owner is not None and owner is asyncio.current_task()

    @asynccontextmanager
    async def hold(self, key: int, *, wait: float | None = 10.0) -> AsyncIterator[bool]:
        """Hold the lock on ``key``; yields False (and holds nothing) when it is busy and ``wait`` is 0.

        ``wait``: seconds to wait for it (None: forever); past that, LockTimeout.
        """
        if self.held(key):  # re-entrant within one task
            yield True
            return
        local = self._local.get(key)
        if local is None:
            local = asyncio.Lock()
            self._local[key] = local
        if not await _acquire(local, wait):
            if wait == 0:
                yield False
                return
            raise LockTimeout(f"the lock of {key} stayed busy for {wait} s")
        try:
            if not self.distributed:
                with self._owned(key):
                    yield True
                return
            async with self._advisory(key, wait) as acquired:
                if not acquired:
                    yield False
                    return
                with self._owned(key):
                    yield True
        finally:
            local.release()

    @contextmanager
    def _owned(self, key: int) -> Iterator[None]:
        task = asyncio.current_task()
        assert task is not None, "locks are held by tasks"
        self._owners[key] = task
        try:
            yield
        finally:
            self._owners.pop(key, None)

    @asynccontextmanager
    async def _advisory(self, key: int, wait: float | None) -> AsyncIterator[bool]:
        deadline = None if wait is None else time.monotonic() + wait
        async with self.engine.connect() as connection:
            while True:
                got = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
                await connection.commit()  # idle, not idle in transaction, while the lock is held
                if got:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    if wait == 0:
                        yield False
                        return
                    raise LockTimeout(f"the advisory lock of {key} stayed busy for {wait} s")
                await asyncio.sleep(POLL_SECONDS)
            try:
                yield True
            finally:
                try:
                    await connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    await connection.commit()
                except Exception:  # the connection is gone: PostgreSQL released the lock with it
                    log.warning("could not release the advisory lock of %s", key, exc_info=True)
                    await connection.invalidate()


async def _acquire(lock: asyncio.Lock, wait: float | None) -> bool:
    if wait == 0:
        if lock.locked():
            return False
        await lock.acquire()
        return True
    try:
        async with asyncio.timeout(wait):
            await lock.acquire()
    except TimeoutError:
        return False
    return True


__all__ = ["LockTimeout", "UserLocks"]
