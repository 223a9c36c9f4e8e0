"""Reminder due-time arithmetic and the parsing of times and time zones people type. Pure.

DST rules: a local time that does not exist on a spring-forward day fires at the first valid minute
after the gap; an ambiguous local time on a fall-back day fires once, at its first occurrence. There
is at most one occurrence per local date.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

ONE_MINUTE = timedelta(minutes=1)
MAX_OFFSET_HOURS = 14
MAX_WEST_WHOLE_HOURS = 12
"""Etc/GMT+12 is the westernmost fixed zone; no place uses UTC-13 or UTC-14."""

_SUFFIX = re.compile(r"\s*([ap])\.?\s*m\.?$")
_CLOCK = re.compile(r"(\d{1,2})(?:\s*[:.h]\s*(\d{2})|\s*h)?")
_COMPACT = re.compile(r"(\d{2})(\d{2})")
_OFFSET = re.compile(r"(?:utc|gmt)?([+-])(\d{1,2})(?::?(\d{2}))?")
_UTC_NAMES = frozenset({"utc", "gmt", "z", "zulu", "utc0", "gmt0", "utc+0", "utc-0", "gmt+0", "gmt-0"})
_ETC_FIXED = re.compile(r"Etc/GMT([+-])(\d+)")
_NOT_REGIONS = ("Etc/", "SystemV/", "posix/", "right/")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Offsets that are not whole hours, each with a representative IANA zone (its standard offset).
_ODD_OFFSETS: dict[tuple[int, int], str] = {
    (-9, -30): "Pacific/Marquesas",
    (-3, -30): "America/St_Johns",
    (3, 30): "Asia/Tehran",
    (4, 30): "Asia/Kabul",
    (5, 30): "Asia/Kolkata",
    (5, 45): "Asia/Kathmandu",
    (6, 30): "Asia/Yangon",
    (8, 45): "Australia/Eucla",
    (9, 30): "Australia/Darwin",
    (10, 30): "Australia/Lord_Howe",
    (12, 45): "Pacific/Chatham",
}


# --- Due times ------------------------------------------------------------------------------------


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("an aware datetime is required")


def _exists(wall: datetime) -> bool:
    """True unless ``wall`` (aware, in its zone) falls in a spring-forward gap."""
    back = wall.astimezone(UTC).astimezone(wall.tzinfo)
    return back.replace(tzinfo=None) == wall.replace(tzinfo=None)


def _after_gap(wall: datetime) -> datetime:
    """The first whole minute after ``wall`` (which does not exist) that exists on the local clock."""
    tz, naive = wall.tzinfo, wall.replace(tzinfo=None, second=0, microsecond=0)
    for _ in range(3 * 24 * 60):  # gaps are an hour or less; Samoa once skipped a whole day
        naive += ONE_MINUTE
        probe = naive.replace(tzinfo=tz)
        if _exists(probe):
            return probe.astimezone(UTC)
    raise AssertionError(f"no valid local time within three days after {wall}")  # pragma: no cover


def occurrence_on(local_day: date, local_time: time, tz: ZoneInfo) -> datetime:
    """The instant (UTC) at which the wall clock in ``tz`` shows ``local_time`` on ``local_day``.

    In a spring-forward gap: the first valid minute after it (02:30 → 03:00). On a fall-back day:
    the first of the two (fold=0).
    """
    wall = datetime.combine(local_day, local_time.replace(tzinfo=None, fold=0), tzinfo=tz)
    return wall.astimezone(UTC) if _exists(wall) else _after_gap(wall)


def next_occurrence(local_time: time, tz: ZoneInfo, after: datetime) -> datetime:
    """The first instant (UTC) strictly after ``after`` (aware) at which ``tz`` shows ``local_time``.

    One occurrence per local date: a date whose time falls in a gap that runs into the next date
    (a skipped day) is skipped rather than firing twice on the next date.
    """
    _require_aware(after)
    start = local_date(after, tz) - timedelta(days=1)
    for offset in range(5):
        day = start + timedelta(days=offset)
        candidate = occurrence_on(day, local_time, tz)
        if candidate > after and local_date(candidate, tz) == day:
            return candidate
    raise AssertionError("unreachable: a local time occurs at least once in three days")  # pragma: no cover


def local_date(at: datetime, tz: ZoneInfo) -> date:
    """The date on the wall calendar in ``tz`` at the instant ``at`` (aware)."""
    _require_aware(at)
    return at.astimezone(tz).date()


def zone_label(name: str) -> str:
    """A zone name for people: 'Etc/GMT-2' (POSIX signs are inverted) reads 'UTC+2'."""
    match = _ETC_FIXED.fullmatch(name)
    if match and match.group(2) != "0":
        return f"UTC{'-' if match.group(1) == '+' else '+'}{int(match.group(2))}"
    return "UTC" if match else name


def format_local(at: datetime, tz: ZoneInfo) -> str:
    """E.g. 'Tue 24 Nov, 07:30 (Europe/Berlin)'; locale-independent."""
    _require_aware(at)
    local = at.astimezone(tz)
    day = f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"
    return f"{day}, {local:%H:%M} ({zone_label(tz.key)})"


# --- Times people type ----------------------------------------------------------------------------


def parse_time(text: str) -> time | None:
    """A forgiving time of day, or None.

    Accepts 07:30, 7:30, 07.30, 7h30, 7h, 0730, 7, 7am, 7 am, 7:30pm, 7 p.m., 12am (00:00), 12pm
    (12:00), 19:15. Minutes need two digits; with am/pm the hour must be 1-12.
    """
    text = text.strip().lower()
    suffix = _SUFFIX.search(text)
    meridiem = suffix.group(1) if suffix else None
    if suffix:
        text = text[: suffix.start()]
    match = _COMPACT.fullmatch(text) or _CLOCK.fullmatch(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


# --- Time zones people type -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZoneLookup:
    """A parsed time zone: ``zone`` and its IANA key ``name``, or None with up to 3 ``suggestions``."""

    zone: ZoneInfo | None
    name: str | None
    """The IANA key to store (``ZoneInfo(name)`` gives ``zone``); show it with ``zone_label``."""
    suggestions: tuple[str, ...] = ()


def _fold(text: str) -> str:
    """Lower case without accents, spaces, underscores or hyphens: 'São Paulo' → 'saopaulo'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[\s_\-]+", "", text)


@cache
def _zone_names() -> frozenset[str]:
    """Every IANA key this system knows (read once)."""
    return frozenset(available_timezones())


@cache
def _exact_names() -> dict[str, str]:
    """Lower-cased IANA key with a slash ('europe/berlin', 'etc/gmt-2') → key."""
    return {name.lower(): name for name in _zone_names() if "/" in name}


@cache
def _folded_names() -> dict[str, str]:
    """Folded full names, then folded city names (the last part), then one-word legacy keys → key.

    When two zones share a city name, the one with more path parts wins (America/Argentina/Cordoba
    over America/Cordoba), then the alphabetically first. One-word keys that look like abbreviations
    (EST, CET, EST5EDT) are left out: EST never follows daylight saving time, New York does.
    """
    regional = sorted(
        (n for n in _zone_names() if "/" in n and not n.startswith(_NOT_REGIONS)),
        key=lambda n: (-n.count("/"), n),
    )
    legacy = sorted(
        n for n in _zone_names() if "/" not in n and not n.isupper() and n not in ("Factory", "localtime")
    )
    names: dict[str, str] = {}
    for name in regional:
        names.setdefault(_fold(name), name)
    for name in regional:
        names.setdefault(_fold(name.rsplit("/", 1)[1]), name)
    for name in legacy:
        names.setdefault(_fold(name), name)
    return names


def _parse_offset(text: str) -> ZoneLookup | None:
    """'UTC+2', 'GMT-03:30', '+05:45' → a zone; None when ``text`` is not an offset at all."""
    match = _OFFSET.fullmatch(text)
    if not match:
        return None
    sign = 1 if match.group(1) == "+" else -1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if minutes >= 60 or hours * 60 + minutes > MAX_OFFSET_HOURS * 60:
        return ZoneLookup(None, None)
    if minutes == 0:
        if hours == 0:
            return ZoneLookup(ZoneInfo("UTC"), "UTC")
        if sign < 0 and hours > MAX_WEST_WHOLE_HOURS:
            return ZoneLookup(None, None)
        name = f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"  # POSIX: the sign is inverted
        return ZoneLookup(ZoneInfo(name), name)
    odd = _ODD_OFFSETS.get((sign * hours, sign * minutes))
    return ZoneLookup(ZoneInfo(odd), odd) if odd else ZoneLookup(None, None)


def parse_timezone(text: str) -> ZoneLookup:
    """A time zone as people type it, or None with up to 3 suggestions.

    Accepts IANA names in any case ('europe/berlin'), UTC and GMT, offsets ('UTC+2', 'utc-03:30',
    'GMT+5:45', '+02:00'; whole hours give Etc/GMT∓N, common half and quarter hours a representative
    zone, beyond ±14 nothing) and city names ignoring case, spaces and accents ('new york', 'São Paulo').
    """
    raw = text.strip()
    if not raw:
        return ZoneLookup(None, None)
    squeezed = re.sub(r"\s+", "", raw.lower()).replace("\u2212", "-")  # U+2212 is the minus sign
    if squeezed in _UTC_NAMES:
        return ZoneLookup(ZoneInfo("UTC"), "UTC")
    offset = _parse_offset(squeezed)
    if offset is not None:
        return offset
    name = _exact_names().get(raw.lower()) or _folded_names().get(_fold(raw))
    if name is not None:
        return ZoneLookup(ZoneInfo(name), name)
    folded = _folded_names()
    close = difflib.get_close_matches(_fold(raw), list(folded), n=9, cutoff=0.6)
    return ZoneLookup(None, None, tuple(dict.fromkeys(folded[c] for c in close))[:3])
