"""Reminder due-time arithmetic and the parsing of times and time zones people type. Pure.

DST rules: a local time that does not exist on a spring-forward day fires at the first valid minute
after the gap; an ambiguous local time on a fall-back day fires once, at its first occurrence.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

_TIME = re.compile(r"^(\d{1,2})(?:\s*[:.h]\s*(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})$")
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$")
# Offsets that are not whole hours, each with a representative IANA zone.
_ODD_OFFSETS = {
    (5, 30): "Asia/Kolkata",
    (5, 45): "Asia/Kathmandu",
    (9, 30): "Australia/Darwin",
    (-3, -30): "America/St_Johns",
    (3, 30): "Asia/Tehran",
    (6, 30): "Asia/Yangon",
    (10, 30): "Australia/Lord_Howe",
    (12, 45): "Pacific/Chatham",
    (-9, -30): "Pacific/Marquesas",
    (4, 30): "Asia/Kabul",
    (8, 45): "Australia/Eucla",
}


def occurrence_on(local_day: date, local_time: time, tz: ZoneInfo) -> datetime:
    """The instant (UTC) at which ``local_time`` happens on ``local_day`` in ``tz``."""
    wall = datetime.combine(local_day, local_time, tzinfo=tz).replace(fold=0)
    instant = wall.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall.replace(tzinfo=None):
        # The wall time does not exist (a spring-forward gap): take the first valid minute after it.
        probe = wall.replace(second=0, microsecond=0)
        for _ in range(24 * 60):
            probe = (probe.replace(tzinfo=None) + timedelta(minutes=1)).replace(tzinfo=tz)
            if probe.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == probe.replace(tzinfo=None):
                return probe.astimezone(UTC)
    return instant


def next_occurrence(local_time: time, tz: ZoneInfo, after: datetime) -> datetime:
    """The first instant strictly after ``after`` at which the wall clock in ``tz`` shows ``local_time``."""
    day = after.astimezone(tz).date() - timedelta(days=1)
    for offset in range(4):
        candidate = occurrence_on(day + timedelta(days=offset), local_time, tz)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a local time occurs at least once every two days")


def local_date(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def zone_label(name: str) -> str:
    """A zone name for people: 'Etc/GMT-2' (POSIX signs are inverted) reads 'UTC+2'."""
    match = re.fullmatch(r"Etc/GMT([+-])(\d+)", name)
    if match:
        return f"UTC{'-' if match.group(1) == '+' else '+'}{match.group(2)}"
    return name


def format_local(at: datetime, tz: ZoneInfo) -> str:
    """E.g. 'Tue 24 Nov, 07:30 (Europe/Berlin)'."""
    local = at.astimezone(tz)
    return f"{local:%a %d %b, %H:%M} ({zone_label(tz.key)})"


def parse_time(text: str) -> time | None:
    """A forgiving time of day: 07:30, 7:30, 07.30, 7h30, 0730, 7, 7am, 7:30pm, 19:15."""
    text = text.strip().lower()
    compact = _COMPACT.match(text)
    if compact:
        text = f"{compact.group(1)}:{compact.group(2)}"
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


@dataclass(frozen=True, slots=True)
class ZoneLookup:
    zone: ZoneInfo | None
    name: str | None
    suggestions: tuple[str, ...] = ()


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[\s_\-]+", "", text)


@cache
def _zones() -> dict[str, str]:
    """Folded IANA names and city names → canonical zone name."""
    names: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        if zone.startswith(("Etc/", "SystemV/", "posix/", "right/")) or "/" not in zone:
            continue
        names.setdefault(_fold(zone), zone)
    for zone in sorted(available_timezones()):
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            names.setdefault(_fold(zone.rsplit("/", 1)[1]), zone)
    names["utc"] = names["gmt"] = names["z"] = "UTC"
    return names


def parse_timezone(text: str) -> ZoneLookup:
    """IANA names in any case, UTC/GMT offsets (UTC+2, UTC-03:30, +05:45) and city names (Berlin)."""
    raw = text.strip()
    if not raw:
        return ZoneLookup(None, None)
    offset = _OFFSET.match(raw.lower().replace(" ", ""))
    if offset and raw.lower().lstrip()[:1] in "ug+-":
        sign = 1 if offset.group(1) == "+" else -1
        hours, minutes = int(offset.group(2)), int(offset.group(3) or 0)
        if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
            return ZoneLookup(None, None)
        if minutes == 0:
            if hours == 0:
                return ZoneLookup(ZoneInfo("UTC"), "UTC")
            name = f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"  # POSIX: the sign is inverted
            return ZoneLookup(ZoneInfo(name), name)
        odd = _ODD_OFFSETS.get((sign * hours, sign * minutes))
        return ZoneLookup(ZoneInfo(odd), odd) if odd else ZoneLookup(None, None)
    zones = _zones()
    folded = _fold(raw)
    if folded in zones:
        name = zones[folded]
        return ZoneLookup(ZoneInfo(name), name)
    close = difflib.get_close_matches(folded, list(zones), n=6, cutoff=0.6)
    suggestions = tuple(dict.fromkeys(zones[c] for c in close))[:3]
    return ZoneLookup(None, None, suggestions)
