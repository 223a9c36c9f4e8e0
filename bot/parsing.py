"""Reading numbers people type and buttons send: one strict way, never an exception.

``str.isdigit`` says yes to '²', '①' and '٣', which ``int`` then refuses (or, for '٣', reads as 3);
``int`` also takes '1_0', ' +5 ' and, up to its 4,300-digit limit, numbers no one means.  Everything
that takes a number goes through ``parse_int``: ASCII digits only, a bounded length, a range check,
and None for anything else.  Times of day and time zones are read by ``bot.domain.schedule``; the
wrappers here refuse, before it runs, what is far too long or holds digits other than 0-9.
"""

from __future__ import annotations

import re
from datetime import time

from bot.domain.schedule import ZoneLookup, parse_time, parse_timezone

MAX_DIGITS = 18
"""No number the bot asks for is longer; anything longer is refused before ``int`` sees it."""
MAX_TIME_CHARS = 32
"""'07:30', '7 p.m.' and friends, with room for spaces."""
MAX_ZONE_CHARS = 64
"""The longest IANA name is 32 characters; a city or an offset is shorter."""

BARE_NUMBER = re.compile(r"^\s*[-+]?\d+([.,]\d+)?\s*$")
"""A message that is only a number (a pain score, or an attempt at one): the pain handler takes it, and
in a group it gets the pointer to the private chat."""
_INTEGER = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}")


def parse_int(text: str, low: int, high: int) -> int | None:
    """The whole number ``text`` spells in ASCII digits, if ``low <= n <= high``; otherwise None.

    Leading and trailing whitespace is ignored, a minus sign is allowed ('-1'), leading zeros are
    fine ('07'); '+7', superscripts, circled or non-Latin digits, underscores, decimals, words and
    anything over ``MAX_DIGITS`` digits are not numbers here.
    """
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def has_foreign_digits(text: str) -> bool:
    """Whether ``text`` holds a digit other than 0-9 ('²', '①', '٣'…)."""
    return any((char.isdigit() or char.isnumeric()) and not ("0" <= char <= "9") for char in text)


def parse_time_of_day(text: str) -> time | None:
    """``bot.domain.schedule.parse_time``, for text of a sensible length in ASCII digits only."""
    if len(text) > MAX_TIME_CHARS or has_foreign_digits(text):
        return None
    return parse_time(text)


def parse_zone(text: str) -> ZoneLookup:
    """``bot.domain.schedule.parse_timezone``, for text of a sensible length in ASCII digits only."""
    if len(text.strip()) > MAX_ZONE_CHARS or has_foreign_digits(text):
        return ZoneLookup(None, None)
    return parse_timezone(text)
