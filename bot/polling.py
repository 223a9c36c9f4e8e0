"""Long polling that survives what Telegram can throw at it.

- ``allowed_updates``: ask Telegram only for the update types the registered handlers take.
- ``TolerantBot``: an update that python-telegram-bot cannot parse is skipped (its offset is still
  confirmed) and logged once, instead of failing every ``getUpdates`` from then on; every update is
  parsed once.
- ``connect``: at start-up, wait for an unreachable Bot API with backoff and a clear log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DefaultValue
from telegram.constants import UpdateType
from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
)
from telegram.request import BaseRequest

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


def update_id_of(data: Any) -> int | None:
    """The integer ``update_id`` of an update as Telegram sent it (a JSON object); None if it has none."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    return update_id if isinstance(update_id, int) and not isinstance(update_id, bool) else None


def unparsable(data: Any, exc: Exception) -> str:
    """What to log of an update PTB cannot parse: its id, its type and the error, never its content."""
    update_id = update_id_of(data)
    kinds = ", ".join(k for k in data if k != "update_id") if isinstance(data, dict) else type(data).__name__
    what = "an update without an update_id" if update_id is None else f"update {update_id}"
    reason = f"{type(exc).__name__}: {exc}"
    return f"skipped {what} ({kinds or 'no content'}): python-telegram-bot cannot parse it ({reason})"


class TolerantBot(ExtBot[Any]):
    """The application's bot: ``get_updates`` parses each update once, and skips one PTB cannot parse.

    PTB's own ``Bot.get_updates`` parses the answer as a whole (``Update.de_list``): one update it cannot
    parse raises, the Updater logs it as CRITICAL with the raw answer (people's messages, in the log),
    never advances its offset, and fetches the same batch again at once, forever.  Here each update is
    parsed on its own, with the bot, as PTB would.  One that fails is logged once (``unparsable``) and
    becomes a bare ``Update(update_id)``: that matches no handler and lets the Updater confirm it.

    Parsing is most of a poll's CPU, so it happens once: checking the answer in the request and then
    letting PTB parse it again cost a whole second parse of every update.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._logged: deque[int] = deque(maxlen=1000)
        """Ids already logged: a batch fetched again (a poll cut short by a stop) is not logged twice."""

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: float | timedelta | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
        api_kwargs: dict[str, Any] | None = None,
    ) -> tuple[Update, ...]:
        # As Bot.get_updates: a long poll may take its own ``timeout`` on top of the read timeout.
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._request[0].read_timeout
        wait = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        result = await self._post(
            "getUpdates",
            {"timeout": timeout, "offset": offset, "limit": limit, "allowed_updates": allowed_updates},
            read_timeout=(read_timeout or 0) + (wait or 0),
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        if not isinstance(result, list):
            raise NetworkError(f"getUpdates answered with a {type(result).__name__}, not a list")
        updates = tuple(update for update in map(self._parse, result) if update is not None)
        for update in updates:
            self.insert_callback_data(update)
        return updates

    def _parse(self, data: Any) -> Update | None:
        try:
            return Update.de_json(data, self)
        except Exception as exc:  # whatever PTB chokes on
            update_id = update_id_of(data)
            if update_id is None:
                log.error("%s", unparsable(data, exc))
                return None
            if update_id not in self._logged:
                self._logged.append(update_id)
                log.error("%s; it is confirmed and not fetched again", unparsable(data, exc))
            return Update(update_id=update_id)


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
