"""The error handler: log the failure, and tell the user something went wrong when that is possible."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot.context import BotContext

log = logging.getLogger(__name__)
SORRY = "Sorry, something went wrong on my side. Please try again in a moment; nothing you saved was lost."


async def on_error(update: object, context: BotContext) -> None:
    """Degrade gracefully: a failed handler never leaves the user with silence if a reply can be sent."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("user blocked the bot: %s", error)
        return
    if isinstance(error, BadRequest) and "message is not modified" in str(error):
        return
    log.error("error while handling an update", exc_info=error)
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return  # Telegram is unreachable: a reply would fail as well
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, SORRY)
        except TelegramError:
            log.warning("could not tell the user about the error", exc_info=True)
