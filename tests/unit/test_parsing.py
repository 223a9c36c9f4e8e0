"""Strict numbers (bot.parsing) and replies that stay inside Telegram's limits (bot.text)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing import MAX_DIGITS, has_foreign_digits, parse_int, parse_time_of_day, parse_zone
from bot.text import (
    ELLIPSIS,
    EXCERPT_CHARS,
    MESSAGE_LIMIT,
    escape,
    excerpt,
    fit,
    fit_plain,
    utf16_len,
    visible_length,
)
from tests.harness.fake_api import parse_html
from tests.harness.fake_api import utf16_len as telegram_utf16_len

# --- parse_int -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("7", 7), ("07", 7), (" 10 ", 10), ("30", 30), ("-1", None), ("31", None), ("-0", 0)],
)
def test_parse_int_reads_ascii_numbers_in_range(text: str, expected: int | None) -> None:
    assert parse_int(text, 0, 30) == expected


@pytest.mark.parametrize(
    "text",
    [
        "²",
        "①",
        "٣",
        "３",
        "1_0",
        "+5",
        "7.5",
        "7,5",
        "1e3",
        "0x10",
        "",
        " ",
        "five",
        "5 5",
        "9" * 5000,
        "²" * 5000,
    ],
)
def test_parse_int_refuses_everything_else(text: str) -> None:
    assert parse_int(text, -(10**30), 10**30) is None


def test_parse_int_refuses_numbers_longer_than_any_it_asks_for() -> None:
    assert parse_int("1" * MAX_DIGITS, 0, 10**30) == int("1" * MAX_DIGITS)
    assert parse_int("1" * (MAX_DIGITS + 1), 0, 10**30) is None


@given(st.text(max_size=5000), st.integers(-100, 100), st.integers(-100, 100))
def test_parse_int_never_raises_and_stays_in_range(text: str, low: int, high: int) -> None:
    number = parse_int(text, low, high)
    if number is not None:
        assert low <= number <= high
        assert text.strip().lstrip("-").isascii()


@given(st.integers(0, 10**17))
def test_parse_int_round_trips_every_number(number: int) -> None:
    assert parse_int(str(number), 0, 10**17) == number


def test_foreign_digits() -> None:
    assert has_foreign_digits("²") and has_foreign_digits("٠٧:٣٠") and has_foreign_digits("½")
    assert not has_foreign_digits("07:30 pm") and not has_foreign_digits("Europe/Berlin")


def test_time_and_zone_wrappers_refuse_foreign_digits_and_essays() -> None:
    assert parse_time_of_day("07:30") is not None
    assert parse_time_of_day("٠٧:٣٠") is None and parse_time_of_day("7" * 4000) is None
    assert parse_zone("UTC+2").name is not None and parse_zone("Berlin").name == "Europe/Berlin"
    assert parse_zone("UTC+٢").zone is None and parse_zone("Berlin " * 500).zone is None


# --- excerpt ---------------------------------------------------------------------------------------


def test_excerpt_cuts_before_escaping() -> None:
    assert excerpt("&" * 100) == "&amp;" * EXCERPT_CHARS + ELLIPSIS
    assert excerpt("<b>") == "&lt;b&gt;"
    assert excerpt("short") == "short"


def test_excerpt_is_one_line_without_controls_or_bidi_overrides() -> None:
    assert excerpt("a\nb\t c\x00d\u202ee") == "a b cde"


def test_excerpt_does_not_end_on_a_joiner() -> None:
    family = "👨\u200d👩\u200d👧"
    quoted = excerpt("x" * (EXCERPT_CHARS - 2) + family)
    assert not quoted.removesuffix(ELLIPSIS).endswith("\u200d")


@given(st.text(max_size=4096), st.integers(1, 100))
def test_excerpt_is_short_valid_html(text: str, limit: int) -> None:
    quoted = excerpt(text, limit)
    plain, entities = parse_html(quoted)
    assert not entities
    assert len(plain) <= limit + 1
    assert "\n" not in plain


# --- fit -------------------------------------------------------------------------------------------


def test_fit_leaves_texts_within_the_limit_alone() -> None:
    text = "<b>" + "x" * MESSAGE_LIMIT + "</b>"  # 4,103 characters, 4,096 visible
    assert fit(text) == text


def test_fit_closes_open_tags_and_counts_emoji_as_two() -> None:
    text = "<b>Title</b>\n<i>" + "😀" * 3000 + "</i>"
    cut = fit(text)
    plain, _ = parse_html(cut)
    assert telegram_utf16_len(plain) <= MESSAGE_LIMIT
    assert cut.endswith(ELLIPSIS + "</i>")


def test_fit_never_splits_an_entity() -> None:
    cut = fit("&amp;" * 100, 10)
    assert cut == "&amp;" * 9 + ELLIPSIS
    assert visible_length(cut) == 10


def test_fit_plain() -> None:
    assert fit_plain("x" * 200) == "x" * 200
    assert fit_plain("x" * 201) == "x" * 199 + ELLIPSIS
    assert utf16_len(fit_plain("😀" * 150)) <= 200


_PIECES = st.one_of(
    st.text(max_size=300).map(escape),
    st.sampled_from(["<b>", "</b>", "<i>", "</i>", '<a href="https://example.com/?a=1&amp;b=2">', "</a>"]),
)


def _balanced(pieces: list[str]) -> str:
    """Pieces glued into HTML Telegram accepts: stray closers dropped, open tags closed at the end."""
    out, stack = [], []
    for piece in pieces:
        if piece.startswith("</"):
            if stack and stack[-1] == piece[2:-1]:
                out.append(piece)
                stack.pop()
        elif piece.startswith("<"):
            name = piece[1:].split(">")[0].split()[0]
            if name in stack:
                continue
            stack.append(name)
            out.append(piece)
        else:
            out.append(piece)
    return "".join(out) + "".join(f"</{name}>" for name in reversed(stack))


@settings(max_examples=150)
@given(st.lists(_PIECES, max_size=40), st.integers(1, 600))
def test_fit_keeps_any_html_valid_and_within_the_limit(pieces: list[str], limit: int) -> None:
    text = _balanced(pieces)
    cut = fit(text, limit)
    plain, _ = parse_html(cut)
    assert telegram_utf16_len(plain) <= limit
    assert visible_length(cut) == telegram_utf16_len(plain)
    if visible_length(text) <= limit:
        assert cut == text
