"""Exercise pictures in Telegram: rendered once, uploaded once, then sent by file_id.

``ExercisePictures.send_exercise_picture`` is the one call the handlers (and the session card) need:

* the picture is drawn by ``content.figures`` in a worker thread and cached on disk under the data
  folder, keyed by the hash of the pose data and the renderer version;
* the first send uploads the file and stores the ``file_id`` Telegram returns (table ``media_files``);
  every later send, to any chat, reuses it;
* if drawing fails (or the exercise has no poses), the caption goes out as plain text instead.

A caption longer than Telegram's 1,024 characters is sent as a text message right after the picture.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from telegram import Bot, InputFile, Message
from telegram.error import BadRequest

from bot.clock import Clock
from bot.config import Settings
from content.catalogue import Exercise
from content.figures import Kind, cached_image
from storage.db import Database
from storage.media import MediaRepository

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024
"""Telegram's limit for a photo or animation caption, in UTF-16 code units after entity parsing."""
PICTURES_FOLDER = "pictures"
_TAG = re.compile(r"<[^>]*>")
_STALE_FILE = ("wrong file identifier", "file_id", "file reference", "wrong remote file", "FILE_ID_INVALID")


def visible_length(text: str) -> int:
    """The length Telegram counts for an HTML caption: tags removed, entities decoded, UTF-16 units."""
    plain = html.unescape(_TAG.sub("", text)).strip()
    return len(plain.encode("utf-16-le")) // 2


def caption_fits(text: str) -> bool:
    return visible_length(text) <= CAPTION_LIMIT


def data_folder(settings: Settings, environ: Mapping[str, str] | None = None) -> Path:
    """Where the bot keeps its files: ``DATA_DIR``, else the SQLite file's folder, else a temp folder."""
    env = os.environ if environ is None else environ
    configured = getattr(settings, "data_dir", None) or env.get("DATA_DIR", "").strip()
    if configured:
        return Path(configured)
    url = make_url(settings.database_url)
    database = url.database
    if (
        url.get_backend_name() == "sqlite"
        and database
        and database != ":memory:"
        and not database.startswith("file:")
    ):
        return Path(database).parent
    return Path(tempfile.gettempdir()) / "backstretch"


class ExercisePictures:
    """Renders, caches, uploads and re-sends exercise pictures."""

    def __init__(self, db: Database, folder: Path, clock: Clock) -> None:
        self.db = db
        self.folder = folder
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._pictures: dict[str, tuple[Path, str, Kind]] = {}
        """Each exercise's drawn picture, once found on disk (the key is a hash of what it shows)."""
        self._file_ids: dict[str, str] = {}
        """Telegram's file_id of each picture key, once read from ``media_files`` or uploaded: a file_id
        never changes, so a send by file_id needs no database (a stale one is forgotten and replaced)."""

    @classmethod
    def for_settings(cls, settings: Settings, db: Database, clock: Clock) -> ExercisePictures:
        return cls(db, data_folder(settings) / PICTURES_FOLDER, clock)

    async def picture(self, exercise_id: str) -> tuple[Path, str, Kind]:
        """The cached picture file (rendered in a worker thread the first time), its key and kind."""
        found = self._pictures.get(exercise_id)
        if found is None:
            found = self._pictures[exercise_id] = await asyncio.to_thread(
                cached_image, exercise_id, self.folder
            )
        return found

    async def send_exercise_picture(
        self,
        bot: Bot,
        chat_id: int,
        exercise: Exercise,
        caption: str | None = None,
        reply_markup: Any = None,
        **kwargs: Any,
    ) -> Message | None:
        """Send ``exercise``'s picture with ``caption`` (HTML) and ``reply_markup``.

        Returns the message that carries the caption and the keyboard: the picture, or the text message
        that follows it when the caption is too long for one, or the text alone when the picture cannot
        be drawn. None only when nothing was sent (no picture and no caption). ``kwargs`` go to every
        send call (``message_thread_id``, ``disable_notification``...). Telegram errors other than a
        stale file_id (blocked, flood control) reach the caller, as they would from ``send_message``.
        """
        fits = caption is None or caption_fits(caption)
        try:
            path, key, kind = await self.picture(exercise.id)
        except Exception:
            log.exception("could not draw the picture of %s; sending text only", exercise.id)
            return await self._text(bot, chat_id, caption, reply_markup, kwargs)
        try:
            message = await self._send_file(
                bot, chat_id, path, key, kind,
                caption=caption if fits else None, reply_markup=reply_markup if fits else None, extra=kwargs,
            )  # fmt: skip
        except BadRequest as exc:
            if caption is None or not _is_file_problem(exc):
                raise
            log.warning(
                "Telegram refused the picture of %s (%s); sending text only", exercise.id, exc.message
            )
            return await self._text(bot, chat_id, caption, reply_markup, kwargs)
        if fits:
            return message
        return await self._text(bot, chat_id, caption, reply_markup, kwargs)

    @staticmethod
    async def _text(
        bot: Bot, chat_id: int, caption: str | None, reply_markup: Any, extra: Mapping[str, Any]
    ) -> Message | None:
        if caption is None:
            return None
        return await bot.send_message(chat_id, caption, reply_markup=reply_markup, **extra)

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def _send_file(
        self, bot: Bot, chat_id: int, path: Path, key: str, kind: Kind, *, caption: str | None,
        reply_markup: Any, extra: Mapping[str, Any],
    ) -> Message:  # fmt: skip
        async def send(media: str | InputFile) -> Message:
            if kind == "gif":
                return await bot.send_animation(
                    chat_id, animation=media, caption=caption, reply_markup=reply_markup, **extra
                )
            return await bot.send_photo(
                chat_id, photo=media, caption=caption, reply_markup=reply_markup, **extra
            )

        known = await self._known(key)
        if known is not None:
            try:
                return await send(known)
            except BadRequest as exc:
                if not _is_file_problem(exc):
                    raise
                log.info(
                    "stored file_id for %s no longer works (%s); uploading again", path.name, exc.message
                )
                await self._forget(key)
        async with self._lock(key):  # the first upload of a picture happens once, not once per chat
            known = await self._known(key)
            if known is not None:
                return await send(known)
            data = await asyncio.to_thread(path.read_bytes)
            message = await send(InputFile(data, filename=f"{path.stem.rsplit('-', 1)[0]}.{kind}"))
            file_id = _file_id(message, kind)
            if file_id is not None:
                async with self.db.transaction() as repos:
                    await MediaRepository(repos.session).remember(key, file_id, self.clock.now())
                self._file_ids[key] = file_id
            return message

    async def _known(self, key: str) -> str | None:
        known = self._file_ids.get(key)
        if known is None:
            async with self.db.read() as repos:
                known = await MediaRepository(repos.session).file_id(key)
            if known is not None:
                self._file_ids[key] = known
        return known

    async def _forget(self, key: str) -> None:
        self._file_ids.pop(key, None)
        async with self.db.transaction() as repos:
            await MediaRepository(repos.session).forget(key)


def _file_id(message: Message, kind: Kind) -> str | None:
    if kind == "gif":
        media = message.animation or message.document
        return media.file_id if media is not None else None
    return message.photo[-1].file_id if message.photo else None


def _is_file_problem(exc: BadRequest) -> bool:
    text = exc.message.lower()
    return any(marker.lower() in text for marker in (*_STALE_FILE, "image_process_failed", "wrong type"))
