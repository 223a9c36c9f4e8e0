"""Replies never queue behind the broadcast limit (issue 12): bot.ratelimit.SplitRateLimiter.

Unit tests run the limiter on virtual time (an injected clock and sleep that jump to the next wake-up
once every task waits), so seconds of pacing take milliseconds; the end-to-end tests go through the
real Application, ReminderService and the fake Bot API.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.clock import FakeClock
from bot.ratelimit import SplitRateLimiter, chat_key, is_message
from tests.conftest import BotFactory
from tests.test_reminder_delivery import START, seed_users, service


class VirtualTime:
    """A clock and a sleep for the limiter: time only moves when every task is asleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), future))
        await future

    async def _settle(self) -> None:
        for _ in range(50):
            await asyncio.sleep(0)

    async def run(self, *coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while True:
            await self._settle()
            if all(task.done() for task in tasks):
                return [task.result() for task in tasks]
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            assert self._sleepers, "every task waits for something other than time: a deadlock"
            wake, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            future.set_result(None)


class Telegram:
    """The callback the limiter calls: records (time, method, chat, bulk) and answers 429 on demand."""

    def __init__(self, vt: VirtualTime, limiter: SplitRateLimiter) -> None:
        self.vt, self.limiter = vt, limiter
        self.sent: list[tuple[float, str, Any, bool]] = []
        self.floods: dict[tuple[str, Any], list[int]] = {}

    def flood(self, method: str, chat: Any, *retry_after: int) -> None:
        """The next calls of ``method`` to ``chat`` answer 429 with these retry_after values."""
        self.floods[(method, chat)] = list(retry_after)

    async def call(
        self, method: str, chat: Any = None, *, bulk: bool = False, at: float = 0.0, **data: Any
    ) -> float:
        """Make one call at virtual time ``at``; returns how long the limiter held it."""
        if at > self.vt.now:
            await self.vt.sleep(at - self.vt.now)
        asked = self.vt.now
        if chat is not None:
            data["chat_id"] = chat

        async def callback() -> bool:
            pending = self.floods.get((method, chat))
            if pending:
                raise RetryAfter(timedelta(seconds=pending.pop(0)))
            self.sent.append((self.vt.now, method, chat, bulk))
            return True

        await self.limiter.process_request(callback, (), {}, method, data, {"bulk": True} if bulk else None)
        return self.vt.now - asked

    def times(self, *, bulk: bool | None = None, chat: Any = ...) -> list[float]:
        return [
            at
            for at, _, to, was_bulk in self.sent
            if (bulk is None or was_bulk == bulk) and (chat is ... or to == chat)
        ]


def setup(**options: Any) -> tuple[VirtualTime, SplitRateLimiter, Telegram]:
    vt = VirtualTime()
    limiter = SplitRateLimiter(30, clock=vt.clock, sleep=vt.sleep, **options)
    return vt, limiter, Telegram(vt, limiter)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def bulk_burst(telegram: Telegram, count: int, first_chat: int = 100_000) -> list[Coroutine[Any, Any, float]]:
    return [telegram.call("sendMessage", first_chat + n, bulk=True) for n in range(count)]


# --- classification -------------------------------------------------------------------------------------


def test_what_counts_as_a_message_and_which_chat() -> None:
    for method in ("sendMessage", "sendPhoto", "sendAnimation", "editMessageText", "copyMessage"):
        assert is_message(method), method
    for method in ("sendChatAction", "answerCallbackQuery", "deleteMessage", "getMe", "setMyCommands"):
        assert not is_message(method), method
    assert chat_key("42") == 42 and chat_key(-5) == -5 and chat_key("@channel") == "@channel"
    assert chat_key(None) is None and chat_key(True) is None


# --- the two classes ---------------------------------------------------------------------------------------


async def test_interactive_replies_are_not_delayed_by_a_saturated_bulk_budget() -> None:
    vt, _limiter, telegram = setup()
    replies = [telegram.call("sendMessage", 1 + n, at=2.0 + n * 0.02) for n in range(100)]  # 50/s
    results = await vt.run(*bulk_burst(telegram, 200), *replies)
    assert results[200:] == [0.0] * 100  # not a millisecond of waiting, with 200 broadcasts queued
    bulk = telegram.times(bulk=True)
    assert max_in_window(bulk) <= 30 and len(bulk) == 200
    rate = (len(bulk) - 1) / (max(bulk) - min(bulk))
    assert 0.95 * 30 <= rate <= 30  # bulk keeps its whole budget: replies are not broadcasts


async def test_bulk_gets_send_rate_minus_what_interactive_used_in_the_last_second() -> None:
    vt, _limiter, telegram = setup(interactive_weight=1.0)
    replies = [telegram.call("sendMessage", 1 + n, at=n * 0.1) for n in range(100)]  # 10/s for 10 s
    results = await vt.run(*bulk_burst(telegram, 400), *replies)
    assert results[400:] == [0.0] * 100
    together = telegram.times()
    for at in telegram.times(bulk=True):  # a broadcast only goes while the two together fit SEND_RATE
        assert sum(at - 1.0 < other <= at for other in together) <= 30
    bulk_meanwhile = [at for at in telegram.times(bulk=True) if 1.0 <= at < 10.0]
    assert 0.9 * 20 * 9 <= len(bulk_meanwhile) <= 20 * 9  # 30 - 10 = 20/s left for bulk
    after = [at for at in telegram.times(bulk=True) if 11.0 <= at < 15.0]
    assert len(after) >= 0.9 * 30 * 4  # and the whole budget once the replies stop


async def test_private_chats_burst_three_then_one_per_second_in_order() -> None:
    vt, _limiter, telegram = setup()
    order: list[int] = []

    async def numbered(n: int) -> None:
        await telegram.call("sendMessage", 7, at=n * 0.01)
        order.append(n)

    await vt.run(*(numbered(n) for n in range(6)), telegram.call("sendMessage", 8, at=0.5))
    assert order == list(range(6))
    times = telegram.times(chat=7)
    assert times[:3] == [0.0, 0.01, 0.02]  # a card and a transition do not wait a second each
    assert times[3:] == pytest.approx([1.0, 2.0, 3.0], abs=0.05)  # then 1/s
    assert telegram.times(chat=8) == [0.5]  # another chat is not affected


async def test_groups_get_twenty_a_minute_and_callback_answers_are_not_paced() -> None:
    vt, _limiter, telegram = setup()
    group = [telegram.call("sendMessage", -100123, at=0.0) for _ in range(40)]
    answers = [telegram.call("answerCallbackQuery", None, callback_query_id=str(n)) for n in range(50)]
    actions = [telegram.call("sendChatAction", 9, action="typing") for _ in range(10)]
    results = await vt.run(*group, *answers, *actions)
    assert results[40:] == [0.0] * 60
    times = telegram.times(chat=-100123)
    assert max_in_window(times, 60.0) <= 20 and len(times) == 40
    assert times[19] == pytest.approx(60.0) and max(times) < 150.0


async def test_idle_chat_buckets_are_dropped() -> None:
    vt, limiter, telegram = setup()
    await vt.run(*(telegram.call("sendMessage", n) for n in range(1, 2001)))
    assert limiter.tracked_chats == 2000
    await vt.run(telegram.call("sendMessage", 5000, at=vt.now + 10.0))
    assert limiter.tracked_chats == 1


# --- 429 -------------------------------------------------------------------------------------------------------


async def test_retry_after_for_one_chat_holds_that_chat_only() -> None:
    vt, limiter, telegram = setup()
    telegram.flood("sendMessage", 1, 5)
    held, other, later = await vt.run(
        telegram.call("sendMessage", 1),
        telegram.call("sendMessage", 2, at=0.5),
        telegram.call("sendMessage", 1, at=1.0),
    )
    assert held == pytest.approx(5.1) and other == 0.0
    assert later == pytest.approx(4.1)  # the chat's next message waits out the hold too
    assert limiter.flood_waits == 1


async def test_a_429_without_a_chat_pauses_everything() -> None:
    vt, _limiter, telegram = setup()
    telegram.flood("answerCallbackQuery", None, 3)
    results = await vt.run(
        telegram.call("answerCallbackQuery", None, callback_query_id="1"),
        telegram.call("sendMessage", 2, at=0.5),
        telegram.call("sendMessage", 3, bulk=True, at=1.0),
    )
    assert results == pytest.approx([3.1, 2.6, 2.1])
    assert min(telegram.times()) == pytest.approx(3.1)


async def test_a_429_storm_slows_bulk_first_then_everything() -> None:
    vt, _limiter, telegram = setup()
    telegram.flood("sendMessage", 1, 4)
    telegram.flood("sendMessage", 2, 4)
    telegram.flood("sendMessage", 3, 4)
    calls = [
        telegram.call("sendMessage", 1, at=1.0),  # one chat: only it waits, bulk slows down
        telegram.call("sendMessage", 2, at=1.2),  # a second chat: bulk stops
        telegram.call("sendMessage", 10, at=1.3),  # ... but replies go on
        telegram.call("sendMessage", 3, at=1.5),  # a third: everything waits
        telegram.call("sendMessage", 11, at=1.6),
    ]
    results = await vt.run(*bulk_burst(telegram, 150), *calls)
    replies = results[150:]
    assert replies[2] == 0.0
    assert replies[4] == pytest.approx(1.5 + 4.1 - 1.6)
    bulk = telegram.times(bulk=True)
    assert len([at for at in bulk if 1.0 <= at < 1.2]) <= 4  # half rate after the first 429
    assert not [at for at in bulk if 1.2 < at < 5.3]  # held from the second chat's 429 on
    assert len([at for at in bulk if 5.6 <= at < 6.6]) < 15  # and back gradually, not at once
    assert max_in_window(bulk) <= 30 and len(bulk) == 150


async def test_a_429_on_a_bulk_call_makes_interactive_traffic_count_against_the_budget() -> None:
    vt, limiter, telegram = setup(counting_memory=60.0)
    assert limiter.weight(0.0) == 0.0
    telegram.flood("sendMessage", 100_000, 1)
    await vt.run(*bulk_burst(telegram, 5))
    assert limiter.weight(vt.now) == 1.0 and limiter.weight(vt.now + 61) == 0.0


async def test_bulk_yields_to_interactive_calls_to_the_same_chat() -> None:
    vt, _limiter, telegram = setup()
    await vt.run(*(telegram.call("sendMessage", 7) for _ in range(3)))  # the chat's burst is used up
    await vt.run(
        telegram.call("sendMessage", 7, bulk=True, at=vt.now + 0.1),
        telegram.call("sendMessage", 7, at=vt.now + 0.2),
    )
    last_two = [bulk for _, _, chat, bulk in telegram.sent[-2:]]
    assert last_two == [False, True]  # the reply asked later and still went first


async def test_retries_are_bounded_and_configurable_per_call() -> None:
    vt, limiter, telegram = setup(max_retries=1)
    telegram.flood("sendMessage", 1, 1, 1)
    with pytest.raises(RetryAfter):
        await vt.run(telegram.call("sendMessage", 1))
    telegram.flood("sendMessage", 2, 1, 1)

    async def callback() -> bool:
        pending = telegram.floods[("sendMessage", 2)]
        if pending:
            raise RetryAfter(timedelta(seconds=pending.pop(0)))
        return True

    await vt.run(limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": 2}, {"max_retries": 2}))


async def test_paid_broadcasts_use_their_own_budget() -> None:
    vt, _limiter, telegram = setup()
    paid = [
        telegram.call("sendMessage", 100_000 + n, bulk=True, allow_paid_broadcast=True) for n in range(300)
    ]
    await vt.run(*paid)
    assert max(telegram.times()) < 0.4  # ~1,000/s, not 30/s


async def test_instances_that_share_the_bot_share_its_broadcast_budgets() -> None:
    """Two instances: each sends broadcasts at half of SEND_RATE (and of the paid rate), so the bot
    as a whole stays within it; alone again, an instance has the whole budget back."""
    vt, limiter, telegram = setup()
    limiter.share(2)
    await vt.run(*bulk_burst(telegram, 60))
    assert max_in_window(telegram.times(bulk=True)) <= 15
    assert 3.5 <= max(telegram.times()) <= 4.2  # 60 at 15/s
    paid = [
        telegram.call("sendMessage", 200_000 + n, bulk=True, allow_paid_broadcast=True) for n in range(300)
    ]
    began = vt.now
    await vt.run(*paid)
    assert 0.5 <= max(telegram.times()) - began <= 0.7  # ~500/s: half of 1,000/s
    limiter.share(1)
    began = vt.now
    await vt.run(*bulk_burst(telegram, 60, first_chat=300_000))
    assert 1.7 <= max(telegram.times()) - began <= 2.1  # 30/s again
    limiter.share(0)  # never more than the whole budget, whatever the count
    assert limiter.bulk_rate == 30


async def test_a_bulk_hold_delays_broadcasts_only() -> None:
    """A new instance waits for the others to give back part of the budget: its broadcasts wait,
    its replies do not."""
    vt, limiter, telegram = setup()
    limiter.hold_bulk(5.0)
    assert limiter.bulk_held_for() == 5.0
    reply, *_ = await vt.run(telegram.call("sendMessage", 7), *bulk_burst(telegram, 3))
    assert reply == 0.0 and min(telegram.times(bulk=True)) >= 5.0
    assert limiter.bulk_held_for() == 0.0


# --- end to end: the real Application, ReminderService and the fake Bot API ----------------------------------


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 (the fake signals no change for a rejection)
            await asyncio.sleep(0.005)


async def timed(coroutine: Awaitable[Any]) -> float:
    started = time.perf_counter()
    await coroutine
    return time.perf_counter() - started


async def test_replies_do_not_queue_behind_a_reminder_burst_and_429s_stay_per_chat(
    make_bot: BotFactory, clock: FakeClock
) -> None:
    clock.set(START)
    async with make_bot(clock=clock, send_rate=10, timer_scale=1.0) as bot:
        await seed_users(bot, 60, START)  # 6 s of broadcasting at SEND_RATE=10
        assert await service(bot).tick() == 60
        draining = service(bot).start_draining()
        assert draining is not None
        await bot.fake.changes.wait_until(lambda: len(bot.fake.calls_to("sendMessage")) >= 5, 10)
        crowd = [bot.user(2000 + n, f"P{n}") for n in range(30)]
        # 30 replies at once: with one shared budget of 10/s they took 3 s and more (the reminders too)
        assert await timed(asyncio.gather(*(person.send("/help") for person in crowd))) < 2.0
        assert all("/stretch" in person.last_text for person in crowd)
        bo, cy = bot.user(1002, "Bo"), bot.user(1003, "Cy")
        bot.fake.fail_next("sendMessage", "retry_after", retry_after=2, chat_id=1002)
        held = asyncio.ensure_future(timed(bo.send("/help")))
        await until(lambda: bool(bot.fake.rejections))
        assert await timed(cy.send("/help")) < 0.5  # Bo's flood control does not hold Cy
        assert 2.0 <= await held < 4.0 and "/stretch" in bo.last_text  # Bo's retry_after is honoured
        assert await draining == 60
        sends = bot.fake.calls_to("sendMessage")
        assert sum(1 for call in sends if call["chat_id"] >= 5000) == 60


async def test_a_global_429_pauses_replies_too(make_bot: BotFactory) -> None:
    async with make_bot(timer_scale=1.0) as bot:
        ana, bo = bot.user(1001, "Ana"), bot.user(1002, "Bo")
        bot.fake.fail_next("getMe", "retry_after", retry_after=1)
        paused = asyncio.ensure_future(bot.app.bot.get_me())
        await until(lambda: bool(bot.fake.rejections))
        assert await timed(bo.send("/help")) >= 0.5  # Telegram said "everyone wait"
        await paused
        assert await timed(ana.send("/help")) < 0.5
