"""The conversation client: tests read like a chat.

await user.send("/routine")
await user.click(user.last, "Start")
await user.wait_for(lambda m: "Hold" in m.text)
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.harness.fake_api import BOT_USER, FakeBotApi, SentMessage

_query_ids = itertools.count(1)


class ChatUser:
    """A person in a chat with the bot (a private chat unless ``chat_id`` says otherwise)."""

    def __init__(
        self,
        fake: FakeBotApi,
        user_id: int,
        first_name: str = "Ana",
        *,
        settle: Callable[[int], Awaitable[None]] | None = None,
        language_code: str = "en",
        chat_id: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.fake, self.user_id, self.first_name = fake, user_id, first_name
        self.chat_id = chat_id if chat_id is not None else user_id
        self.settle, self.language_code, self.timeout = settle, language_code, timeout

    @property
    def _from(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    @property
    def _chat(self) -> dict[str, Any]:
        if self.chat_id == self.user_id:
            return {"id": self.chat_id, "type": "private", "first_name": self.first_name}
        return {"id": self.chat_id, "type": "group", "title": "Test group"}

    async def _push(self, update: dict[str, Any]) -> list[SentMessage]:
        before = len(self.fake.messages(self.chat_id))
        update_id = self.fake.push_update(update)
        await self.fake.wait_fetched(update_id, self.timeout)
        if self.settle is not None:
            await self.settle(update_id)
        return self.fake.messages(self.chat_id)[before:]

    async def send(self, text: str) -> list[SentMessage]:
        """Send a text message; returns what the bot sent to this chat while handling it."""
        message: dict[str, Any] = {
            "message_id": self.fake.next_message_id(self.chat_id),
            "from": self._from,
            "chat": self._chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self._push({"message": message})

    def _button(self, message: SentMessage, label: str) -> str:
        matches = [
            (text, data) for row in message.buttons for text, data in row if label.lower() in text.lower()
        ]
        exact = [m for m in matches if m[0].lower() == label.lower()]
        if len(exact) == 1:
            return exact[0][1]
        if len(matches) != 1:
            raise AssertionError(
                f"{len(matches)} buttons match {label!r}; the message has {message.button_labels}"
            )
        return matches[0][1]

    async def click(self, message: SentMessage, label: str) -> list[SentMessage]:
        """Tap the inline button whose label contains ``label`` (an exact label wins)."""
        return await self.click_data(message, self._button(message, label))

    async def click_data(self, message: SentMessage, data: str) -> list[SentMessage]:
        """Tap a button with raw callback data (for forged or stale taps)."""
        query = {
            "id": str(next(_query_ids)),
            "from": self._from,
            "message": message.to_dict(),
            "chat_instance": str(self.chat_id),
            "data": data,
        }
        return await self._push({"callback_query": query})

    async def wait_for(
        self, predicate: Callable[[SentMessage], bool], timeout: float = 5.0, *, include_deleted: bool = False
    ) -> SentMessage:
        """Wait until a bot message in this chat (as it stands after edits) satisfies ``predicate``."""

        def found() -> SentMessage | None:
            for message in reversed(self.fake.messages(self.chat_id)):
                if (include_deleted or not message.deleted) and predicate(message):
                    return message
            return None

        try:
            async with asyncio.timeout(timeout), self.fake.changed:
                await self.fake.changed.wait_for(lambda: found() is not None)
        except TimeoutError:
            raise AssertionError(
                f"no matching message within {timeout} s. Chat so far:\n{self.transcript()}"
            ) from None
        result = found()
        assert result is not None
        return result

    @property
    def messages(self) -> list[SentMessage]:
        return self.fake.messages(self.chat_id)

    @property
    def visible(self) -> list[SentMessage]:
        return self.fake.visible(self.chat_id)

    @property
    def last(self) -> SentMessage:
        visible = self.visible
        if not visible:
            raise AssertionError("the bot has sent nothing to this chat")
        return visible[-1]

    @property
    def last_text(self) -> str:
        return self.last.text

    @property
    def callback_answers(self) -> list[str]:
        return [a["text"] for a in self.fake.callback_answers(self.user_id)]

    @property
    def last_answer(self) -> str:
        answers = self.callback_answers
        return answers[-1] if answers else ""

    def transcript(self) -> str:
        lines = []
        for m in self.messages:
            flag = " [deleted]" if m.deleted else ""
            buttons = f" {m.button_labels}" if m.button_labels else ""
            lines.append(f"#{m.message_id}{flag}: {m.text[:300]!r}{buttons}")
        return "\n".join(lines) or "(empty)"


__all__ = ["BOT_USER", "ChatUser"]
