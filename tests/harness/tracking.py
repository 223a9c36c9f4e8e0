"""Knowing when the application has finished an update, without sleeping.

``TrackingProcessor`` is a PTB update processor that records the ids of the updates it finished,
handlers and error handlers included.  ``tracker.wait_done`` is the ``settle`` callback for
``ChatUser``::

    tracker = TrackingProcessor()                      # or TrackingProcessor(MyProcessor(8))
    app = Application.builder()...concurrent_updates(tracker).build()
    user = ChatUser(fake, 1001, settle=tracker.wait_done)
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram.ext import BaseUpdateProcessor

from tests.harness.fake_api import Changes


class TrackingProcessor(BaseUpdateProcessor):
    """Runs updates through ``inner`` (default: one after another, like PTB's default) and records them.

    PTB awaits blocking error handlers inside the update's processing, so when an id is recorded its
    error handlers have run too.
    """

    def __init__(self, inner: BaseUpdateProcessor | None = None, max_concurrent_updates: int = 1) -> None:
        self.inner = inner
        # the inner processor applies its own limits; PTB's semaphore must not be the tighter one
        super().__init__(inner.max_concurrent_updates if inner is not None else max_concurrent_updates)
        self.finished: set[int] = set()
        self._changes = Changes()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            if self.inner is not None:
                await self.inner.do_process_update(update, coroutine)
            else:
                await coroutine
        finally:
            self.finished.add(getattr(update, "update_id", -1))
            self._changes.notify()

    async def wait_done(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until the update ``update_id`` was fully handled."""
        try:
            await self._changes.wait_until(lambda: update_id in self.finished, timeout)
        except TimeoutError:
            raise AssertionError(f"update {update_id} was not handled within {timeout} s") from None

    async def initialize(self) -> None:
        if self.inner is not None:
            await self.inner.initialize()

    async def shutdown(self) -> None:
        if self.inner is not None:
            await self.inner.shutdown()


__all__ = ["TrackingProcessor"]
