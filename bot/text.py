"""Escaping user and catalogue text for Telegram's HTML parse mode, and keeping replies within its limits.

- ``escape``: what Telegram's HTML needs escaped.
- ``excerpt``: the way to quote what a user typed: one line, at most ``EXCERPT_CHARS`` characters and
  a "…", escaped *after* cutting (so an entity like ``&amp;`` is never split).
- ``fit``: an HTML text cut, if need be, to Telegram's limit on the text people see (tags and
  entities do not count), with every open tag closed again; ``MESSAGE_LIMIT`` for messages,
  ``CAPTION_LIMIT`` for captions.  Lengths are counted in UTF-16 code units, Telegram's unit, so a
  text of emoji is measured as Telegram measures it.
"""

from __future__ import annotations

import html
import re
import unicodedata

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
ANSWER_LIMIT = 200
"""The toast that answers a button tap."""
EXCERPT_CHARS = 40
ELLIPSIS = "…"

# A tag, an entity, or a run of other text: the tokens of Telegram's HTML.
_TOKEN = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^<>]*>|&(?:[A-Za-z]+|#[0-9]+|#[xX][0-9A-Fa-f]+);|[^<&]+|[<&]"
)
# Characters never quoted back: controls, surrogates, and bidi overrides/isolates that would flip the
# rest of the reply.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_DANGLING = "\u200d"  # a cut must not end on a zero-width joiner (half an emoji sequence)


def escape(text: str) -> str:
    """Escape only what Telegram's HTML needs (<, > and &); apostrophes and quotes stay readable."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` UTF-16 units of plain text; never half a surrogate pair or a dangling joiner."""
    if utf16_len(text) <= limit:
        return text
    used = 0
    for end, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:end].rstrip(_DANGLING)
    return text


def excerpt(user_text: str, limit: int = EXCERPT_CHARS) -> str:
    """What a user typed, ready to quote in an HTML reply: one line, at most ``limit`` characters + "…".

    Cut first, escape after, so the quote never ends in half an entity.  Line breaks become spaces;
    control characters and bidi overrides are dropped.
    """
    kept = "".join(
        char
        for char in user_text
        if char.isspace() or (char not in _BIDI and unicodedata.category(char) not in ("Cc", "Cs"))
    )
    flat = " ".join(kept.split())
    if len(flat) > limit:
        flat = flat[:limit].rstrip(_DANGLING).rstrip() + ELLIPSIS
    return escape(flat)


def visible_length(text: str) -> int:
    """How long an HTML text is for Telegram: tags left out, entities as the character they stand for."""
    total = 0
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if match.group(2):
            continue
        total += utf16_len(html.unescape(token) if token.startswith("&") else token)
    return total


def fit(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` (Telegram HTML) unchanged if people would see at most ``limit`` units of it; else cut.

    The cut ends with "…" and closes every tag that is still open, so the result parses; it never
    splits a tag, an entity or an emoji.  Works for text that is not HTML as well, as long as it has
    no ``<`` or ``&`` (plain texts go through ``fit_plain``).
    """
    if utf16_len(text) <= limit or visible_length(text) <= limit:
        return text
    budget = limit - utf16_len(ELLIPSIS)
    out: list[str] = []
    open_tags: list[str] = []
    for match in _TOKEN.finditer(text):
        token, closing, name = match.group(0), match.group(1), match.group(2)
        if name:
            if closing:
                if name.lower() in open_tags:
                    while open_tags and open_tags.pop() != name.lower():
                        pass
                    out.append(token)
                continue
            open_tags.append(name.lower())
            out.append(token)
            continue
        shown = html.unescape(token) if token.startswith("&") else token
        size = utf16_len(shown)
        if size <= budget:
            out.append(token)
            budget -= size
            continue
        if not token.startswith(("&", "<")):
            out.append(_cut(token, budget))  # a run of text; an entity or a bare "<" or "&" stays whole
        break
    while out and not out[-1].startswith("<") and not out[-1].strip():
        out.pop()
    return "".join(out).rstrip() + ELLIPSIS + "".join(f"</{name}>" for name in reversed(open_tags))


def plain(text: str) -> str:
    """What people see of an HTML text: tags dropped, entities decoded, trimmed as Telegram trims."""
    return html.unescape(re.sub(r"<[^<>]*>", "", text)).strip()


def fit_plain(text: str, limit: int = ANSWER_LIMIT) -> str:
    """A text sent without parse mode (a button's answer): at most ``limit`` units, ending "…" if cut."""
    if utf16_len(text) <= limit:
        return text
    return _cut(text, limit - utf16_len(ELLIPSIS)).rstrip() + ELLIPSIS
