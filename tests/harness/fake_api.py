"""A fake Telegram Bot API: the transport-independent core.

``FakeBotApi.call(method, params, files)`` answers the way api.telegram.org does: an HTTP status
and the JSON body (``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ...,
"description": "Bad Request: ..."}``).  It keeps what the bot sent per chat (``SentMessage``),
long-polls ``getUpdates`` and can inject the failures real bots meet: a user who blocked the bot
(403), flood control (429 with ``retry_after``), a dropped connection, a server error.

Two transports put it behind PTB: ``transport.FakeRequest`` (in-process) and
``http_server.FakeHttpServer`` (real loopback HTTP, for ``python -m bot`` as a subprocess).

Telegram behaviours reproduced (with Telegram's own error texts where known):

- message ids are per chat and shared by the user's and the bot's messages;
- text is parsed like Telegram does it: HTML tags become entities, leading and trailing whitespace is
  trimmed, the result must be non-empty and at most 4096 characters (captions: 1024);
- ``editMessageText`` with the same text, entities *and* keyboard is rejected as "not modified"; an
  edit without ``reply_markup`` removes the inline keyboard, as in Telegram;
- editing or deleting a message that is missing or deleted, an inline button whose callback data is
  not 1-64 bytes, answering an unknown or already answered callback query: all 400;
- ``getUpdates`` confirms updates below ``offset``, honours ``allowed_updates``, long-polls up to
  ``timeout`` seconds and, like Telegram, ends an older long poll with 409 Conflict when a newer one
  arrives; it answers 409 while a webhook is set.

Deliberately stricter than Telegram: a bare ``&`` in HTML text (Telegram keeps it literally) is
rejected, because it almost always means user-provided text was not passed through ``html.escape``
(and the next user types a ``<``).  Set ``strict_html = False`` to turn that off.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)

BOT_USER: dict[str, Any] = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Backstretch",
    "username": "backstretch_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
DEFAULT_TOKEN = "123456:TEST-TOKEN"

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"

FailureKind = Literal[
    "retry_after",
    "forbidden",
    "network",
    "refused",
    "server",
    "bad_gateway",
    "lost_response",
    "reset_after",
    "timeout_after",
    "invalid_json",
]
FAILURE_KINDS: frozenset[str] = frozenset(FailureKind.__args__)  # type: ignore[attr-defined]
DELIVERED_KINDS = frozenset({"lost_response", "reset_after", "timeout_after"})
"""Failures that happen after Telegram performed the call: the effect stays, only the answer is lost."""
INVALID_JSON_BODY = b"<html><body><h1>502 Bad Gateway</h1></body></html>"

# Update types Telegram delivers when a bot never said which it wants.
DEFAULT_UPDATE_TYPES_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# ---------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------


class FakeNetworkError(Exception):
    """Raised by ``FakeBotApi.call`` for an injected network failure; each transport turns it into its own.

    ``mode`` says what the client meets: ``refused`` (the request never reached Telegram), ``reset``
    (the connection dropped after Telegram performed the call) or ``timeout`` (Telegram performed it,
    the answer never comes). ``FakeRequest`` raises what the bot's ``AiohttpRequest`` would
    (``NetworkError`` from ``aiohttp.ClientConnectorError`` / ``aiohttp.ServerDisconnectedError``,
    ``TimedOut`` from ``aiohttp.SocketTimeoutError``); ``FakeHttpServer`` drops the connection, or holds
    it without answering.
    """

    def __init__(self, message: str, mode: Literal["refused", "reset", "timeout"] = "refused") -> None:
        super().__init__(message)
        self.mode = mode

    @property
    def delivered(self) -> bool:
        return self.mode != "refused"


class FakeBadBody(Exception):
    """Raised by ``FakeBotApi.call`` for an injected answer whose body is not JSON (a proxy's HTML page);
    the transports answer ``status`` with ``payload`` as it is. The call was not performed."""

    def __init__(self, status: int, payload: bytes) -> None:
        super().__init__(f"{status}: {payload[:40]!r}")
        self.status, self.payload = status, payload


class ApiError(Exception):
    """A Bot API error answer: the HTTP status, Telegram's description and, for 429, ``retry_after``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


class TelegramHtmlError(ValueError):
    """Text that Telegram's HTML parser would reject (the reason, without "can't parse entities")."""


# ---------------------------------------------------------------------------------------------------
# Telegram's HTML: tags → entities
# ---------------------------------------------------------------------------------------------------

_SIMPLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "code": "code", "pre": "pre",
}  # fmt: skip
HTML_TAGS = frozenset({*_SIMPLE_TAGS, "a", "span", "blockquote", "tg-emoji"})
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TRIM = " \t\r\n\v\f"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _decode_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise TelegramHtmlError("Unsupported HTML entity")
    return chr(code)


def _unescape_attribute(value: str) -> str:
    return _HTML_ENTITY.sub(_decode_entity, value)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset: int  # in UTF-16 code units of the plain text
    language: str | None = None  # a <code class="language-x"> inside this <pre>


def _scan_start_tag(text: str, start: int) -> tuple[str, dict[str, str], int]:
    """Parse ``<name attr="v" flag>`` at ``start``; returns (name, attributes, index after '>')."""
    n, j = len(text), start + 1
    where = f"at byte offset {_byte_offset(text, start)}"
    while j < n and not text[j].isspace() and text[j] != ">":
        j += 1
    if j >= n:
        raise TelegramHtmlError(f"Unclosed start tag {where}")
    name = text[start + 1 : j].lower()
    if name not in HTML_TAGS:
        raise TelegramHtmlError(f'Unsupported start tag "{name}" {where}')
    attrs: dict[str, str] = {}
    while True:
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise TelegramHtmlError(f"Unclosed start tag {where}")
        if text[j] == ">":
            return name, attrs, j + 1
        k = j
        while k < n and text[k] not in "= \t\r\n>":
            k += 1
        attribute = text[j:k].lower()
        if not attribute:
            raise TelegramHtmlError(f'Empty attribute name in the tag "{name}" {where}')
        while k < n and text[k].isspace():
            k += 1
        if k >= n or text[k] != "=":
            attrs[attribute] = ""  # a flag such as <blockquote expandable>
            j = k
            continue
        k += 1
        while k < n and text[k].isspace():
            k += 1
        if k < n and text[k] in "\"'":
            close = text.find(text[k], k + 1)
            if close < 0:
                raise TelegramHtmlError(f'Unclosed end of an attribute value of the tag "{name}" {where}')
            attrs[attribute], j = _unescape_attribute(text[k + 1 : close]), close + 1
        else:
            end = k
            while end < n and not text[end].isspace() and text[end] != ">":
                end += 1
            attrs[attribute], j = _unescape_attribute(text[k:end]), end


def _entity_for(tag: _OpenTag, offset: int, length: int) -> dict[str, Any] | None:
    entity: dict[str, Any] = {"offset": offset, "length": length}
    if tag.name in _SIMPLE_TAGS:
        entity["type"] = _SIMPLE_TAGS[tag.name]
        if tag.name == "pre" and tag.language:
            entity["language"] = tag.language
    elif tag.name == "span":
        entity["type"] = "spoiler"
    elif tag.name == "a":
        url = tag.attrs.get("href", "").strip()
        if not url:
            return None  # Telegram keeps the text and drops a link without a target
        entity.update(type="text_link", url=url)
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    else:  # tg-emoji
        entity.update(type="custom_emoji", custom_emoji_id=tag.attrs.get("emoji-id", ""))
    return entity


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the plain text and its entities (offsets in UTF-16 code units).

    Raises ``TelegramHtmlError`` with Telegram's wording for what Telegram rejects: unknown tags, a bare
    ``<``, unbalanced or mismatched tags, ``<span>`` without ``class="tg-spoiler"``.  With
    ``strict_ampersand`` a bare ``&`` is rejected too (Telegram would keep it; see the module docs).
    """
    out: list[str] = []
    position = 0  # UTF-16 length of ``out``
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            match = _HTML_ENTITY.match(text, i)
            if match:
                decoded = _decode_entity(match)
                out.append(decoded)
                position += utf16_len(decoded)
                i = match.end()
                continue
            if strict_ampersand:
                raise TelegramHtmlError(
                    f'Character "&" at byte offset {_byte_offset(text, i)} must be escaped as "&amp;" '
                    "(the fake Bot API is stricter than Telegram here: unescaped user text?)"
                )
        if char != "<":
            j = i + 1
            while j < n and text[j] not in "<&":
                j += 1
            out.append(text[i:j])
            position += utf16_len(text[i:j])
            i = j
            continue
        if text.startswith("</", i):
            close = text.find(">", i)
            if close < 0:
                raise TelegramHtmlError(f"Unclosed end tag at byte offset {_byte_offset(text, i)}")
            name = text[i + 2 : close].strip().lower()
            if not stack:
                raise TelegramHtmlError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            tag = stack.pop()
            if name != tag.name:
                raise TelegramHtmlError(
                    f'Unmatched end tag at byte offset {_byte_offset(text, i)}, expected "</{tag.name}>", '
                    f'found "</{name}>"'
                )
            language = tag.attrs.get("class", "")
            if tag.name == "code" and stack and stack[-1].name == "pre" and language.startswith("language-"):
                stack[-1].language = language.removeprefix("language-")  # becomes the pre's language
            elif position > tag.offset and (entity := _entity_for(tag, tag.offset, position - tag.offset)):
                entities.append(entity)
            i = close + 1
            continue
        name, attrs, i_next = _scan_start_tag(text, i)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise TelegramHtmlError('Tag "span" must have class "tg-spoiler"')
        stack.append(_OpenTag(name, attrs, position))
        i = i_next
    if stack:
        raise TelegramHtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def check_html(text: str) -> None:
    """Raise ``TelegramHtmlError`` (a ``ValueError``) if Telegram's HTML parser would reject ``text``."""
    parse_html(text)


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading and trailing whitespace and moves the entities with the text."""
    stripped = text.strip(_TRIM)
    if stripped == text:
        return text, entities
    left = utf16_len(text) - utf16_len(text.lstrip(_TRIM))
    end_of_text = utf16_len(stripped)
    moved = []
    for entity in entities:
        start = max(entity["offset"] - left, 0)
        end = min(entity["offset"] + entity["length"] - left, end_of_text)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return stripped, moved


# ---------------------------------------------------------------------------------------------------
# Parameters: lenient decoding of what either transport delivers
# ---------------------------------------------------------------------------------------------------

JSON_FIELDS = frozenset({
    "reply_markup", "commands", "allowed_updates", "scope", "entities", "caption_entities",
    "link_preview_options", "reply_parameters", "media", "results", "options",
})  # fmt: skip
INT_FIELDS = frozenset({
    "chat_id", "message_id", "offset", "limit", "user_id", "reply_to_message_id", "message_thread_id",
    "cache_time", "max_connections", "from_chat_id", "duration", "width", "height",
})  # fmt: skip
_BOOL_PREFIXES = ("disable_", "protect_", "show_", "drop_", "allow_", "is_", "has_", "can_")
_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def decode_params(params: dict[str, Any]) -> dict[str, Any]:
    """Re-type parameters that arrived as strings (form fields), leaving python objects alone.

    Over HTTP, PTB sends every value as a string and JSON-encodes the non-strings (``"123"``,
    ``"true"``, ``'{"inline_keyboard": ...}'``); in-process they arrive as python objects already.
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str):
            stripped = value.strip()
            if key in JSON_FIELDS and stripped[:1] in ("{", "[", '"'):
                with contextlib.suppress(ValueError):
                    value = json.loads(stripped)
            elif key in INT_FIELDS and _INTEGER.fullmatch(stripped):
                value = int(stripped)
            elif key == "timeout" and _NUMBER.fullmatch(stripped):
                value = float(stripped)
            elif key.startswith(_BOOL_PREFIXES) and stripped in ("true", "false"):
                value = stripped == "true"
        out[key] = value
    return out


def _chat_id(params: dict[str, Any]) -> int:
    value = params.get("chat_id")
    if value is None or value == "":
        raise bad_request("chat_id is empty")
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("chat not found")
    return value


def _message_id(params: dict[str, Any]) -> int:
    value = params.get("message_id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("message identifier is not specified")
    return value


# ---------------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------------


class Changes:
    """A broadcast "something changed" signal that synchronous code can raise.

    ``notify()`` wakes every coroutine in ``wait_until``; they re-check their predicate.  No polling and
    no sleeping: a waiter only runs again when the fake's state changed.
    """

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.version = 0

    def notify(self) -> None:
        self.version += 1
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> None:
        """Return once ``predicate()`` is true; ``TimeoutError`` after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while not predicate():
                loop = asyncio.get_running_loop()
                if self._event is None or self._loop is not loop:  # a fake reused by another event loop
                    self._event, self._loop = asyncio.Event(), loop
                await self._event.wait()


MessageKind = Literal["text", "photo", "document"]


@dataclass(eq=False)
class SentMessage:
    """A message the bot sent, as it stands now: edits change it in place, deletion only flags it."""

    message_id: int
    chat_id: int
    text: str
    """What the person sees: the text (or caption) after Telegram parsed it — no tags, trimmed."""
    raw: str = ""
    """The text or caption exactly as the bot sent it (with the HTML tags when parse_mode is HTML)."""
    entities: list[dict[str, Any]] = field(default_factory=list)
    kind: MessageKind = "text"
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    disable_notification: bool = False
    photo: bytes | None = None
    document: bytes | None = None
    filename: str | None = None
    mime_type: str | None = None
    reply_to_message_id: int | None = None
    deleted: bool = False
    edits: list[str] = field(default_factory=list)
    """The previous texts, oldest first: one per text (or caption) edit."""
    versions: list[SentMessage] = field(default_factory=list)
    """Snapshots of every previous state (text and keyboard edits), oldest first."""
    date: int = field(default_factory=lambda: int(time.time()))
    edit_date: int | None = None

    @property
    def caption(self) -> str | None:
        return self.text if self.kind != "text" else None

    @property
    def first_version(self) -> SentMessage:
        """The message as it was first sent."""
        return self.versions[0] if self.versions else self

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """The inline keyboard as rows of (label, callback_data); url buttons have data ''."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(b.get("text", ""), b.get("callback_data", "")) for b in row] for row in rows]

    @property
    def button_labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]

    def button_data(self, label: str) -> str:
        """The callback data of the one button whose label contains ``label`` (an exact label wins)."""
        wanted = label.casefold()
        matches = [(text, data) for row in self.buttons for text, data in row if wanted in text.casefold()]
        exact = [m for m in matches if m[0].casefold() == wanted]
        if len(exact) == 1:
            return exact[0][1]
        if len(matches) != 1:
            which = "no button" if not matches else f"{len(matches)} buttons"
            raise AssertionError(
                f"{which} of message #{self.message_id} match {label!r}; its buttons are {self.button_labels}"
            )
        return matches[0][1]

    def snapshot(self) -> SentMessage:
        return dataclasses.replace(self, edits=list(self.edits), versions=[], entities=list(self.entities))

    def to_dict(self) -> dict[str, Any]:
        """The Telegram ``Message`` object, as the Bot API returns it."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": BOT_USER,
            "chat": _chat_dict(self.chat_id),
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        prefix = "" if self.kind == "text" else "caption_"
        if self.text:
            message["text" if self.kind == "text" else "caption"] = self.text
            if self.entities:
                message[f"{prefix}entities"] = self.entities
        if self.kind == "photo":
            width, height = _image_size(self.photo or b"")
            message["photo"] = [{
                "file_id": f"photo-{self.chat_id}-{self.message_id}", "file_unique_id": f"p{self.chat_id}x{self.message_id}",
                "width": width, "height": height, "file_size": len(self.photo or b""),
            }]  # fmt: skip
        elif self.kind == "document":
            message["document"] = {
                "file_id": f"document-{self.chat_id}-{self.message_id}", "file_unique_id": f"d{self.chat_id}x{self.message_id}",
                "file_name": self.filename, "mime_type": self.mime_type, "file_size": len(self.document or b""),
            }  # fmt: skip
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup  # other keyboards are not echoed back by Telegram
        return message


def _chat_dict(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private"}
    return {
        "id": chat_id,
        "type": "supergroup" if chat_id < -1_000_000_000_000 else "group",
        "title": "Group",
    }


def _image_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 800, 600


_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def _is_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


@dataclass(frozen=True)
class CallbackAnswer:
    """An ``answerCallbackQuery`` the bot made."""

    query_id: str
    user_id: int
    text: str
    show_alert: bool
    url: str | None = None


@dataclass(frozen=True)
class UserEvent:
    """Something a person did in a chat (for transcripts): a message, or a tap on a button."""

    order: float  # the message id, or just after the newest message id for a tap
    user_id: int
    first_name: str
    text: str
    kind: Literal["message", "tap"] = "message"


@dataclass(frozen=True)
class Rejection:
    """An error answer the fake gave; ``injected`` when it came from ``fail_next`` or ``block``."""

    method: str
    params: dict[str, Any]
    status: int
    description: str
    injected: bool


@dataclass
class _Failure:
    method: str
    kind: str
    times: int
    retry_after: int
    chat_id: int | None
    until: float | None = None
    """For ``fail_for``: the ``time.monotonic()`` instant the failure window ends (``times`` unused)."""


Handler = Callable[["FakeBotApi", dict[str, Any], dict[str, tuple[str, bytes]]], Awaitable[Any]]
_HANDLERS: dict[str, tuple[str, Handler]] = {}


def _api(name: str) -> Callable[[Handler], Handler]:
    """Register a Bot API method under its canonical name (lookup is case-insensitive)."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[name.lower()] = (name, handler)
        return handler

    return register


CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})  # fmt: skip
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class FakeBotApi:
    """Answers Bot API calls like Telegram and records what the bot did.

    Test-side API: ``push_update`` / ``wait_fetched`` feed updates; ``messages`` / ``visible`` /
    ``all_messages`` / ``callback_answers`` / ``chat_actions`` / ``commands`` / ``calls`` / ``rejections``
    show what happened; ``block`` / ``unblock`` / ``fail_next`` / ``latency`` inject trouble; ``changes``
    wakes waiters on every send, edit, delete, answer and fetched update.
    """

    def __init__(self, token: str = DEFAULT_TOKEN, *, strict_html: bool = True) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = dict(BOT_USER)
        self.strict_html = strict_html
        self.latency = 0.0
        """Seconds every call waits before it is answered (for benchmarks)."""
        self.changes = Changes()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        """Every call, in order: (canonical method name, decoded parameters)."""
        self.rejections: list[Rejection] = []
        self.internal_errors: list[BaseException] = []
        """Crashes of the fake itself (answered as 500): a test harness bug, never the bot's."""
        self.chat_actions: list[dict[str, Any]] = []
        self.answers: list[CallbackAnswer] = []
        self.blocked: set[int] = set()
        self.webhook_url = ""
        self.scoped_commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._messages: dict[int, list[SentMessage]] = {}
        self._sent: list[SentMessage] = []
        self._user_messages: dict[int, set[int]] = {}
        self._events: dict[int, list[UserEvent]] = {}
        self._last_ids: dict[int, int] = {}
        self._files: dict[str, tuple[str | None, bytes | None]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._fetched = 0
        self._dropped: dict[int, str] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self.waiting_polls = 0
        """How many getUpdates long polls are waiting right now."""
        self._open_queries: dict[str, int] = {}
        self._next_query_id = 1
        self._failures: list[_Failure] = []

    # --- what the bot did -------------------------------------------------------------------------

    @property
    def commands(self) -> list[dict[str, Any]]:
        """The commands set for the default scope and no language (``setMyCommands``)."""
        return self.scoped_commands.get(("default", ""), [])

    def messages(self, chat_id: int) -> list[SentMessage]:
        """The bot's messages to ``chat_id`` in order, deleted ones included (flagged)."""
        return list(self._messages.get(chat_id, []))

    def visible(self, chat_id: int) -> list[SentMessage]:
        """The bot's messages to ``chat_id`` that were not deleted."""
        return [m for m in self._messages.get(chat_id, []) if not m.deleted]

    def all_messages(self) -> list[SentMessage]:
        """Every message the bot sent, to any chat, in order."""
        return list(self._sent)

    def callback_answers(self, user_id: int) -> list[CallbackAnswer]:
        return [a for a in self.answers if a.user_id == user_id]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of ``method`` (case-insensitive), in order."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def user_events(self, chat_id: int) -> list[UserEvent]:
        return list(self._events.get(chat_id, []))

    # --- fault injection --------------------------------------------------------------------------

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: every call for this chat answers 403 until ``unblock``."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def fail_next(
        self,
        method: str,
        error: FailureKind = "retry_after",
        times: int = 1,
        retry_after: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (to ``chat_id``, if given) fail.

        ``retry_after``: 429 flood control; ``forbidden``: 403 blocked; ``server``: 500;
        ``bad_gateway``: 502; ``invalid_json``: 200 with an HTML body, not performed;
        ``network`` / ``refused``: the connection is refused or reset before the request reaches
        Telegram (not performed);
        ``lost_response`` / ``reset_after``: Telegram performs the call, then the connection drops
        (a retry then sends twice);
        ``timeout_after``: Telegram performs the call, then the client times out waiting.
        """
        self._check(error, retry_after)
        if times < 1:
            raise ValueError("times must be at least 1")
        self._failures.append(_Failure(method.lower(), error, times, retry_after, chat_id))

    def fail_for(
        self,
        method: str,
        error: FailureKind,
        seconds: float,
        retry_after: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make every call of ``method`` (to ``chat_id``, if given) fail for the next ``seconds`` of
        real time (``time.monotonic``); the kinds are those of ``fail_next``."""
        self._check(error, retry_after)
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        until = time.monotonic() + seconds
        self._failures.append(_Failure(method.lower(), error, 1, retry_after, chat_id, until))

    @staticmethod
    def _check(error: str, retry_after: int) -> None:
        if error not in FAILURE_KINDS:
            raise ValueError(f"unknown failure {error!r}; use one of {sorted(FAILURE_KINDS)}")
        if retry_after < 1:
            raise ValueError("retry_after must be at least 1 (PTB ignores retry_after=0)")

    def clear_failures(self) -> None:
        self._failures.clear()

    # --- feeding updates --------------------------------------------------------------------------

    def next_message_id(self, chat_id: int) -> int:
        """Reserve the next message id of a chat (user and bot messages share the sequence)."""
        self._last_ids[chat_id] = self._last_ids.get(chat_id, 0) + 1
        return self._last_ids[chat_id]

    def next_callback_query_id(self) -> str:
        query_id = str(4_000_000_000_000 + self._next_query_id)
        self._next_query_id += 1
        return query_id

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for ``getUpdates`` (any ``update_id`` is replaced); returns its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {**update, "update_id": update_id}
        self._note_incoming(update)
        self._updates.append(update)
        self.changes.notify()
        return update_id

    def _note_incoming(self, update: dict[str, Any]) -> None:
        message = update.get("message")
        if message:
            chat_id, sender = message["chat"]["id"], message.get("from", {})
            self._user_messages.setdefault(chat_id, set()).add(message["message_id"])
            self._last_ids[chat_id] = max(self._last_ids.get(chat_id, 0), message["message_id"])
            text = message.get("text") or message.get("caption") or "(no text)"
            event = UserEvent(message["message_id"], sender.get("id", 0), sender.get("first_name", "?"), text)
            self._events.setdefault(chat_id, []).append(event)
        query = update.get("callback_query")
        if query:
            self._open_queries[str(query["id"])] = query["from"]["id"]
            chat = (query.get("message") or {}).get("chat")
            if chat:
                order = self._last_ids.get(chat["id"], 0) + 0.5
                label = _label_for(query.get("message") or {}, query.get("data", ""))
                event = UserEvent(
                    order, query["from"]["id"], query["from"].get("first_name", "?"), label, "tap"
                )
                self._events.setdefault(chat["id"], []).append(event)

    def update_type(self, update: dict[str, Any]) -> str:
        return next((key for key in update if key != "update_id"), "")

    async def wait_fetched(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until a ``getUpdates`` answer contained ``update_id``; AssertionError if it never does."""

        def settled() -> bool:
            return self._fetched >= update_id or update_id in self._dropped

        try:
            await self.changes.wait_until(settled, timeout)
        except TimeoutError:
            polls = len(self.calls_to("getUpdates"))
            raise AssertionError(
                f"update {update_id} was not fetched within {timeout} s ({polls} getUpdates calls so far): "
                "is the application polling this fake?"
            ) from None
        if update_id in self._dropped:
            raise AssertionError(f"update {update_id} was never delivered: {self._dropped[update_id]}")

    # --- the API ----------------------------------------------------------------------------------

    async def call(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call: (HTTP status, Telegram's JSON body).

        Raises ``FakeNetworkError`` for an injected network failure and ``FakeBadBody`` for an
        injected answer that is not JSON.
        """
        params = decode_params(params)
        canonical, handler = _HANDLERS.get(method.lower(), (method, None))
        self.calls.append((canonical, params))
        if self.latency:
            await asyncio.sleep(self.latency)
        failure = self._take_failure(canonical.lower(), params)
        delivered_failure = failure is not None and failure.kind in DELIVERED_KINDS
        try:
            if failure is not None and not delivered_failure:
                self._raise_injected(failure, canonical)
            chat_id = params.get("chat_id")
            if chat_id in self.blocked:
                raise ApiError(403, BLOCKED)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(self, params, files or {})
        except ApiError as exc:
            injected = (failure is not None and not delivered_failure) or exc.description == BLOCKED
            self.rejections.append(Rejection(canonical, params, exc.code, exc.description, injected))
            return exc.code, exc.body()
        except (FakeNetworkError, FakeBadBody, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug in the fake: make it loud, not a mysterious NetworkError
            log.exception("the fake Bot API crashed in %s", canonical)
            self.internal_errors.append(exc)
            return 500, {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: fake crashed: {exc!r}",
            }
        if failure is not None:  # done, but the answer never arrives
            if failure.kind == "timeout_after":
                raise FakeNetworkError(f"injected timeout after {canonical} was performed", "timeout")
            raise FakeNetworkError(f"injected lost response of {canonical}", "reset")
        return 200, {"ok": True, "result": result}

    def _take_failure(self, name: str, params: dict[str, Any]) -> _Failure | None:
        now = time.monotonic()
        for failure in list(self._failures):
            if failure.until is not None and failure.until <= now:
                self._failures.remove(failure)
                continue
            if failure.method == name and failure.chat_id in (None, params.get("chat_id")):
                if failure.until is None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _raise_injected(failure: _Failure, method: str) -> None:
        if failure.kind in ("network", "refused"):
            raise FakeNetworkError(f"injected network failure in {method}", "refused")
        if failure.kind == "invalid_json":
            raise FakeBadBody(200, INVALID_JSON_BODY)
        if failure.kind == "forbidden":
            raise ApiError(403, BLOCKED)
        if failure.kind == "server":
            raise ApiError(500, "Internal Server Error")
        if failure.kind == "bad_gateway":
            raise ApiError(502, "Bad Gateway")
        raise ApiError(429, f"Too Many Requests: retry after {failure.retry_after}", failure.retry_after)

    # --- getUpdates and webhooks ------------------------------------------------------------------

    @_api("getMe")
    async def _get_me(self, params: dict[str, Any], files: Any) -> Any:
        return self.bot_user

    @_api("getUpdates")
    async def _get_updates(self, params: dict[str, Any], files: Any) -> Any:
        if self.webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = params.get("offset") or 0
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._confirm(int(offset))
        self._poll_generation += 1
        generation = self._poll_generation
        self.changes.notify()  # an older long poll now ends with 409, as in Telegram
        if not self._deliverable() and timeout > 0:
            self.waiting_polls += 1
            self.changes.notify()
            try:
                await self.changes.wait_until(
                    lambda: self._deliverable() or self._poll_generation != generation, timeout
                )
            except TimeoutError:
                pass
            finally:
                self.waiting_polls -= 1
                self.changes.notify()
        if self._poll_generation != generation:
            raise ApiError(409, CONFLICT_POLL)
        batch = self._updates[:limit]
        if batch:
            self._fetched = max(self._fetched, batch[-1]["update_id"])
            self.changes.notify()
        return batch

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self) -> bool:
        """Drop the queued updates the bot did not ask for, then say whether any remain."""
        kept = []
        for update in self._updates:
            kind = self.update_type(update)
            if self._allowed_updates is not None and kind not in self._allowed_updates:
                self._drop(
                    update, f"its type {kind!r} is not in allowed_updates {sorted(self._allowed_updates)}"
                )
            elif self._allowed_updates is None and kind in DEFAULT_UPDATE_TYPES_EXCLUDED:
                self._drop(update, f"Telegram only sends {kind!r} updates when allowed_updates asks for them")
            else:
                kept.append(update)
        self._updates = kept
        return bool(kept)

    def _drop(self, update: dict[str, Any], reason: str) -> None:
        self._dropped[update["update_id"]] = reason
        self.changes.notify()

    @_api("deleteWebhook")
    async def _delete_webhook(self, params: dict[str, Any], files: Any) -> Any:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            for update in self._updates:
                self._drop(update, "deleteWebhook(drop_pending_updates=True) dropped it")
            self._updates = []
        return True

    @_api("setWebhook")
    async def _set_webhook(self, params: dict[str, Any], files: Any) -> Any:
        self.webhook_url = str(params.get("url") or "")
        return True

    @_api("getWebhookInfo")
    async def _get_webhook_info(self, params: dict[str, Any], files: Any) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @_api("close")
    async def _close(self, params: dict[str, Any], files: Any) -> Any:
        return True

    @_api("logOut")
    async def _log_out(self, params: dict[str, Any], files: Any) -> Any:
        return True

    # --- commands ---------------------------------------------------------------------------------

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        key = "default" if scope == {"type": "default"} else json.dumps(scope, sort_keys=True)
        return key, str(params.get("language_code") or "")

    @_api("setMyCommands")
    async def _set_my_commands(self, params: dict[str, Any], files: Any) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.scoped_commands[self._scope_key(params)] = [dict(c) for c in commands]
        return True

    @_api("getMyCommands")
    async def _get_my_commands(self, params: dict[str, Any], files: Any) -> Any:
        return self.scoped_commands.get(self._scope_key(params), [])

    @_api("deleteMyCommands")
    async def _delete_my_commands(self, params: dict[str, Any], files: Any) -> Any:
        self.scoped_commands.pop(self._scope_key(params), None)
        return True

    # --- sending ----------------------------------------------------------------------------------

    def _parse_text(
        self, text: Any, parse_mode: Any, *, caption: bool = False
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = "" if text is None else str(text)
        if str(parse_mode or "").upper() == "HTML":
            try:
                plain, entities = parse_html(raw, strict_ampersand=self.strict_html)
            except TelegramHtmlError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        else:
            plain, entities = raw, []
        plain, entities = _trim(plain, entities)
        if not caption and not plain:
            raise bad_request("message text is empty")
        if len(plain) > (1024 if caption else 4096):
            raise bad_request("message caption is too long" if caption else "message is too long")
        return plain, entities

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        if not markup:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not str(button.get("text", "")):
                    raise bad_request("can't parse inline keyboard button: Text must be non-empty")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                if len(button) == 1:
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
        return dict(markup)

    def _reply_target(self, chat_id: int, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters") or {}
        target = reply.get("message_id") if isinstance(reply, dict) else None
        target = target or params.get("reply_to_message_id")
        if not target:
            return None
        exists = int(target) in self._user_messages.get(chat_id, set()) or any(
            m.message_id == int(target) and not m.deleted for m in self._messages.get(chat_id, [])
        )
        allow = params.get("allow_sending_without_reply") or (
            isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        )
        if not exists and not allow:
            raise bad_request("message to be replied not found")
        return int(target) if exists else None

    def _store(self, message: SentMessage) -> dict[str, Any]:
        self._messages.setdefault(message.chat_id, []).append(message)
        self._sent.append(message)
        self.changes.notify()
        return message.to_dict()

    def _new_message(self, params: dict[str, Any], text_field: str, kind: MessageKind) -> SentMessage:
        chat_id = _chat_id(params)
        text, entities = self._parse_text(
            params.get(text_field), params.get("parse_mode"), caption=kind != "text"
        )
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        return SentMessage(
            message_id=0, chat_id=chat_id, text=text, raw=str(params.get(text_field) or ""), entities=entities,
            kind=kind, parse_mode=params.get("parse_mode"), reply_markup=markup,
            disable_notification=bool(params.get("disable_notification")), reply_to_message_id=reply_to,
        )  # fmt: skip

    @_api("sendMessage")
    async def _send_message(self, params: dict[str, Any], files: Any) -> Any:
        message = self._new_message(params, "text", "text")
        message.message_id = self.next_message_id(message.chat_id)
        return self._store(message)

    def _upload(
        self, params: dict[str, Any], files: dict[str, tuple[str, bytes]], name: str
    ) -> tuple[str | None, bytes | None]:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            key = value.removeprefix("attach://")
            if key not in files:
                raise bad_request(f"file {key!r} referenced by {name} is missing in the request")
            filename, content = files[key]
        elif name in files:
            filename, content = files[name]
        elif isinstance(value, str) and value in self._files:
            return self._files[value]
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            return value.rsplit("/", 1)[-1] or None, None
        elif value:
            raise bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise bad_request(f"there is no {name} in the request")
        if not content:
            raise bad_request("file must be non-empty")
        return filename, content

    @_api("sendPhoto")
    async def _send_photo(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        message = self._new_message(params, "caption", "photo")
        message.filename, message.photo = self._upload(params, files, "photo")
        if message.photo is not None and not _is_image(message.photo):
            raise bad_request("IMAGE_PROCESS_FAILED")
        message.message_id = self.next_message_id(message.chat_id)
        result = self._store(message)
        self._files[result["photo"][0]["file_id"]] = (message.filename, message.photo)
        return result

    @_api("sendDocument")
    async def _send_document(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        message = self._new_message(params, "caption", "document")
        message.filename, message.document = self._upload(params, files, "document")
        message.mime_type = mimetypes.guess_type(message.filename or "")[0] or "application/octet-stream"
        message.message_id = self.next_message_id(message.chat_id)
        result = self._store(message)
        self._files[result["document"]["file_id"]] = (message.filename, message.document)
        return result

    # --- sendAnimation (issue 13: exercise pictures) ------------------------------------------------
    # Kept as a "document" message carrying the GIF bytes, as Telegram does (an animation message has a
    # ``document`` field too); the answer adds the ``animation`` object, whose file_id can be resent.

    @_api("sendAnimation")
    async def _send_animation(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        message = self._new_message(params, "caption", "document")
        message.filename, message.document = self._upload(params, files, "animation")
        if message.document is not None and not _is_image(message.document):
            raise bad_request("wrong type of the web page content")
        message.mime_type = "image/gif"
        message.message_id = self.next_message_id(message.chat_id)
        result = self._store(message)
        animation = {
            "file_id": f"animation-{message.chat_id}-{message.message_id}",
            "file_unique_id": f"a{message.chat_id}x{message.message_id}",
            "width": 480, "height": 360, "duration": 3, "file_name": message.filename,
            "mime_type": "video/mp4", "file_size": len(message.document or b""),
        }  # fmt: skip
        result["animation"] = animation
        self._files[animation["file_id"]] = (message.filename, message.document)
        self._files[result["document"]["file_id"]] = (message.filename, message.document)
        return result

    # --- end of sendAnimation -------------------------------------------------------------------------

    @_api("sendChatAction")
    async def _send_chat_action(self, params: dict[str, Any], files: Any) -> Any:
        chat_id = _chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append({"chat_id": chat_id, "action": params["action"]})
        return True

    # --- editing and deleting ---------------------------------------------------------------------

    def _find(self, params: dict[str, Any], verb: Literal["edit", "delete"]) -> SentMessage | None:
        """The bot message addressed by chat_id + message_id; None for a (deletable) user message."""
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # the bot has no inline messages
        chat_id, message_id = _chat_id(params), _message_id(params)
        for message in self._messages.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        if message_id in self._user_messages.get(chat_id, set()):
            if verb == "edit":
                raise bad_request("message can't be edited")
            return None
        raise bad_request(f"message to {verb} not found")

    def _edit(self, message: SentMessage, **changes: Any) -> dict[str, Any]:
        old = (message.text, message.entities, message.reply_markup)
        new = (
            changes.get("text", message.text),
            changes.get("entities", message.entities),
            changes["reply_markup"],
        )
        if old == new:
            raise ApiError(400, NOT_MODIFIED)
        message.versions.append(message.snapshot())
        if "text" in changes:
            message.edits.append(message.text)
        for name, value in changes.items():
            setattr(message, name, value)
        message.edit_date = int(time.time())
        self.changes.notify()
        return message.to_dict()

    @_api("editMessageText")
    async def _edit_message_text(self, params: dict[str, Any], files: Any) -> Any:
        message = self._find(params, "edit")
        assert message is not None
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text, entities = self._parse_text(params.get("text"), params.get("parse_mode"))
        return self._edit(
            message, text=text, entities=entities, raw=str(params.get("text")), parse_mode=params.get("parse_mode"),
            reply_markup=self._check_markup(params.get("reply_markup")),
        )  # fmt: skip

    @_api("editMessageCaption")
    async def _edit_message_caption(self, params: dict[str, Any], files: Any) -> Any:
        message = self._find(params, "edit")
        assert message is not None
        if message.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        text, entities = self._parse_text(params.get("caption"), params.get("parse_mode"), caption=True)
        return self._edit(
            message, text=text, entities=entities, raw=str(params.get("caption") or ""),
            parse_mode=params.get("parse_mode"), reply_markup=self._check_markup(params.get("reply_markup")),
        )  # fmt: skip

    @_api("editMessageReplyMarkup")
    async def _edit_message_reply_markup(self, params: dict[str, Any], files: Any) -> Any:
        message = self._find(params, "edit")
        assert message is not None
        return self._edit(message, reply_markup=self._check_markup(params.get("reply_markup")))

    @_api("deleteMessage")
    async def _delete_message(self, params: dict[str, Any], files: Any) -> Any:
        message = self._find(params, "delete")
        if message is None:  # a user's message: bots may delete incoming messages in private chats
            self._user_messages[_chat_id(params)].discard(_message_id(params))
        else:
            message.deleted = True
        self.changes.notify()
        return True

    @_api("deleteMessages")
    async def _delete_messages(self, params: dict[str, Any], files: Any) -> Any:
        """1-100 messages of one chat at once; Telegram skips the ones it cannot find or delete."""
        ids = params.get("message_ids")
        if isinstance(ids, str):
            ids = json.loads(ids)
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a list of 1-100 message identifiers")
        chat_id = _chat_id(params)
        found = [m for m in self.messages(chat_id) if m.message_id in {int(i) for i in ids} and not m.deleted]
        for message in found:
            message.deleted = True
        self.changes.notify()
        if not found:
            raise bad_request("message to delete not found")
        return True

    # --- callback queries -------------------------------------------------------------------------

    @_api("answerCallbackQuery")
    async def _answer_callback_query(self, params: dict[str, Any], files: Any) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        text = str(params.get("text") or "")
        if query_id not in self._open_queries:
            raise ApiError(400, QUERY_TOO_OLD)
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        user_id = self._open_queries.pop(query_id)
        answer = CallbackAnswer(query_id, user_id, text, bool(params.get("show_alert")), params.get("url"))
        self.answers.append(answer)
        self.changes.notify()
        return True


def _label_for(message: dict[str, Any], data: str) -> str:
    """The label of the button carrying ``data`` in a message dict (or the raw data, for forged taps)."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button.get("callback_data") == data:
                return f"[{button.get('text', '')}]"
    return f"data {data!r}"


__all__ = [
    "BOT_USER",
    "DEFAULT_TOKEN",
    "NOT_MODIFIED",
    "QUERY_TOO_OLD",
    "ApiError",
    "CallbackAnswer",
    "Changes",
    "FakeBotApi",
    "FakeNetworkError",
    "Rejection",
    "SentMessage",
    "TelegramHtmlError",
    "UserEvent",
    "check_html",
    "decode_params",
    "parse_html",
    "utf16_len",
]
