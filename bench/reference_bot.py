"""Reference bots for ``bench/load.py``: what python-telegram-bot costs without Backstretch.

``python bench/reference_bot.py bare``    answers /routine with a routine-like message and a button.
``python bench/reference_bot.py sqlite``  the same, after one SQLite read and one write per update
                                          (aiosqlite, WAL, one connection), like a minimal bot that
                                          remembers its users.

Both use long polling, ``concurrent_updates(16)``, HTML parse mode and no rate limiter; the token and
the Bot API come from TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL, the database from REFERENCE_DB.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ContextTypes, Defaults, MessageHandler, filters

TEXT = "\n".join(
    ["<b>Today's routine</b> · about 10 minutes · balanced", ""]
    + [f"{n}. <b>Exercise number {n}</b> — 3 × 30 s hold, both sides" for n in range(1, 8)]
    + ["", "Stop if anything causes sharp pain. Tap ▶ Start for a guided session."]
)
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("▶ Start", callback_data="start:0:")]])


async def bare(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(TEXT, reply_markup=KEYBOARD)


async def with_sqlite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    db: Any = context.bot_data["db"]
    uid = update.effective_user.id
    async with db.execute("SELECT first_name, last_seen FROM users WHERE id = ?", (uid,)) as cursor:
        await cursor.fetchone()
    await db.execute(
        "INSERT INTO users (id, first_name, last_seen) VALUES (?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
        (uid, update.effective_user.first_name, time.time()),
    )
    await update.effective_message.reply_text(TEXT, reply_markup=KEYBOARD)


async def open_db(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    import aiosqlite

    db = await aiosqlite.connect(os.environ["REFERENCE_DB"], isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.execute(
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, first_name TEXT, last_seen REAL)"
    )
    app.bot_data["db"] = db


async def close_db(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await app.bot_data["db"].close()


def main(kind: str) -> None:
    builder = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .concurrent_updates(16)
    )
    if kind == "sqlite":
        builder = builder.post_init(open_db).post_shutdown(close_db)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, with_sqlite if kind == "sqlite" else bare))
    app.run_polling(poll_interval=0.0, timeout=30, allowed_updates=["message"])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bare")
