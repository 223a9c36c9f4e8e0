"""Health data stays in the private chat: what the bot does with updates from anywhere else.

Runs before every other handler (group -1) and stops the update there when:
- it has no real person behind it (a channel post, an anonymous group admin, a message sent on behalf
  of a chat): ignored quietly;
- it is an edited message: commands are not run twice (editing ``/pain 7`` into ``/pain 3`` stores
  nothing); in a private chat the user is told once to send it again;
- it is a command addressed to another bot (``/help@otherbot``): ignored;
- it comes from a group and asks for anything personal (or is a bare number there): one short reply
  with a button that opens the private chat on the right command, nothing stored.

``/help``, ``/exercises``, ``/stretch``, ``/safety`` answer in groups too, without storing anything.
"""

from __future__ import annotations

import re

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.parsing import BARE_NUMBER

ANONYMOUS_ADMIN_ID = 1087968824
"""Telegram's GroupAnonymousBot: the sender of messages by anonymous group admins."""
SERVICE_ACCOUNT_ID = 777000
"""Telegram's own account (channel posts forwarded into a linked discussion group)."""
PUBLIC_COMMANDS = frozenset({"help", "exercises", "stretch", "safety"})
"""Commands that say nothing about the person and may answer in a group."""
DEEP_LINKS = frozenset(
    {
        "start",
        "routine",
        "session",
        "pain",
        "stats",
        "progress",
        "remind",
        "timezone",
        "settings",
        "break",
        "export",
        "forget",
    }
)
"""Commands a ``t.me/<bot>?start=<command>`` link may open in the private chat."""
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?:\s|$)")


def command_of(text: str | None) -> tuple[str, str | None] | None:
    """``("pain", None)`` for "/pain 3", ``("help", "otherbot")`` for "/help@otherbot"; None if no command."""
    match = _COMMAND.match(text or "")
    if match is None:
        return None
    return match.group(1).lower(), match.group(2)


def _has_person(update: Update) -> bool:
    user = update.effective_user
    if user is None or user.is_bot or user.id in (ANONYMOUS_ADMIN_ID, SERVICE_ACCOUNT_ID):
        return False
    message = update.effective_message
    return not (message is not None and message.sender_chat is not None)


def private_link(bot_username: str, command: str) -> str:
    payload = command if command in DEEP_LINKS else "start"
    return f"https://t.me/{bot_username}?start={payload}"


def open_private_keyboard(bot_username: str, command: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("🔒 Open my private chat", url=private_link(bot_username, command))]]
    )


PRIVATE_ONLY = (
    "Your back, your data: I only talk about your routine, scores and reminders in our private chat. "
    "Tap below to continue there."
)
EDITED = "I only act on new messages, so that edit changed nothing. Send the command again if you meant it."


async def guard(update: Update, context: BotContext) -> None:
    """Stop every update that must not reach the other handlers (see the module docstring)."""
    if update.channel_post or update.edited_channel_post:
        raise ApplicationHandlerStop
    if not _has_person(update):
        if update.callback_query is not None:
            await update.callback_query.answer()
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if update.edited_message is not None:
        if chat is not None and chat.type == Chat.PRIVATE and command_of(update.edited_message.text):
            await update.edited_message.reply_text(EDITED)
        raise ApplicationHandlerStop
    message = update.message
    if message is None:
        return  # callback queries: their handlers check ownership and the chat themselves
    parsed = command_of(message.text)
    if parsed is not None and parsed[1] is not None and parsed[1].lower() != context.bot.username.lower():
        raise ApplicationHandlerStop  # addressed to another bot
    if chat is None or chat.type == Chat.PRIVATE:
        return
    await _in_group(message, parsed, context)


async def _in_group(message: Message, parsed: tuple[str, str | None] | None, context: BotContext) -> None:
    if parsed is None:
        if message.text and BARE_NUMBER.match(message.text):
            await _send_private_pointer(message, "pain", context)
        raise ApplicationHandlerStop  # chatter in a group is not for the bot
    command = parsed[0]
    if command in PUBLIC_COMMANDS or command.startswith("stretch_"):
        return
    await _send_private_pointer(message, command, context)
    raise ApplicationHandlerStop


async def _send_private_pointer(message: Message, command: str, context: BotContext) -> None:
    await message.reply_text(PRIVATE_ONLY, reply_markup=open_private_keyboard(context.bot.username, command))


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is None or chat.type == Chat.PRIVATE


__all__ = ["DEEP_LINKS", "command_of", "guard", "is_private", "private_link"]
