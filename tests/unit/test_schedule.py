"""Reminder due times across DST and the date line, and the parsing of times and zones people type."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.schedule import (
    format_local,
    local_date,
    next_occurrence,
    occurrence_on,
    parse_time,
    parse_timezone,
)

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_ordinary_day() -> None:
    assert next_occurrence(time(7, 30), BERLIN, utc(2026, 11, 24, 5)) == utc(2026, 11, 24, 6, 30)
    assert next_occurrence(time(7, 30), BERLIN, utc(2026, 11, 24, 6, 30)) == utc(
        2026, 11, 25, 6, 30
    )  # strictly after


def test_spring_forward_gap_fires_at_the_first_valid_minute() -> None:
    # 2026-03-29: Berlin jumps from 02:00 to 03:00, so 02:30 does not exist
    assert occurrence_on(date(2026, 3, 29), time(2, 30), BERLIN) == utc(2026, 3, 29, 1, 0)
    # 2026-03-08: New York jumps from 02:00 to 03:00
    assert occurrence_on(date(2026, 3, 8), time(2, 15), NEW_YORK) == utc(2026, 3, 8, 7, 0)


def test_fall_back_fires_once_at_the_first_occurrence() -> None:
    first = occurrence_on(date(2026, 10, 25), time(2, 30), BERLIN)
    assert first == utc(2026, 10, 25, 0, 30)
    after_first = next_occurrence(time(2, 30), BERLIN, first)
    assert after_first == utc(2026, 10, 26, 1, 30)  # not again at 01:30 UTC the same day
    assert occurrence_on(date(2026, 11, 1), time(1, 30), NEW_YORK) == utc(2026, 11, 1, 5, 30)


@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        ("Pacific/Auckland", utc(2026, 11, 24, 12), utc(2026, 11, 24, 18, 30)),  # 07:30 NZDT on the 25th
        ("Pacific/Kiritimati", utc(2026, 11, 24, 12), utc(2026, 11, 24, 17, 30)),  # +14
        ("Pacific/Pago_Pago", utc(2026, 11, 24, 12), utc(2026, 11, 24, 18, 30)),  # -11, 07:30 on the 24th
    ],
)
def test_both_sides_of_the_date_line(zone: str, after: datetime, expected: datetime) -> None:
    due = next_occurrence(time(7, 30), ZoneInfo(zone), after)
    assert due == expected and due.astimezone(ZoneInfo(zone)).time() == time(7, 30)


def test_local_date_around_midnight() -> None:
    assert local_date(utc(2026, 11, 24, 22, 59), BERLIN) == date(2026, 11, 24)
    assert local_date(utc(2026, 11, 24, 23, 0), BERLIN) == date(2026, 11, 25)
    assert format_local(utc(2026, 11, 24, 6, 30), BERLIN) == "Tue 24 Nov, 07:30 (Europe/Berlin)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", time(7, 30)), ("7:30", time(7, 30)), ("07.30", time(7, 30)), ("7h30", time(7, 30)),
        ("0730", time(7, 30)), ("7", time(7)), ("7am", time(7)), ("7 am", time(7)), ("7:30pm", time(19, 30)),
        ("12am", time(0)), ("12pm", time(12)), ("19:15", time(19, 15)), (" 19:15 ", time(19, 15)),
        ("25:99", None), ("24:00", None), ("13pm", None), ("tomorrow", None), ("", None), ("7:5", None), ("-1", None),
    ],
)  # fmt: skip
def test_parse_time(text: str, expected: time | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Europe/Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"), ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"), ("São Paulo", "America/Sao_Paulo"), ("UTC", "UTC"), ("gmt", "UTC"),
        ("UTC+2", "Etc/GMT-2"), ("utc-5", "Etc/GMT+5"), ("+02:00", "Etc/GMT-2"), ("UTC-03:30", "America/St_Johns"),
        ("GMT+5:45", "Asia/Kathmandu"), ("UTC+5:30", "Asia/Kolkata"),
    ],
)  # fmt: skip
def test_parse_timezone(text: str, name: str) -> None:
    found = parse_timezone(text)
    assert found.name == name and found.zone is not None


@pytest.mark.parametrize("text", ["Atlantis/Nowhere", "UTC+15", "berln", ""])
def test_unknown_zone_gives_suggestions_not_a_zone(text: str) -> None:
    found = parse_timezone(text)
    assert found.zone is None and len(found.suggestions) <= 3
    if text == "berln":
        assert "Europe/Berlin" in found.suggestions


@given(
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    zone=st.sampled_from(
        ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "UTC"]
    ),
    after=st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2028, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_next_occurrence_properties(hour: int, minute: int, zone: str, after: datetime) -> None:
    tz, wanted = ZoneInfo(zone), time(hour, minute)
    due = next_occurrence(wanted, tz, after)
    assert after < due <= after + timedelta(hours=26)
    local = due.astimezone(tz)
    if local.time() != wanted:  # only in a spring-forward gap: the first valid minute after it
        naive = datetime.combine(local.date(), wanted)
        assert local.replace(tzinfo=None) > naive and local.replace(tzinfo=None) - naive <= timedelta(hours=1)


def test_fixed_offsets_read_the_way_people_wrote_them() -> None:
    from bot.domain.schedule import zone_label

    assert zone_label("Etc/GMT-2") == "UTC+2" and zone_label("Etc/GMT+5") == "UTC-5"
    assert zone_label("Europe/Berlin") == "Europe/Berlin"
    assert format_local(utc(2026, 11, 24, 6, 30), ZoneInfo("Etc/GMT-2")) == "Tue 24 Nov, 08:30 (UTC+2)"
