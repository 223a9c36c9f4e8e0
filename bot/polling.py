"""Long polling that survives what Telegram can throw at it.

- ``allowed_updates``: ask Telegram only for the update types the registered handlers take.
- ``SkipUnparsableUpdates``: an update that python-telegram-bot cannot parse is skipped (its offset is
  still confirmed) and logged once, instead of failing every ``getUpdates`` from then on.  PTB parses a
  whole batch at once (``Update.de_list`` in ``Bot.get_updates``); one bad update raises, the Updater
  logs it as CRITICAL, never advances its offset, and fetches the same batch again at once, forever.
- ``connect``: at start-up, wait for an unreachable Bot API with backoff and a clear log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.constants import UpdateType
from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.request import BaseRequest, RequestData

from bot.aiohttp_request import AiohttpRequest
from bot.wrapped_request import WrappedRequest

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org/bot"

HANDLED_UPDATE_TYPES: dict[type[BaseHandler[Any, Any, Any]], tuple[str, ...]] = {
    CommandHandler: (UpdateType.MESSAGE, UpdateType.EDITED_MESSAGE),
    MessageHandler: (UpdateType.MESSAGE, UpdateType.EDITED_MESSAGE),
    CallbackQueryHandler: (UpdateType.CALLBACK_QUERY,),
}
"""What each kind of handler the bot registers takes.  Message handlers would also take channel posts
and business messages; Backstretch is for people in private chats (and groups), so it does not ask
for those."""


def allowed_updates(application: Application[Any, Any, Any, Any, Any, Any]) -> list[str]:
    """The update types the application's handlers take, in Telegram's order.

    Handlers in negative groups (guards such as ``bot.handlers.privacy.guard``) are left out.
    A handler of a kind not listed in ``HANDLED_UPDATE_TYPES`` makes this ask for every type (and say
    so), so a new kind of handler is never silently starved of its updates.
    """
    wanted: set[str] = set()
    for group, handlers in application.handlers.items():
        if group < 0:  # guards that run before every handler only see what the handlers take
            continue
        for handler in handlers:
            kinds = next((v for k, v in HANDLED_UPDATE_TYPES.items() if isinstance(handler, k)), None)
            if kinds is None:
                log.warning(
                    "no known update types for %s: polling asks Telegram for every update type; "
                    "add it to bot.polling.HANDLED_UPDATE_TYPES",
                    type(handler).__name__,
                )
                return list(Update.ALL_TYPES)
            wanted.update(kinds)
    return [kind for kind in Update.ALL_TYPES if kind in wanted]


class SkipUnparsableUpdates(WrappedRequest):
    """Wraps the ``getUpdates`` request: updates PTB cannot parse reach it as bare ``update_id``s.

    Every update of a ``getUpdates`` answer is parsed as ``Bot.get_updates`` will parse it; one that
    fails is logged (its id, type and the error, not its content) and replaced by ``{"update_id": N}``.
    That parses, matches no handler, and lets the Updater confirm the offset past it.
    """

    def __init__(self, inner: BaseRequest) -> None:
        super().__init__(inner)
        self.skipped = 0
        self._logged: deque[int] = deque(maxlen=1000)
        """Ids already logged: a batch fetched again (a poll cut short by a stop) is not logged twice."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, payload = await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if status == 200 and url.rstrip("/").rsplit("/", 1)[-1].lower() == "getupdates":
            payload = self.clean(payload)
        return status, payload

    def clean(self, payload: bytes) -> bytes:
        """The payload with unparsable updates reduced to their ids (unchanged if all parse)."""
        try:
            body = json.loads(payload)
        except ValueError:
            return payload  # PTB reports a body that is not JSON at all
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, list):
            return payload
        kept: list[Any] = []
        for item in result:
            try:
                Update.de_json(item, None)
            except Exception as exc:  # whatever PTB would choke on
                self.skipped += 1
                kept.extend(self._skip(item, exc))
            else:
                kept.append(item)
        if len(kept) == len(result) and all(a is b for a, b in zip(kept, result, strict=True)):
            return payload
        body["result"] = kept
        return json.dumps(body).encode()

    def _skip(self, item: Any, exc: Exception) -> list[dict[str, Any]]:
        update_id = item.get("update_id") if isinstance(item, dict) else None
        kinds = [k for k in item if k != "update_id"] if isinstance(item, dict) else [type(item).__name__]
        reason = f"{type(exc).__name__}: {exc}"
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            log.error("skipped an update without an update_id (%s) that cannot be parsed: %s", kinds, reason)
            return []
        if update_id in self._logged:
            return [{"update_id": update_id}]
        self._logged.append(update_id)
        log.error(
            "skipped update %d (%s): python-telegram-bot cannot parse it (%s); it is confirmed and not "
            "fetched again",
            update_id,
            ", ".join(kinds) or "no content",
            reason,
        )
        return [{"update_id": update_id}]


def backoff(first: float, cap: float) -> list[float]:
    """The first delays between start-up attempts: doubling from ``first`` up to ``cap``."""
    delays, delay = [], first
    for _ in range(16):
        delays.append(delay)
        delay = min(delay * 2, cap)
    return delays


async def connect(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    where: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    first_delay: float = 1,
    max_delay: float = 30,
) -> None:
    """Initialize the application (``getMe``), waiting while the Bot API is unreachable.

    Network errors, time-outs and 5xx answers (PTB raises ``NetworkError`` for them) and flood control
    are retried with a doubling delay up to ``max_delay``, each with one warning naming ``where``;
    ``InvalidToken`` (401) propagates at once: waiting does not fix a wrong token.
    """
    delays = backoff(first_delay, max_delay)
    attempt = 0
    while True:
        attempt += 1
        try:
            await application.initialize()
        except InvalidToken:
            raise
        except (NetworkError, RetryAfter) as exc:
            delay = delays[min(attempt, len(delays)) - 1]
            if isinstance(exc, RetryAfter):
                wait = exc.retry_after
                delay = max(delay, wait.total_seconds() if isinstance(wait, timedelta) else wait)
            log.warning(
                "cannot reach the Telegram Bot API at %s (%s: %s); retrying in %g s (attempt %d)",
                where,
                type(exc).__name__,
                exc,
                delay,
                attempt,
            )
            await sleep(delay)
            continue
        if attempt > 1:
            log.info("reached the Telegram Bot API at %s after %d attempts", where, attempt)
        return


def polling_request(inner: BaseRequest | None = None) -> SkipUnparsableUpdates:
    """The ``getUpdates`` request: ``inner`` (by default, what PTB's builder would make) behind the skip."""
    return SkipUnparsableUpdates(inner if inner is not None else AiohttpRequest(connection_pool_size=1))
