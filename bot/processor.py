"""Updates run concurrently across chats, in order within one chat.

Two fast taps on one button must not both act, and a slow handler in one chat must not hold up the
others: PTB's ``BaseUpdateProcessor`` is the hook for exactly this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """At most ``max_concurrent_updates`` handlers run at once, and one at a time per chat.

    PTB's own semaphore is acquired before ``do_process_update``; an update that waits for its chat
    must not hold one of the running places, so that semaphore is made wide and the real bound is
    taken only once the chat's turn has come.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max(max_concurrent_updates * 64, 1024))
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._running:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # forget idle chats so memory does not grow with users
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
