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
    zone_label,
)

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
AUCKLAND = ZoneInfo("Pacific/Auckland")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_ordinary_day() -> None:
    assert next_occurrence(time(7, 30), BERLIN, utc(2026, 11, 24, 5)) == utc(2026, 11, 24, 6, 30)
    assert next_occurrence(time(7, 30), BERLIN, utc(2026, 11, 24, 6, 29, 59)) == utc(2026, 11, 24, 6, 30)


def test_after_exactly_the_occurrence_gives_the_next_day() -> None:
    assert next_occurrence(time(7, 30), BERLIN, utc(2026, 11, 24, 6, 30)) == utc(2026, 11, 25, 6, 30)
    exact = utc(2026, 11, 24, 6, 30).astimezone(BERLIN)  # the same instant, written in Berlin time
    assert next_occurrence(time(7, 30), BERLIN, exact) == utc(2026, 11, 25, 6, 30)


def test_the_result_is_utc_and_naive_input_is_refused() -> None:
    assert next_occurrence(time(7, 30), BERLIN, utc(2026, 11, 24, 5)).tzinfo is UTC
    assert occurrence_on(date(2026, 11, 24), time(7, 30), BERLIN).tzinfo is UTC
    with pytest.raises(ValueError):
        next_occurrence(time(7, 30), BERLIN, datetime(2026, 11, 24, 5))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError):
        local_date(datetime(2026, 11, 24, 5), BERLIN)  # noqa: DTZ001 - naive on purpose


def test_spring_forward_gap_fires_at_the_first_valid_minute() -> None:
    # 2026-03-29: Berlin jumps from 02:00 to 03:00, so 02:30 does not exist
    assert occurrence_on(date(2026, 3, 29), time(2, 30), BERLIN) == utc(2026, 3, 29, 1, 0)
    assert occurrence_on(date(2026, 3, 29), time(2, 0), BERLIN) == utc(2026, 3, 29, 1, 0)
    assert occurrence_on(date(2026, 3, 29), time(3, 0), BERLIN) == utc(2026, 3, 29, 1, 0)
    assert occurrence_on(date(2026, 3, 29), time(1, 59), BERLIN) == utc(2026, 3, 29, 0, 59)
    # 2026-03-08: New York jumps from 02:00 to 03:00
    assert occurrence_on(date(2026, 3, 8), time(2, 15), NEW_YORK) == utc(2026, 3, 8, 7, 0)
    # 2026-09-27: Auckland jumps from 02:00 to 03:00 (NZST +12 → NZDT +13)
    assert occurrence_on(date(2026, 9, 27), time(2, 30), AUCKLAND) == utc(2026, 9, 26, 14, 0)


def test_next_occurrence_through_the_spring_forward_day() -> None:
    wall = time(2, 30)
    day_before = occurrence_on(date(2026, 3, 28), wall, BERLIN)
    gap_day = next_occurrence(wall, BERLIN, day_before)
    assert gap_day == utc(2026, 3, 29, 1, 0) and gap_day.astimezone(BERLIN).time() == time(3, 0)
    assert next_occurrence(wall, BERLIN, gap_day) == utc(2026, 3, 30, 0, 30)  # 02:30 CEST again


def test_fall_back_fires_once_at_the_first_occurrence() -> None:
    # 2026-10-25: Berlin goes from 03:00 CEST back to 02:00 CET, so 02:30 happens twice
    first = occurrence_on(date(2026, 10, 25), time(2, 30), BERLIN)
    assert first == utc(2026, 10, 25, 0, 30)
    assert next_occurrence(time(2, 30), BERLIN, first) == utc(2026, 10, 26, 1, 30)  # not at 01:30 UTC
    # 2026-11-01: New York goes from 02:00 EDT back to 01:00 EST
    first_ny = occurrence_on(date(2026, 11, 1), time(1, 30), NEW_YORK)
    assert first_ny == utc(2026, 11, 1, 5, 30)
    assert next_occurrence(time(1, 30), NEW_YORK, first_ny) == utc(2026, 11, 2, 6, 30)
    assert next_occurrence(time(1, 30), NEW_YORK, utc(2026, 11, 1, 5, 45)) == utc(2026, 11, 2, 6, 30)
    # 2026-04-05: Auckland goes from 03:00 NZDT back to 02:00 NZST
    assert occurrence_on(date(2026, 4, 5), time(2, 30), AUCKLAND) == utc(2026, 4, 4, 13, 30)


def test_a_daily_time_keeps_its_wall_clock_across_the_change() -> None:
    due, seen = utc(2026, 10, 22, 12), []
    for _ in range(6):
        due = next_occurrence(time(7, 30), BERLIN, due)
        seen.append((local_date(due, BERLIN).day, due.astimezone(BERLIN).time(), due.hour))
    assert [s[0] for s in seen] == [23, 24, 25, 26, 27, 28]
    assert {s[1] for s in seen} == {time(7, 30)}
    assert [s[2] for s in seen] == [5, 5, 6, 6, 6, 6]  # 07:30 CEST, then 07:30 CET


@pytest.mark.parametrize(
    ("zone", "local_day", "expected"),
    [
        ("Pacific/Auckland", date(2026, 11, 25), utc(2026, 11, 24, 18, 30)),  # +13 (NZDT)
        ("Pacific/Kiritimati", date(2026, 11, 25), utc(2026, 11, 24, 17, 30)),  # +14
        ("Pacific/Pago_Pago", date(2026, 11, 24), utc(2026, 11, 24, 18, 30)),  # -11
    ],
)
def test_both_sides_of_the_date_line(zone: str, local_day: date, expected: datetime) -> None:
    tz, after = ZoneInfo(zone), utc(2026, 11, 24, 12)
    due = next_occurrence(time(7, 30), tz, after)
    assert due == expected and due.astimezone(tz).time() == time(7, 30)
    assert local_date(due, tz) == local_day


def test_the_same_instant_is_a_different_day_across_the_date_line() -> None:
    noon = utc(2026, 11, 24, 12)
    assert local_date(noon, ZoneInfo("Pacific/Kiritimati")) == date(2026, 11, 25)  # 02:00
    assert local_date(noon, ZoneInfo("Pacific/Pago_Pago")) == date(2026, 11, 24)  # 01:00
    assert local_date(noon, AUCKLAND) == date(2026, 11, 25)


def test_a_skipped_day_gets_no_reminder_and_the_next_day_only_one() -> None:
    # Samoa skipped 2011-12-30 to move west of the date line (-10 → +14).
    apia = ZoneInfo("Pacific/Apia")
    first = next_occurrence(time(7, 30), apia, utc(2011, 12, 29, 17, 30))
    assert first == utc(2011, 12, 30, 17, 30) and first.astimezone(apia).date() == date(2011, 12, 31)
    assert local_date(next_occurrence(time(7, 30), apia, first), apia) == date(2012, 1, 1)


def test_local_date_around_midnight() -> None:
    assert local_date(utc(2026, 11, 24, 22, 59), BERLIN) == date(2026, 11, 24)
    assert local_date(utc(2026, 11, 24, 23, 0), BERLIN) == date(2026, 11, 25)
    assert local_date(utc(2026, 11, 25, 4, 59), NEW_YORK) == date(2026, 11, 24)
    assert local_date(utc(2026, 11, 25, 5, 0), NEW_YORK) == date(2026, 11, 25)
    assert local_date(utc(2026, 7, 24, 22, 0), BERLIN) == date(2026, 7, 25)  # summer: midnight is 22:00 UTC


def test_format_local() -> None:
    assert format_local(utc(2026, 11, 24, 6, 30), BERLIN) == "Tue 24 Nov, 07:30 (Europe/Berlin)"
    assert format_local(utc(2026, 11, 4, 23, 5), BERLIN) == "Thu 5 Nov, 00:05 (Europe/Berlin)"
    assert format_local(utc(2026, 11, 24, 6, 30), ZoneInfo("Etc/GMT-2")) == "Tue 24 Nov, 08:30 (UTC+2)"
    assert format_local(utc(2026, 11, 24, 6, 30), ZoneInfo("UTC")) == "Tue 24 Nov, 06:30 (UTC)"


def test_fixed_offsets_read_the_way_people_wrote_them() -> None:
    assert zone_label("Etc/GMT-2") == "UTC+2" and zone_label("Etc/GMT+5") == "UTC-5"
    assert zone_label("Etc/GMT-14") == "UTC+14" and zone_label("Etc/GMT-0") == "UTC"
    assert zone_label("Europe/Berlin") == "Europe/Berlin"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", time(7, 30)), ("7:30", time(7, 30)), ("07.30", time(7, 30)), ("7h30", time(7, 30)),
        ("0730", time(7, 30)), ("7", time(7)), ("7am", time(7)), ("7 am", time(7)), ("7:30pm", time(19, 30)),
        ("12am", time(0)), ("12pm", time(12)), ("19:15", time(19, 15)), (" 19:15 ", time(19, 15)),
        ("7h", time(7)), ("7 P.M.", time(19)), ("12:45am", time(0, 45)), ("0:00", time(0)), ("23:59", time(23, 59)),
        ("25:99", None), ("24:00", None), ("13pm", None), ("0am", None), ("tomorrow", None), ("", None),
        ("7:5", None), ("-1", None), ("7:60", None), ("2400", None), ("730", None), ("pm", None), ("7p", None),
    ],
)  # fmt: skip
def test_parse_time(text: str, expected: time | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Europe/Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"), ("EUROPE/BERLIN", "Europe/Berlin"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"), ("etc/gmt-2", "Etc/GMT-2"),
        ("Berlin", "Europe/Berlin"), ("new york", "America/New_York"), ("New_York", "America/New_York"),
        ("São Paulo", "America/Sao_Paulo"), ("sao paulo", "America/Sao_Paulo"), ("buenos aires", "America/Argentina/Buenos_Aires"),
        ("Singapore", "Asia/Singapore"),
        ("UTC", "UTC"), ("utc", "UTC"), ("gmt", "UTC"), ("UTC+0", "UTC"), ("Z", "UTC"),
        ("UTC+2", "Etc/GMT-2"), ("utc-5", "Etc/GMT+5"), ("GMT+10", "Etc/GMT-10"), ("+02:00", "Etc/GMT-2"),
        ("UTC + 2", "Etc/GMT-2"), ("UTC−3", "Etc/GMT+3"), ("UTC+14", "Etc/GMT-14"), ("UTC-12", "Etc/GMT+12"),
        ("UTC-03:30", "America/St_Johns"), ("GMT+5:45", "Asia/Kathmandu"), ("UTC+5:30", "Asia/Kolkata"),
        ("+0530", "Asia/Kolkata"), ("+09:30", "Australia/Darwin"), ("+03:30", "Asia/Tehran"),
        ("+06:30", "Asia/Yangon"), ("+10:30", "Australia/Lord_Howe"), ("+12:45", "Pacific/Chatham"),
        ("-09:30", "Pacific/Marquesas"),
    ],
)  # fmt: skip
def test_parse_timezone(text: str, name: str) -> None:
    found = parse_timezone(text)
    assert found.name == name and found.zone == ZoneInfo(name) and found.suggestions == ()


def test_whole_hour_offsets_are_fixed_zones_with_the_posix_sign() -> None:
    found = parse_timezone("UTC+2")
    assert found.zone is not None and found.zone.utcoffset(utc(2026, 7, 1)) == timedelta(hours=2)
    assert found.zone.utcoffset(utc(2026, 1, 1)) == timedelta(hours=2)  # no daylight saving time
    assert found.name is not None and zone_label(found.name) == "UTC+2"


@pytest.mark.parametrize(
    "text", ["Atlantis/Nowhere", "UTC+15", "UTC-14:30", "UTC-13", "+07:30", "UTC+2:75", "EST", "", "   "]
)
def test_no_zone(text: str) -> None:
    found = parse_timezone(text)
    assert found.zone is None and found.name is None and len(found.suggestions) <= 3


@pytest.mark.parametrize(
    ("text", "suggested"),
    [("berln", "Europe/Berlin"), ("Moskow", "Europe/Moscow"), ("Los angles", "America/Los_Angeles")],
)
def test_unknown_zone_gives_suggestions_not_a_zone(text: str, suggested: str) -> None:
    found = parse_timezone(text)
    assert found.zone is None and suggested in found.suggestions and len(found.suggestions) <= 3


ZONES = [
    "Europe/Berlin", "America/New_York", "Pacific/Auckland", "Pacific/Kiritimati", "Pacific/Pago_Pago",
    "Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago", "Asia/Kolkata", "UTC",
]  # fmt: skip
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
    max_value=datetime(2028, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(hour=st.integers(0, 23), minute=st.integers(0, 59), zone=st.sampled_from(ZONES), after=instants)
def test_next_occurrence_properties(hour: int, minute: int, zone: str, after: datetime) -> None:
    tz, wanted = ZoneInfo(zone), time(hour, minute)
    due = next_occurrence(wanted, tz, after)
    assert after < due <= after + timedelta(hours=26)
    day = local_date(due, tz)
    assert due == occurrence_on(day, wanted, tz)
    assert occurrence_on(day - timedelta(days=1), wanted, tz) <= after  # none skipped in between
    local = due.astimezone(tz)
    if local.time() != wanted:  # only in a spring-forward gap: the first valid minute after it
        naive = datetime.combine(day, wanted)
        assert timedelta(0) < local.replace(tzinfo=None) - naive <= timedelta(hours=1)
        assert datetime.combine(day, wanted, tzinfo=tz).astimezone(UTC).astimezone(tz).time() != wanted
    following = next_occurrence(wanted, tz, due)
    assert local_date(following, tz) == day + timedelta(days=1)  # one a day, never twice


@given(hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_parse_time_reads_what_it_would_print(hour: int, minute: int) -> None:
    wanted = time(hour, minute)
    assert parse_time(f"{hour:02d}:{minute:02d}") == wanted
    assert parse_time(f"{hour}.{minute:02d}") == wanted
    assert parse_time(f"{hour:02d}{minute:02d}") == wanted
    assert parse_time(f"{(hour + 11) % 12 + 1}:{minute:02d} {'pm' if hour >= 12 else 'am'}") == wanted


@given(st.text(max_size=30))
def test_parse_timezone_never_raises(text: str) -> None:
    found = parse_timezone(text)
    assert (found.zone is None) == (found.name is None) and len(found.suggestions) <= 3
    if found.name is not None:
        assert found.zone == ZoneInfo(found.name)
