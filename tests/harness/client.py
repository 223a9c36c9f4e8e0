"""The conversation client: end-to-end tests read like a chat.

::

    user = ChatUser(fake, 1001, "Ana", settle=tracker.wait_done)
    replies = await user.send("/routine")
    assert "Today's routine" in user.last_text
    await user.click(user.last, "Start")
    await user.wait_for(lambda m: "Hold" in m.text, timeout=5)

``send`` and ``click`` push a real update (shaped as Telegram sends it), wait until the bot fetched
it and, with ``settle``, until the application finished handling it; they return the bot's new
messages in this chat.  Without ``settle`` (a bot in another process) use ``wait_for``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.harness.fake_api import CallbackAnswer, FakeBotApi, SentMessage, utf16_len

# A bot command as Telegram's clients mark it: /name or /name@botname, at a word start.
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")


def command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entities Telegram attaches to a text (offsets in UTF-16 code units)."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _COMMAND.finditer(text)
    ]


class ChatUser:
    """A person talking to the bot: in a private chat, or in ``chat_id`` (a group, or a forged chat).

    A second ``ChatUser`` with another ``user_id`` and the same ``chat_id`` taps someone else's
    buttons (``other.click_data(message_of_a, data)``), as in a group chat.
    """

    def __init__(
        self,
        fake: FakeBotApi,
        user_id: int,
        first_name: str = "Ana",
        *,
        settle: Callable[[int], Awaitable[None]] | None = None,
        language_code: str = "en",
        chat_id: int | None = None,
        username: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.fake, self.user_id, self.first_name = fake, user_id, first_name
        self.chat_id = user_id if chat_id is None else chat_id
        self.settle, self.language_code, self.username = settle, language_code, username
        self.timeout = timeout
        """How long ``send`` and ``click`` wait for the bot to fetch the update."""

    # --- what Telegram sends --------------------------------------------------------------------------

    @property
    def user_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        user["language_code"] = self.language_code
        return user

    @property
    def chat_dict(self) -> dict[str, Any]:
        if self.chat_id == self.user_id:
            chat: dict[str, Any] = {"id": self.chat_id, "type": "private", "first_name": self.first_name}
            if self.username:
                chat["username"] = self.username
            return chat
        kind = "supergroup" if self.chat_id < -1_000_000_000_000 else "group"
        return {"id": self.chat_id, "type": kind, "title": "Test group"}

    def message_update(self, text: str) -> dict[str, Any]:
        """A ``message`` update carrying ``text`` from this user (not yet pushed)."""
        message: dict[str, Any] = {
            "message_id": self.fake.next_message_id(self.chat_id),
            "from": self.user_dict,
            "chat": self.chat_dict,
            "date": int(time.time()),
            "text": text,
        }
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
        return {"message": message}

    def callback_update(self, message: SentMessage, data: str) -> dict[str, Any]:
        """A ``callback_query`` update: this user tapped a button carrying ``data`` under ``message``."""
        query = {
            "id": self.fake.next_callback_query_id(),
            "from": self.user_dict,
            "message": message.to_dict(),
            "chat_instance": str(-abs(message.chat_id) - 7_000_000_000),
            "data": data,
        }
        return {"callback_query": query}

    # --- acting ---------------------------------------------------------------------------------------

    async def push(self, update: dict[str, Any]) -> list[SentMessage]:
        """Push any update; wait as ``send`` does; return the bot's new messages in this chat."""
        before = len(self.fake.messages(self.chat_id))
        update_id = self.fake.push_update(update)
        await self.fake.wait_fetched(update_id, self.timeout)
        if self.settle is not None:
            await self.settle(update_id)
        return self.fake.messages(self.chat_id)[before:]

    async def send(self, text: str) -> list[SentMessage]:
        """Send a text message; returns what the bot sent to this chat while handling it."""
        if not text.strip():
            raise ValueError("Telegram clients do not send empty messages")
        return await self.push(self.message_update(text))

    async def click(self, message: SentMessage, label: str) -> list[SentMessage]:
        """Tap the inline button whose label contains ``label`` (case-insensitive; an exact label wins)."""
        return await self.click_data(message, message.button_data(label))

    async def click_data(self, message: SentMessage, data: str) -> list[SentMessage]:
        """Tap a button with raw callback data (forged, stale or someone else's)."""
        return await self.push(self.callback_update(message, data))

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        timeout: float = 5.0,
        *,
        include_edits: bool = True,
        include_deleted: bool = False,
    ) -> SentMessage:
        """Wait until a bot message in this chat satisfies ``predicate``; returns the newest such message.

        Messages are judged as they stand now, after edits; with ``include_edits=False`` by their first
        version only (a message that was *sent* that way, not edited into it).  Deleted messages are
        skipped unless ``include_deleted``.  Event-driven: the predicate runs again on every change to
        the fake.  On timeout, AssertionError with the chat's transcript.
        """
        found: SentMessage | None = None

        def ready() -> bool:
            nonlocal found
            for message in reversed(self.fake.messages(self.chat_id)):
                if message.deleted and not include_deleted:
                    continue
                if predicate(message if include_edits else message.first_version):
                    found = message
                    return True
            return False

        try:
            await self.fake.changes.wait_until(ready, timeout)
        except TimeoutError:
            raise AssertionError(
                f"no bot message in chat {self.chat_id} matched within {timeout} s. The chat:\n{self.transcript()}"
            ) from None
        assert found is not None
        return found

    # --- what the user sees ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[SentMessage]:
        """The bot's messages in this chat, deleted ones included (flagged)."""
        return self.fake.messages(self.chat_id)

    @property
    def visible(self) -> list[SentMessage]:
        return self.fake.visible(self.chat_id)

    @property
    def last(self) -> SentMessage:
        """The bot's newest message in this chat that is still there."""
        visible = self.visible
        if not visible:
            raise AssertionError(f"the bot has sent nothing (visible) to chat {self.chat_id}")
        return visible[-1]

    @property
    def last_text(self) -> str:
        return self.last.text

    @property
    def answers(self) -> list[CallbackAnswer]:
        """The bot's answers to this user's button taps."""
        return self.fake.callback_answers(self.user_id)

    @property
    def callback_answers(self) -> list[str]:
        """The texts of those answers ('' for a silent answer)."""
        return [answer.text for answer in self.answers]

    @property
    def last_answer(self) -> str:
        answers = self.callback_answers
        return answers[-1] if answers else ""

    def transcript(self, width: int = 400) -> str:
        """The chat as a person would read it, both sides, oldest first (for assertion messages)."""
        lines: list[tuple[float, str]] = []
        for event in self.fake.user_events(self.chat_id):
            verb = "tapped" if event.kind == "tap" else "said"
            lines.append((event.order, f"  {event.first_name} {verb}: {_short(event.text, width)}"))
        for m in self.messages:
            flags = [f"edited {len(m.versions)}x"] if m.versions else []
            if m.deleted:
                flags.append("deleted")
            if m.kind != "text":
                flags.append(f"{m.kind} {m.filename or ''}".strip())
            header = f"#{m.message_id} bot" + (f" ({', '.join(flags)})" if flags else "")
            buttons = "".join(f"\n      [{' | '.join(label for label, _ in row)}]" for row in m.buttons)
            lines.append((m.message_id, f"{header}: {_short(m.text, width)}{buttons}"))
        lines.sort(key=lambda line: line[0])
        return "\n".join(text for _, text in lines) or "(nothing yet)"


def _short(text: str, width: int) -> str:
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.replace("\n", "\n      ")


__all__ = ["ChatUser", "command_entities"]
