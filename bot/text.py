"""Escaping user and catalogue text for Telegram's HTML parse mode."""

from __future__ import annotations

import html


def escape(text: str) -> str:
    """Escape only what Telegram's HTML needs (<, > and &); apostrophes and quotes stay readable."""
    return html.escape(text, quote=False)
