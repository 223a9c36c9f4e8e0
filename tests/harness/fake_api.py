"""A fake Telegram Bot API: the transport-independent core.

It answers like Telegram for the methods the bot uses, keeps what the bot sent per chat, long-polls
getUpdates, and can inject the failures real bots meet (403 blocked, 429 RetryAfter, network errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Backstretch",
    "username": "backstretch_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                "span", "blockquote", "tg-emoji"}  # fmt: skip
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z-]*)([^>]*)>")
_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "scope", "entities", "link_preview_options",
                "reply_parameters", "media", "caption_entities"}  # fmt: skip
_INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "reply_to_message_id"}


class FakeNetworkError(Exception):
    """Raised by ``FakeBotApi.call`` when a network failure was injected; transports turn it into theirs."""


class TelegramHtmlError(ValueError):
    pass


def check_html(text: str) -> None:
    """Reject what Telegram's HTML parser rejects: unknown or unbalanced tags, bare '<' and '&'."""
    stack: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        between = text[position : match.start()]
        if "<" in between:
            raise TelegramHtmlError(f"unsupported start tag at byte offset {position + between.index('<')}")
        position = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in ALLOWED_TAGS:
            raise TelegramHtmlError(f'unsupported start tag "{name}" at byte offset {match.start()}')
        if closing:
            if not stack or stack.pop() != name:
                raise TelegramHtmlError(f'unexpected end tag "{name}" at byte offset {match.start()}')
        else:
            stack.append(name)
    if "<" in text[position:]:
        raise TelegramHtmlError("unsupported start tag")
    if stack:
        raise TelegramHtmlError(f'can\'t find end tag corresponding to start tag "{stack[-1]}"')
    if _ENTITY.search(text):
        raise TelegramHtmlError("unsupported HTML entity")


def plain_text(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


@dataclass
class SentMessage:
    """A message the bot sent, as it stands now (edits change it in place)."""

    message_id: int
    chat_id: int
    raw: str
    """The text or caption exactly as the bot sent it (with HTML tags when parse_mode is HTML)."""
    kind: str = "text"
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    disable_notification: bool = False
    photo: bytes | None = None
    document: bytes | None = None
    filename: str | None = None
    deleted: bool = False
    edits: list[str] = field(default_factory=list)
    date: int = field(default_factory=lambda: int(time.time()))

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(b.get("text", ""), b.get("callback_data", "")) for b in row] for row in rows]

    @property
    def button_labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]

    @property
    def text(self) -> str:
        """What the person sees: the text without markup."""
        return plain_text(self.raw) if self.parse_mode and self.parse_mode.upper() == "HTML" else self.raw

    def to_dict(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": BOT_USER,
            "chat": {"id": self.chat_id, "type": "private" if self.chat_id > 0 else "group"},
            "date": self.date,
        }
        if self.kind == "text":
            message["text"] = self.text
        elif self.raw:
            message["caption"] = self.text
        if self.kind == "photo":
            message["photo"] = [{"file_id": f"photo{self.message_id}", "file_unique_id": f"p{self.message_id}",
                                 "width": 800, "height": 600, "file_size": len(self.photo or b"")}]  # fmt: skip
        if self.kind == "document":
            message["document"] = {"file_id": f"doc{self.message_id}", "file_unique_id": f"d{self.message_id}",
                                   "file_name": self.filename, "file_size": len(self.document or b"")}  # fmt: skip
        if self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message


@dataclass
class _Failure:
    method: str
    error: str
    times: int
    retry_after: int
    chat_id: int | None


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


def _decode(params: dict[str, Any]) -> dict[str, Any]:
    """Accept both python objects and the form-encoded strings PTB's HTTP transport sends."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and key in _JSON_FIELDS:
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        elif isinstance(value, str) and key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
            value = int(value)
        elif isinstance(value, str) and value in ("true", "false") and key not in ("text", "caption"):
            value = value == "true"
        out[key] = value
    return out


class FakeBotApi:
    """Answers Bot API calls like Telegram and records what the bot did."""

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.token = token
        self.latency = 0.0
        self.commands: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.chat_actions: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self.blocked: set[int] = set()
        self._messages: dict[int, list[SentMessage]] = {}
        self._ids: dict[int, int] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._fetched = 0
        self._open_queries: dict[str, int] = {}
        self._failures: list[_Failure] = []
        self._condition: asyncio.Condition | None = None

    # --- test-side API --------------------------------------------------------------------------

    @property
    def changed(self) -> asyncio.Condition:
        if self._condition is None:
            self._condition = asyncio.Condition()
        return self._condition

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def next_message_id(self, chat_id: int) -> int:
        self._ids[chat_id] = self._ids.get(chat_id, 0) + 1
        return self._ids[chat_id]

    def push_update(self, update: dict[str, Any]) -> int:
        update_id = self._next_update
        self._next_update += 1
        self._updates.append({"update_id": update_id, **update})
        callback = update.get("callback_query")
        if callback:
            self._open_queries[callback["id"]] = callback["from"]["id"]
        asyncio.get_running_loop().create_task(self._notify())
        return update_id

    async def wait_fetched(self, update_id: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: self._fetched >= update_id)

    def messages(self, chat_id: int) -> list[SentMessage]:
        return list(self._messages.get(chat_id, []))

    def visible(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self._messages.get(chat_id, []) if not m.deleted]

    def callback_answers(self, user_id: int) -> list[dict[str, Any]]:
        return [a for a in self.answers if a["user_id"] == user_id]

    def block(self, chat_id: int) -> None:
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def fail_next(
        self,
        method: str,
        error: str = "retry_after",
        *,
        times: int = 1,
        retry_after: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail: retry_after, forbidden, network or server."""
        self._failures.append(_Failure(method.lower(), error, times, retry_after, chat_id))

    # --- the API ---------------------------------------------------------------------------------

    async def call(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]] | None = None
    ) -> tuple[int, dict[str, Any]]:
        params = _decode(params)
        name = method.lower()
        self.calls.append((method, params))
        if self.latency:
            await asyncio.sleep(self.latency)
        try:
            self._inject(name, params)
            handler: Callable[..., Any] | None = getattr(self, f"_m_{name}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params, files or {})
        except ApiError as exc:
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return exc.code, body
        return 200, {"ok": True, "result": result}

    def _inject(self, name: str, params: dict[str, Any]) -> None:
        for failure in self._failures:
            if failure.method != name or failure.times <= 0:
                continue
            if failure.chat_id is not None and params.get("chat_id") != failure.chat_id:
                continue
            failure.times -= 1
            if failure.error == "network":
                raise FakeNetworkError(f"injected network failure in {name}")
            if failure.error == "forbidden":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if failure.error == "server":
                raise ApiError(502, "Bad Gateway")
            raise ApiError(429, f"Too Many Requests: retry after {failure.retry_after}", failure.retry_after)
        chat_id = params.get("chat_id")
        if chat_id in self.blocked and name not in ("getupdates", "getme"):
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    async def _m_getme(self, params: dict[str, Any], files: Any) -> Any:
        return BOT_USER

    async def _m_getupdates(self, params: dict[str, Any], files: Any) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            try:
                async with asyncio.timeout(timeout), self.changed:
                    await self.changed.wait_for(lambda: bool(self._updates))
            except TimeoutError:
                return []
        batch = self._updates[:limit]
        if batch:
            self._fetched = max(self._fetched, batch[-1]["update_id"])
            asyncio.get_running_loop().create_task(self._notify())
        return batch

    async def _m_deletewebhook(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _m_setwebhook(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any], files: Any) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _m_setmycommands(self, params: dict[str, Any], files: Any) -> Any:
        self.commands = list(params.get("commands") or [])
        return True

    async def _m_getmycommands(self, params: dict[str, Any], files: Any) -> Any:
        return self.commands

    async def _m_deletemycommands(self, params: dict[str, Any], files: Any) -> Any:
        self.commands = []
        return True

    async def _m_close(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _m_logout(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _m_sendchataction(self, params: dict[str, Any], files: Any) -> Any:
        self.chat_actions.append({"chat_id": params.get("chat_id"), "action": params.get("action")})
        return True

    def _check_text(self, text: Any, parse_mode: Any, *, caption: bool = False) -> str:
        text = "" if text is None else str(text)
        if not caption and not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain_text(text) if parse_mode else text) > (1024 if caption else 4096):
            raise ApiError(
                400,
                "Bad Request: message caption is too long" if caption else "Bad Request: message is too long",
            )
        if parse_mode and str(parse_mode).upper() == "HTML":
            try:
                check_html(text)
            except TelegramHtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        return text

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        if not markup:
            return None
        for row in markup.get("inline_keyboard", []):
            for b in row:
                if len(str(b.get("callback_data", "")).encode()) > 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return dict(markup)

    async def _store(self, message: SentMessage) -> dict[str, Any]:
        self._messages.setdefault(message.chat_id, []).append(message)
        await self._notify()
        return message.to_dict()

    async def _m_sendmessage(self, params: dict[str, Any], files: Any) -> Any:
        chat_id = int(params["chat_id"])
        text = self._check_text(params.get("text"), params.get("parse_mode"))
        return await self._store(SentMessage(
            self.next_message_id(chat_id), chat_id, text, parse_mode=params.get("parse_mode"),
            reply_markup=self._check_markup(params.get("reply_markup")),
            disable_notification=bool(params.get("disable_notification")),
        ))  # fmt: skip

    def _upload(
        self, params: dict[str, Any], files: dict[str, tuple[str, bytes]], field_name: str
    ) -> tuple[str, bytes]:
        value = params.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = value.removeprefix("attach://")
        for key in (field_name, value):
            if isinstance(key, str) and key in files:
                return files[key]
        raise ApiError(400, f"Bad Request: there is no {field_name} in the request")

    async def _m_sendphoto(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        chat_id = int(params["chat_id"])
        caption = self._check_text(params.get("caption"), params.get("parse_mode"), caption=True)
        filename, content = self._upload(params, files, "photo")
        return await self._store(SentMessage(
            self.next_message_id(chat_id), chat_id, caption, kind="photo", parse_mode=params.get("parse_mode"),
            reply_markup=self._check_markup(params.get("reply_markup")), photo=content, filename=filename,
        ))  # fmt: skip

    async def _m_senddocument(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        chat_id = int(params["chat_id"])
        caption = self._check_text(params.get("caption"), params.get("parse_mode"), caption=True)
        filename, content = self._upload(params, files, "document")
        return await self._store(SentMessage(
            self.next_message_id(chat_id), chat_id, caption, kind="document", parse_mode=params.get("parse_mode"),
            reply_markup=self._check_markup(params.get("reply_markup")), document=content, filename=filename,
        ))  # fmt: skip

    def _find(self, params: dict[str, Any], missing: str) -> SentMessage:
        chat_id, message_id = int(params.get("chat_id") or 0), int(params.get("message_id") or 0)
        for message in self._messages.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        raise ApiError(400, f"Bad Request: {missing}")

    async def _m_editmessagetext(self, params: dict[str, Any], files: Any) -> Any:
        message = self._find(params, "message to edit not found")
        text = self._check_text(params.get("text"), params.get("parse_mode"))
        markup = self._check_markup(params.get("reply_markup"))
        if text == message.raw and markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.edits.append(message.text)
        message.raw, message.reply_markup, message.parse_mode = text, markup, params.get("parse_mode")
        await self._notify()
        return message.to_dict()

    async def _m_editmessagereplymarkup(self, params: dict[str, Any], files: Any) -> Any:
        message = self._find(params, "message to edit not found")
        markup = self._check_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        await self._notify()
        return message.to_dict()

    async def _m_deletemessage(self, params: dict[str, Any], files: Any) -> Any:
        message = self._find(params, "message to delete not found")
        message.deleted = True
        await self._notify()
        return True

    async def _m_answercallbackquery(self, params: dict[str, Any], files: Any) -> Any:
        query_id = str(params.get("callback_query_id"))
        user_id = self._open_queries.pop(query_id, None)
        if user_id is None:
            raise ApiError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        self.answers.append({"id": query_id, "user_id": user_id, "text": params.get("text") or "",
                             "show_alert": bool(params.get("show_alert"))})  # fmt: skip
        await self._notify()
        return True
