"""Updates run concurrently across chats, in order within one chat.

Two fast taps on one button must not both act, and a slow handler in one chat must not hold up the
others: PTB's ``BaseUpdateProcessor`` is the hook for exactly this.

A chat that floods the bot (a stuck client, a script, someone holding a key down) gets a short queue:
beyond ``MAX_WAITING_PER_CHAT`` updates waiting their turn, that chat's new updates are dropped, with
one log line per burst.  Everyone else keeps being served meanwhile.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

MAX_WAITING_PER_CHAT = 20
"""Updates of one chat that may wait behind the one being handled; later ones are dropped."""
_UNBOUNDED = 2**31 - 1
"""PTB's own semaphore: never the limit (see ``PerChatUpdateProcessor``)."""


def chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


@dataclass
class _Chat:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: int = 0
    """Updates accepted and not finished: the one running, and those waiting behind it."""
    dropped: int = 0
    """Updates dropped in the current burst (reset once the chat's queue has drained)."""


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """At most ``max_concurrent_updates`` handlers run at once, and one at a time per chat.

    PTB acquires its own semaphore before ``do_process_update``, and every update in the queue gets a
    task that waits there.  An update waiting for its chat must not take one of those places, or one
    chat's backlog fills them and other chats wait behind it.  So PTB's semaphore is made unbounded;
    the real bound (``max_concurrent_updates``) is taken only once the chat's turn has come, and each
    chat's queue is bounded instead, so the waiting tasks stay few.
    """

    def __init__(self, max_concurrent_updates: int, max_waiting_per_chat: int = MAX_WAITING_PER_CHAT) -> None:
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be a positive integer")
        super().__init__(_UNBOUNDED)
        self.limit = max_concurrent_updates
        self.max_waiting_per_chat = max_waiting_per_chat
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._chats: dict[int, _Chat] = {}
        self.dropped = 0
        """Updates dropped since start (all chats)."""
        self.metrics: Metrics | None = None
        """Set by ``build_application``: updates handled by type, and how long their handlers took."""

    @property
    def waiting_chats(self) -> int:
        """Chats with at least one update accepted and not finished."""
        return len(self._chats)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            async with self._running:
                await self._handle(update, coroutine)
            return
        chat = self._chats.get(key)
        if chat is None:
            chat = self._chats[key] = _Chat()
        if chat.pending > self.max_waiting_per_chat:
            self._drop(key, chat, update, coroutine)
            return
        chat.pending += 1
        try:
            async with chat.lock, self._running:
                await self._handle(update, coroutine)
        finally:
            chat.pending -= 1
            if not chat.pending:  # forget idle chats so memory does not grow with users
                del self._chats[key]

    async def _handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.metrics is None:
            await coroutine
            return
        with self.metrics.handling(update):
            await coroutine

    def _drop(self, key: int, chat: _Chat, update: object, coroutine: Awaitable[Any]) -> None:
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never run: no "coroutine was never awaited" warning
        chat.dropped += 1
        self.dropped += 1
        if self.metrics is not None:
            self.metrics.updates_dropped.inc()
        if chat.dropped == 1:
            log.warning(
                "chat %d is flooding the bot: %d updates are waiting already, so its newer updates are "
                "dropped until they are done (first dropped: update %s)",
                key,
                self.max_waiting_per_chat,
                getattr(update, "update_id", "?"),
            )

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
