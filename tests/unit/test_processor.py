"""PerChatUpdateProcessor: chats in parallel, one chat in order, a bounded queue per chat."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from typing import Any

import pytest
from telegram import Update

from bot.processor import MAX_WAITING_PER_CHAT, PerChatUpdateProcessor, chat_key

_next_id = 0


def update_in(chat_id: int) -> Update:
    global _next_id
    _next_id += 1
    message = {
        "message_id": _next_id,
        "date": 0,
        "chat": {"id": chat_id, "type": "private", "first_name": "A"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "A"},
        "text": "hi",
    }
    return Update.de_json({"update_id": _next_id, "message": message}, None)


class Work:
    """Handlers that record when they ran and block until released."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.finished: list[int] = []
        self.gates: dict[int, asyncio.Event] = {}
        self.running = 0
        self.most_running = 0

    async def handle(self, update: Update, *, hold: bool = False) -> None:
        self.started.append(update.update_id)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if hold:
                gate = self.gates.setdefault(update.update_id, asyncio.Event())
                await gate.wait()
            else:
                await asyncio.sleep(0)
        finally:
            self.running -= 1
            self.finished.append(update.update_id)

    def release(self, update: Update) -> None:
        self.gates.setdefault(update.update_id, asyncio.Event()).set()


def submit(
    processor: PerChatUpdateProcessor, work: Work, update: Update, **kwargs: Any
) -> asyncio.Task[None]:
    """What PTB's Application does with each fetched update: a task through ``process_update``."""
    return asyncio.ensure_future(processor.process_update(update, work.handle(update, **kwargs)))


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_one_chat_runs_in_order_and_one_at_a_time() -> None:
    processor, work = PerChatUpdateProcessor(8), Work()
    updates = [update_in(1) for _ in range(10)]
    await asyncio.gather(*(submit(processor, work, u) for u in updates))
    assert work.started == work.finished == [u.update_id for u in updates]
    assert work.most_running == 1
    assert processor.waiting_chats == 0  # idle chats are forgotten


async def test_chats_run_in_parallel_up_to_the_limit() -> None:
    processor, work = PerChatUpdateProcessor(3), Work()
    updates = [update_in(100 + i) for i in range(6)]
    tasks = [submit(processor, work, u, hold=True) for u in updates]
    await settle()
    assert work.started == [u.update_id for u in updates[:3]]
    for update in updates:
        work.release(update)
    await asyncio.gather(*tasks)
    assert work.most_running == 3 and sorted(work.finished) == sorted(u.update_id for u in updates)


async def test_a_backlog_in_one_chat_does_not_hold_up_another(caplog: pytest.LogCaptureFixture) -> None:
    """However many updates one chat sends, another chat's update starts at once."""
    caplog.set_level(logging.WARNING, logger="bot.processor")
    processor, work = PerChatUpdateProcessor(2), Work()
    flood = [update_in(7) for _ in range(2000)]
    tasks = [submit(processor, work, u, hold=True) for u in flood]
    await settle()
    other = update_in(8)
    other_task = submit(processor, work, other)
    await asyncio.wait_for(other_task, timeout=1)
    assert work.started == [flood[0].update_id, other.update_id]
    dropped = len(flood) - 1 - MAX_WAITING_PER_CHAT
    assert processor.dropped == dropped
    assert sum(t.done() for t in tasks) == dropped  # dropped ones return at once
    assert len(caplog.records) == 1 and "chat 7" in caplog.records[0].getMessage()
    for update in flood:
        work.release(update)
    await asyncio.gather(*tasks)
    assert work.finished[1:] == [u.update_id for u in flood[: MAX_WAITING_PER_CHAT + 1]]


async def test_dropped_updates_leave_no_unawaited_coroutines() -> None:
    processor, work = PerChatUpdateProcessor(1, max_waiting_per_chat=1), Work()
    updates = [update_in(9) for _ in range(5)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tasks = [submit(processor, work, u, hold=True) for u in updates]
        await settle()
        for update in updates:
            work.release(update)
        await asyncio.gather(*tasks)
        gc.collect()
    assert work.finished == [u.update_id for u in updates[:2]]


async def test_each_burst_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.processor")
    processor, work = PerChatUpdateProcessor(4, max_waiting_per_chat=2), Work()
    for burst in range(2):
        updates = [update_in(11) for _ in range(10)]
        tasks = [submit(processor, work, u, hold=True) for u in updates]
        await settle()
        for update in updates:
            work.release(update)
        await asyncio.gather(*tasks)
        assert len(caplog.records) == burst + 1
    assert processor.dropped == 14


async def test_a_chat_may_queue_again_once_it_drained() -> None:
    processor, work = PerChatUpdateProcessor(4, max_waiting_per_chat=1), Work()
    first, second, third = update_in(12), update_in(12), update_in(12)
    tasks = [submit(processor, work, u, hold=True) for u in (first, second, third)]
    await settle()
    work.release(first)
    await settle()
    later = update_in(12)  # ``second`` runs now, nothing waits: ``later`` is accepted
    tasks.append(submit(processor, work, later, hold=True))
    for update in (second, later):
        work.release(update)
    await asyncio.gather(*tasks)
    assert work.finished == [first.update_id, second.update_id, later.update_id]


async def test_updates_without_a_chat_share_the_global_limit() -> None:
    processor, work = PerChatUpdateProcessor(2), Work()
    bare = [Update(update_id=9000 + i) for i in range(4)]
    assert chat_key(bare[0]) is None
    tasks = [submit(processor, work, u, hold=True) for u in bare]
    await settle()
    assert len(work.started) == 2
    for update in bare:
        work.release(update)
    await asyncio.gather(*tasks)
    assert work.most_running == 2 and len(work.finished) == 4


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        PerChatUpdateProcessor(0)
