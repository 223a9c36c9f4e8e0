"""One rate limiter for every Bot API call, with two classes of traffic (issue 12).

Telegram's ~30 messages/s is its limit for *broadcasts* (``allow_paid_broadcast`` lifts "broadcasting
limits"); answers to people are limited per chat: about 1 message/s in a private chat, 20/min in a
group. So the bot sends two kinds of traffic:

- **interactive** (everything not marked bulk: answers, callback answers, session cards, countdown
  edits) is paced only per chat — a token bucket per chat (private: 3 at once, then 1/s; groups: 3 at
  once, then 17/min, so never more than 20 in a minute) — and by Telegram's own 429s. It never waits
  for the broadcast budget;
- **bulk** (calls made with ``rate_limit_args={"bulk": True}``: reminders, any broadcast) shares a
  sliding one-second budget of ``SEND_RATE`` (1,000/s for paid broadcasts) with the interactive
  traffic that counts against it, is spaced evenly inside it, always lets interactive calls to the
  same chat go first, and is the first to slow down when Telegram pushes back.

How much of the interactive traffic draws on the bulk budget is ``interactive_weight``: 0 by default,
following Telegram's documentation (replies do not count as broadcasts), and 1 — bulk gets
``SEND_RATE`` minus what interactive calls used in the last second — for ``counting_memory`` seconds
after Telegram showed otherwise (a 429 on a bulk call, which stayed inside its budget, or a storm).

429 handling (``retry_after`` plus a small margin is always honoured), bulk traffic yielding first:

- a 429 for one chat holds that chat only (the others go on) and halves the bulk rate;
- 429s for two different chats within ``storm_window`` seconds also hold every bulk call;
- a 429 on a method without ``chat_id``, or 429s for ``storm_chats`` (3) different chats, hold
  *every* call. The bulk rate comes back gradually (``RECOVERY_PER_SECOND``) once the holds are over.

Time comes from ``clock`` and waiting goes through ``sleep`` (both injectable, for tests). Per-chat
buckets of chats that went quiet (bucket full again, nobody waiting, not held) are dropped, so memory
stays bounded by the recent traffic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram.constants import FloodLimit
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
RateLimitArgs = dict[str, Any]
"""``rate_limit_args`` of a Bot API call: ``{"bulk": True}`` marks bulk traffic; ``"max_retries"``
overrides how often a call is repeated after a 429."""

PRIVATE_BURST = 3.0
PRIVATE_RATE = 1.0
"""Private chats: a card plus a transition go out at once, sustained traffic at 1 message/s."""
GROUP_BURST = 3.0
GROUP_RATE = (FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP - GROUP_BURST) / 60
"""Groups (negative or @username chat ids): the burst plus a minute's refill is 20 messages a minute."""
WINDOW_SECONDS = 1.0
WINDOW_GUARD = 0.02
"""The bulk budget is counted over a slightly longer window than Telegram's second: the request
reaches Telegram a little after the limiter lets it go, and jitter must not squeeze 31 into a second."""
RETRY_MARGIN = 0.1
"""Added to every ``retry_after`` (Telegram rounds it down to whole seconds), as PTB's limiter does."""
MIN_BULK_FACTOR = 1 / 32
RECOVERY_PER_SECOND = 0.1
"""After a 429 the bulk rate is halved; it regains this fraction of SEND_RATE per quiet second."""
STORM_CHATS = 3
STORM_WINDOW = 2.0
COUNTING_MEMORY = 60.0
BULK_CATCH_UP = 3
"""Bulk calls are spaced evenly; one that woke late may be followed by up to this many sooner ones."""
YIELD_SECONDS = 0.01
"""How long a bulk call to a chat waits before looking again while an interactive call to it waits."""
PRUNE_EVERY = 5.0
EPSILON = 1e-6
"""Waits shorter than this are no wait (token arithmetic in floating point never quite reaches 1)."""
MESSAGE_PREFIXES = ("send", "edit", "copymessage", "forwardmessage", "stoppoll")
UNCOUNTED = frozenset({"sendchataction"})


def is_message(endpoint: str) -> bool:
    """Whether a call puts (or changes) a message in a chat: what per-chat and broadcast limits count."""
    name = endpoint.lower()
    return name.startswith(MESSAGE_PREFIXES) and name not in UNCOUNTED


def chat_key(chat_id: object) -> int | str | None:
    """The chat a call is for (an integer id given as a string is the same chat)."""
    if chat_id is None or isinstance(chat_id, bool):
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id).strip()
    try:
        return int(text)
    except ValueError:
        return text or None


def is_group(key: int | str) -> bool:
    return isinstance(key, str) or key < 0


def retry_seconds(exc: RetryAfter) -> float:
    retry = exc.retry_after
    return retry.total_seconds() if isinstance(retry, timedelta) else float(retry)


@dataclass
class ChatBucket:
    """One chat's token bucket, its 429 hold and the interactive calls waiting for it (FIFO)."""

    capacity: float
    rate: float
    tokens: float
    updated: float
    held_until: float = 0.0
    interactive_waiting: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait(self, now: float, *, counted: bool) -> float:
        """Seconds until a call may go (0: now); ``counted`` calls need a token as well."""
        self.refill(now)
        wait = self.held_until - now
        if counted and self.tokens < 1:
            wait = max(wait, (1 - self.tokens) / self.rate)
        return wait

    def idle(self, now: float) -> bool:
        self.refill(now)
        return (
            self.tokens >= self.capacity
            and self.held_until <= now
            and self.interactive_waiting == 0
            and not self.lock.locked()
        )


@dataclass
class BulkLane:
    """Bulk sends of one budget (SEND_RATE, or the paid-broadcast rate): spacing and the last window."""

    budget: float
    """The bot's whole rate for this kind of broadcast."""
    rate: float = field(init=False)
    """This instance's part of ``budget`` (all of it unless instances share it: ``share``)."""
    sent: deque[float] = field(default_factory=deque)
    next_at: float = 0.0

    def __post_init__(self) -> None:
        self.rate = self.budget


class SplitRateLimiter(BaseRateLimiter[RateLimitArgs]):
    """Interactive calls paced per chat only; bulk calls inside what is left of ``send_rate``."""

    def __init__(
        self,
        send_rate: float = FloodLimit.MESSAGES_PER_SECOND,
        *,
        max_retries: int = 3,
        paid_rate: float = FloodLimit.PAID_MESSAGES_PER_SECOND,
        private: tuple[float, float] = (PRIVATE_BURST, PRIVATE_RATE),
        group: tuple[float, float] = (GROUP_BURST, GROUP_RATE),
        chat_time_scale: float = 1.0,
        interactive_weight: float = 0.0,
        counting_memory: float = COUNTING_MEMORY,
        storm_chats: int = STORM_CHATS,
        storm_window: float = STORM_WINDOW,
        window: float = WINDOW_SECONDS + WINDOW_GUARD,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """``chat_time_scale`` < 1 speeds the per-chat buckets up (TIMER_SCALE: tests, demos)."""
        if send_rate <= 0 or paid_rate <= 0:
            raise ValueError("send_rate and paid_rate must be positive")
        self._max_retries = max_retries
        self._private = (private[0], private[1] / chat_time_scale)
        self._group = (group[0], group[1] / chat_time_scale)
        self._weight = interactive_weight
        self._counting_memory = counting_memory
        self._storm_chats, self._storm_window = storm_chats, storm_window
        self._window = window
        self._clock, self._sleep = clock, sleep
        self._chats: dict[int | str, ChatBucket] = {}
        self._lanes = {False: BulkLane(send_rate), True: BulkLane(paid_rate)}
        self._bulk_lock = asyncio.Lock()
        self._interactive_sent: deque[float] = deque()
        self._paused_until = 0.0
        """Every call waits until then (a global 429)."""
        self._bulk_held_until = 0.0
        self._bulk_cut = 1.0
        self._bulk_cut_at = 0.0
        self._counting_until = float("-inf")
        self._recent_429: deque[tuple[float, int | str | None]] = deque()
        self._next_prune = 0.0
        self.flood_waits = 0
        """How many 429s were met (for tests and benchmarks)."""

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    # --- what the budgets say now ------------------------------------------------------------------

    def weight(self, now: float) -> float:
        """How much one interactive message draws on the bulk budget right now."""
        return 1.0 if now < self._counting_until else self._weight

    def share(self, instances: int) -> None:
        """``instances`` run the bot (``bot.instances``): this one takes an equal part of each broadcast
        budget, so that together they stay within it (1 or fewer: the whole budget)."""
        for lane in self._lanes.values():
            lane.rate = lane.budget / max(1, instances)

    def hold_bulk(self, seconds: float) -> None:
        """Broadcasts wait ``seconds`` from now (replies do not)."""
        self._bulk_held_until = max(self._bulk_held_until, self._clock() + seconds)

    def bulk_held_for(self) -> float:
        """Seconds until broadcasts may go again as far as holds go (0: not held)."""
        return max(0.0, self._bulk_held_until - self._clock(), self._paused_until - self._clock())

    @property
    def bulk_rate(self) -> float:
        """This instance's part of SEND_RATE (before any cut by 429s)."""
        return self._lanes[False].rate

    def bulk_factor(self, now: float) -> float:
        """The fraction of the bulk rate available: 1 unless 429s cut it (recovering after the hold)."""
        since = now - max(self._bulk_cut_at, self._bulk_held_until, self._paused_until)
        return min(1.0, self._bulk_cut + max(0.0, since) * RECOVERY_PER_SECOND)

    def _expire(self, now: float) -> None:
        horizon = now - self._window + EPSILON  # what ages out within EPSILON counts as gone
        for sent in (self._interactive_sent, self._lanes[False].sent, self._lanes[True].sent):
            while sent and sent[0] <= horizon:
                sent.popleft()

    def interactive_use(self, now: float) -> int:
        """Interactive messages sent within the budget's window."""
        self._expire(now)
        return len(self._interactive_sent)

    def _bulk_wait(self, now: float, lane: BulkLane) -> float:
        """Seconds until the next bulk call of ``lane`` may go: its spacing, and room in the window."""
        self._expire(now)
        weight = self.weight(now)
        budget = max(1.0, lane.rate * self.bulk_factor(now))
        used = len(lane.sent) + weight * len(self._interactive_sent)
        wait = lane.next_at - now
        if used + 1 > budget:  # the window is full: look again once its oldest entry has aged out
            oldest = [lane.sent[0]] if lane.sent else []
            if weight and self._interactive_sent:
                oldest.append(self._interactive_sent[0])
            wait = max(wait, min(oldest) + self._window - now if oldest else self._window)
        return wait

    def _bucket(self, key: int | str, now: float) -> ChatBucket:
        if now >= self._next_prune:
            self._prune(now)
        bucket = self._chats.get(key)
        if bucket is None:
            capacity, rate = self._group if is_group(key) else self._private
            bucket = self._chats[key] = ChatBucket(capacity, rate, capacity, now)
        return bucket

    def _prune(self, now: float) -> None:
        self._next_prune = now + PRUNE_EVERY
        for key in [key for key, bucket in self._chats.items() if bucket.idle(now)]:
            del self._chats[key]

    @property
    def tracked_chats(self) -> int:
        return len(self._chats)

    # --- admission -------------------------------------------------------------------------------------

    async def _admit_interactive(self, key: int | str | None, counted: bool) -> None:
        if key is None:
            while (wait := self._paused_until - self._clock()) > EPSILON:
                await self._sleep(wait)
        else:
            bucket = self._bucket(key, self._clock())
            bucket.interactive_waiting += 1
            try:
                async with bucket.lock:  # messages to one chat keep their order
                    while True:
                        now = self._clock()
                        wait = max(self._paused_until - now, bucket.wait(now, counted=counted))
                        if wait <= EPSILON:
                            if counted:
                                bucket.tokens -= 1
                            break
                        await self._sleep(wait)
            finally:
                bucket.interactive_waiting -= 1
        if counted:
            now = self._clock()
            self._interactive_sent.append(now)
            self._expire(now)  # the window stays as short as a second of traffic

    async def _admit_bulk(self, key: int | str | None, counted: bool, paid: bool) -> None:
        lane = self._lanes[paid]
        while True:
            if key is not None:  # the chat first, outside the lane: a held chat must not stop the others
                await self._chat_ready(key, counted)
            async with self._bulk_lock:  # bulk calls take the budget in turn
                while True:
                    now = self._clock()
                    wait = max(self._paused_until - now, self._bulk_held_until - now)
                    if counted:
                        wait = max(wait, self._bulk_wait(now, lane))
                    if wait <= EPSILON:
                        break
                    await self._sleep(wait)
                bucket = None if key is None else self._bucket(key, now)
                if bucket is not None and (
                    bucket.interactive_waiting or bucket.wait(now, counted=counted) > EPSILON
                ):
                    continue  # the chat became busy meanwhile: wait for it again
                if bucket is not None and counted:
                    bucket.tokens -= 1
                if counted:
                    lane.sent.append(now)
                    interval = self._window / max(1.0, lane.rate * self.bulk_factor(now))
                    lane.next_at = max(lane.next_at, now - BULK_CATCH_UP * interval) + interval
                return

    async def _chat_ready(self, key: int | str, counted: bool) -> None:
        while True:
            now = self._clock()
            bucket = self._bucket(key, now)
            wait = bucket.wait(now, counted=counted)
            if bucket.interactive_waiting:  # interactive calls to this chat go first
                wait = max(wait, YIELD_SECONDS)
            if wait <= EPSILON:
                return
            await self._sleep(wait)

    # --- 429 -----------------------------------------------------------------------------------------------

    def _flood(self, seconds: float, endpoint: str, key: int | str | None, bulk: bool) -> None:
        """Telegram answered 429: hold the chat; slow bulk calls first, then, in a storm, everything."""
        now = self._clock()
        self.flood_waits += 1
        until = now + seconds + RETRY_MARGIN
        self._recent_429.append((now, key))
        while self._recent_429 and self._recent_429[0][0] < now - self._storm_window:
            self._recent_429.popleft()
        chats = len({chat for _, chat in self._recent_429 if chat is not None})
        everything = key is None or chats >= self._storm_chats
        self._bulk_cut, self._bulk_cut_at = max(MIN_BULK_FACTOR, self.bulk_factor(now) / 2), now
        if bulk or chats > 1:  # the broadcast budget may be what Telegram counts: count interactive too
            self._counting_until = max(self._counting_until, now + self._counting_memory)
        if everything or chats >= self._storm_chats - 1:
            self._bulk_held_until = max(self._bulk_held_until, until)
        if everything:
            self._paused_until = max(self._paused_until, until)
            log.warning("flood control: %s answered 429; every call waits %.1f s", endpoint, seconds)
        else:
            log.info("flood control: %s to chat %s answered 429; it waits %.1f s", endpoint, key, seconds)
        if key is not None:
            bucket = self._bucket(key, now)
            bucket.held_until = max(bucket.held_until, until)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateLimitArgs | None,
    ) -> Result:
        options = rate_limit_args or {}
        bulk = bool(options.get("bulk"))
        max_retries = int(options.get("max_retries", self._max_retries))
        key = chat_key(data.get("chat_id"))
        counted = is_message(endpoint)
        paid = bool(data.get("allow_paid_broadcast"))
        for attempt in range(max_retries + 1):
            if bulk:
                await self._admit_bulk(key, counted, paid)
            else:
                await self._admit_interactive(key, counted)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self._flood(retry_seconds(exc), endpoint, key, bulk)
                if attempt >= max_retries:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


def for_settings(settings: Settings) -> SplitRateLimiter:
    """The application's limiter: SEND_RATE for bulk, per-chat buckets sped up with TIMER_SCALE."""
    return SplitRateLimiter(settings.send_rate, max_retries=3, chat_time_scale=min(1.0, settings.timer_scale))


__all__ = ["ChatBucket", "SplitRateLimiter", "chat_key", "for_settings", "is_message"]
